import OptimusNumerics

/// Limited-memory BFGS (Nocedal & Wright, Algorithms 7.4 and 7.5): H·g by the two-loop recursion over the last
/// `memory` pairs (s, y), with H₀ = γ·I, γ = sᵀy / yᵀy of the newest pair.
///
/// O(m·d) time and memory per iteration. Line search, skipping rule and resets as in ``BFGS``. Unlike scipy's
/// L-BFGS-B this is the unconstrained method (no bounds), which is what the paper's benchmark needs.
public struct LBFGS: Optimizer, Equatable, Codable {
    public var name: String { "lbfgs" }
    /// Number of pairs kept, m ≥ 1. Default 10.
    public var memory: Int
    /// The line search. Default strong Wolfe (c₁ = 1e−4, c₂ = 0.9).
    public var lineSearch: LineSearchMethod

    public init(memory: Int = 10, lineSearch: LineSearchMethod = .strongWolfe) {
        precondition(memory >= 1, "LBFGS: memory must be at least 1")
        self.memory = memory
        self.lineSearch = lineSearch
    }

    /// A line-search descent method: no decrease is no progress (``StallDetection``).
    public var detectsStalls: Bool { true }

    /// 16·m·d for the m pairs (s, y) and 16 vectors of d Doubles.
    public func memoryBytes(dimension d: Int) -> Int {
        MemoryBudget.bytes(perCoordinate: Double(16 * memory + 8 * 16), dimension: d)
    }

    public typealias State = QuasiNewtonState<LimitedMemoryInverseHessian>

    public func makeState(start x0: [Double]) -> State {
        State(point: x0, iterate: x0, model: LimitedMemoryInverseHessian(memory: memory))
    }

    public func update(_ state: inout State, value: Double, gradient: [Double]) -> OptimizerEvent {
        QuasiNewtonEngine.update(&state, value: value, gradient: gradient, lineSearch: lineSearch)
    }
}

/// The limited-memory inverse Hessian of ``LBFGS``: the last m curvature pairs, oldest first.
public struct LimitedMemoryInverseHessian: CurvatureModel {
    /// m.
    public let memory: Int
    /// (s, y, ρ = 1/yᵀs), oldest first.
    public private(set) var pairs: [(s: [Double], y: [Double], rho: Double)] = []

    public init(memory: Int) { self.memory = memory }

    public var isIdentity: Bool { pairs.isEmpty }

    public func direction(for gradient: [Double]) -> [Double] {
        var q = gradient
        var alphas = [Double](repeating: 0, count: pairs.count)
        for i in pairs.indices.reversed() {
            let a = pairs[i].rho * pairs[i].s.dot(q)
            alphas[i] = a
            BLAS.axpy(-a, pairs[i].y, &q)
        }
        if let newest = pairs.last {
            BLAS.scale(1 / (newest.rho * newest.y.dot(newest.y)), &q)
        }
        for i in pairs.indices {
            let b = pairs[i].rho * pairs[i].y.dot(q)
            BLAS.axpy(alphas[i] - b, pairs[i].s, &q)
        }
        BLAS.scale(-1, &q)
        return q
    }

    public mutating func update(step s: [Double], gradientChange y: [Double]) -> Bool {
        let sy = s.dot(y)
        guard acceptableCurvature(sy, s, y) else { return false }
        if pairs.count == memory { pairs.removeFirst() }
        pairs.append((s, y, 1 / sy))
        return true
    }

    public mutating func reset() { pairs.removeAll() }
}
