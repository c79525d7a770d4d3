import OptimusNumerics

/// A benchmark function at a fixed dimension, optionally shifted by a random offset.
///
/// With offset o the objective is f_o(x) = f(x − o): the minimizer moves to x* + o, f* is unchanged, and the domain
/// moves with it (`[lo + oᵢ, hi + oᵢ]` per coordinate), so Michalewicz's and Schwefel's on-box f* stay valid.
/// This is the paper's "random offsets" for training distributions (Section 5.1).
public struct BenchmarkObjective: Objective, Hashable, Codable {
    /// The largest dimension accepted (a dense d×d BFGS matrix at this size takes 8 GiB).
    public static let maximumDimension = 32_768

    /// Which function.
    public let function: BenchmarkFunction
    /// Number of variables d.
    public let dimension: Int
    /// The shift o (length d), or nil for the unshifted function.
    public let offset: [Double]?

    /// A benchmark objective; throws ``ObjectiveError`` for an invalid dimension or offset.
    public init(_ function: BenchmarkFunction, dimension: Int, offset: [Double]? = nil) throws(ObjectiveError) {
        guard function.isValid(dimension: dimension), dimension <= Self.maximumDimension else {
            throw .invalidDimension(function: function, dimension: dimension)
        }
        if let o = offset {
            guard o.count == dimension else { throw .wrongLength(field: "offset", expected: dimension, actual: o.count) }
            guard o.allSatisfy(\.isFinite) else { throw .nonFinite(field: "offset") }
        }
        self.function = function
        self.dimension = dimension
        self.offset = offset
    }

    /// Looks the function up by name (see ``BenchmarkFunction/init(name:)``).
    public init(name: String, dimension: Int, offset: [Double]? = nil) throws(ObjectiveError) {
        guard let f = BenchmarkFunction(name: name) else { throw .unknownFunction(name) }
        try self.init(f, dimension: dimension, offset: offset)
    }

    /// The known global minimum f*(d) (on the domain box for Michalewicz and Schwefel).
    public var fStar: Double { function.fStar(dimension: dimension) }

    /// A global minimizer x* (+ offset).
    public var minimizer: [Double] {
        let m = function.minimizer(dimension: dimension)
        guard let o = offset else { return m }
        return zip(m, o).map { $0 + $1 }
    }

    /// Per-coordinate lower and upper bounds of the (shifted) domain.
    public var bounds: (lower: [Double], upper: [Double]) {
        let r = function.domain(dimension: dimension)
        let o = offset ?? [Double](repeating: 0, count: dimension)
        return (o.map { r.lowerBound + $0 }, o.map { r.upperBound + $0 })
    }

    /// A start drawn uniformly from the (shifted) domain: xᵢ = loᵢ + (hiᵢ − loᵢ)·uᵢ, uᵢ from `generator`.
    public func randomStart<G: RandomNumberGenerator>(using generator: inout G) -> [Double] {
        let r = function.domain(dimension: dimension)
        return (0..<dimension).map { i in
            generator.uniform(r.lowerBound, r.upperBound) + (offset?[i] ?? 0)
        }
    }

    /// Whether x lies in the (shifted) domain box.
    public func isInDomain(_ x: [Double]) -> Bool {
        let r = function.domain(dimension: dimension)
        return x.indices.allSatisfy { i in r.contains(x[i] - (offset?[i] ?? 0)) }
    }

    public func value(at x: [Double]) -> Double {
        precondition(x.count == dimension, "\(function.rawValue): x has \(x.count) values, expected \(dimension)")
        return withShifted(x) { function.evaluate($0, gradient: nil) }
    }

    public func valueAndGradient(at x: [Double], gradient: inout [Double]) -> Double {
        precondition(x.count == dimension, "\(function.rawValue): x has \(x.count) values, expected \(dimension)")
        if gradient.count != dimension { gradient = [Double](repeating: 0, count: dimension) }
        return withShifted(x) { xs in
            gradient.withUnsafeMutableBufferPointer { g in function.evaluate(xs, gradient: g) }
        }
    }

    @inline(__always)
    private func withShifted<R>(_ x: [Double], _ body: (UnsafeBufferPointer<Double>) -> R) -> R {
        guard let o = offset else { return x.withUnsafeBufferPointer(body) }
        var s = x
        for i in s.indices { s[i] -= o[i] }
        return s.withUnsafeBufferPointer(body)
    }
}
