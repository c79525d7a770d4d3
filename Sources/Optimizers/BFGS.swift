import OptimusNumerics

/// BFGS with a dense inverse-Hessian approximation H (Nocedal & Wright, Algorithm 6.1).
///
/// Each iteration: d = −H·g, a line search for α (strong Wolfe by default), x ← x + α·d, then with s = α·d,
/// y = g₊ − g and ρ = 1/yᵀs,
///
///     H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
///       = H − ρ (H y sᵀ + s yᵀH) + (ρ² yᵀH y + ρ) s sᵀ,
///
/// applied as one `gemv` and three rank-one `ger` updates (O(d²), through BLAS). Before the first update H is scaled
/// to (yᵀs / yᵀy)·I (Nocedal & Wright eq. 6.20); scipy does not do this, which is one reason its BFGS stalls on badly
/// scaled problems. Pairs with yᵀs ≤ √ε‖s‖‖y‖ are skipped. When d is not a descent direction, or a line search fails
/// along a quasi-Newton direction, H is reset to I and the iteration restarts along −g.
///
/// Memory: d² Doubles (8 MB at d = 1000). For large d prefer ``LBFGS``.
public struct BFGS: Optimizer, Equatable, Codable {
    public var name: String { "bfgs" }
    /// The line search. Default strong Wolfe (c₁ = 1e−4, c₂ = 0.9).
    public var lineSearch: LineSearchMethod

    public init(lineSearch: LineSearchMethod = .strongWolfe) { self.lineSearch = lineSearch }

    /// A line-search descent method: no decrease is no progress (``StallDetection``).
    public var detectsStalls: Bool { true }

    /// 8·d² for H (updated in place, never copied) and 16 vectors of d Doubles.
    public func memoryBytes(dimension d: Int) -> Int { MemoryBudget.bytes(squared: 8, perCoordinate: 8 * 16, dimension: d) }

    public typealias State = QuasiNewtonState<DenseInverseHessian>

    public func makeState(start x0: [Double]) -> State {
        State(point: x0, iterate: x0, model: DenseInverseHessian(dimension: x0.count))
    }

    public func update(_ state: inout State, value: Double, gradient: [Double]) -> OptimizerEvent {
        QuasiNewtonEngine.update(&state, value: value, gradient: gradient, lineSearch: lineSearch)
    }
}

/// The dense inverse-Hessian approximation of ``BFGS``.
public struct DenseInverseHessian: CurvatureModel {
    /// H, symmetric positive definite.
    public private(set) var matrix: Matrix<Double>
    public private(set) var isIdentity = true

    public init(dimension: Int) { matrix = .identity(dimension) }

    public func direction(for gradient: [Double]) -> [Double] {
        var d = [Double](repeating: 0, count: gradient.count)
        BLAS.gemv(matrix, gradient, into: &d, alpha: -1)
        return d
    }

    public mutating func update(step s: [Double], gradientChange y: [Double]) -> Bool {
        let sy = s.dot(y)
        guard acceptableCurvature(sy, s, y) else { return false }
        let rho = 1 / sy
        if isIdentity {
            let yy = y.dot(y)
            matrix.setIdentity(scaledBy: sy / yy)  // in place: a new matrix would double the peak memory
            isIdentity = false
        }
        let hy = BLAS.gemv(matrix, y)
        let yhy = y.dot(hy)
        BLAS.ger(-rho, hy, s, &matrix)
        BLAS.ger(-rho, s, hy, &matrix)
        BLAS.ger(rho * rho * yhy + rho, s, s, &matrix)
        return true
    }

    public mutating func reset() {
        matrix.setIdentity()
        isIdentity = true
    }
}
