import OptimusNumerics

/// A test-function formula on a box domain: what ``BenchmarkFunction`` and ``HeldOutFunction`` both provide.
public protocol TestFunctionFormula: RawRepresentable<String>, CaseIterable, Sendable {
    /// Human-readable name.
    var displayName: String { get }
    /// Whether the function is defined at `dimension`.
    func isValid(dimension: Int) -> Bool
    /// The known global minimum f*(d).
    func fStar(dimension d: Int) -> Double
    /// The domain box [lo, hi] of every coordinate at dimension d.
    func domain(dimension d: Int) -> ClosedRange<Double>
    /// f(x), writing ∇f(x) into `gradient` when it is given.
    func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double
}

extension TestFunctionFormula {
    /// The function called `name`: its raw value, or its display name, compared case-insensitively after every
    /// character of `separators` is read as `_` (the one lookup behind each formula's `init?(name:)`).
    static func named(_ name: String, separators: Set<Character>) -> Self? {
        func normalized(_ s: String) -> String {
            String(s.lowercased().map { separators.contains($0) ? "_" : $0 })
        }
        let key = normalized(name)
        if let f = Self(rawValue: key) { return f }
        return allCases.first { normalized($0.displayName) == key }
    }

    /// The raw values of all functions, comma-separated (for error messages).
    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// A test function at a fixed dimension shifted by an optional offset o: f_o(x) = f(x − o). The minimizer moves to
/// x* + o, f* is unchanged and the domain box moves along. One implementation of the shift, the domain box, random
/// starts and evaluation for ``BenchmarkObjective`` and ``HeldOutObjective``.
public protocol ShiftedTestFunction: Objective {
    associatedtype Formula: TestFunctionFormula
    var function: Formula { get }
    var dimension: Int { get }
    /// The shift o (length d), or nil for the unshifted function.
    var offset: [Double]? { get }
}

extension ShiftedTestFunction {
    /// Whether an objective of `function` at `dimension` can be built: the function is defined there and d is at most
    /// ``BenchmarkObjective/maximumDimension``.
    static func accepts(_ function: Formula, dimension: Int) -> Bool {
        function.isValid(dimension: dimension) && dimension <= BenchmarkObjective.maximumDimension
    }

    /// Throws unless `offset` is nil or d finite values.
    static func validate(offset: [Double]?, dimension: Int) throws(ObjectiveError) {
        guard let o = offset else { return }
        guard o.count == dimension else { throw .wrongLength(field: "offset", expected: dimension, actual: o.count) }
        guard o.allSatisfy(\.isFinite) else { throw .nonFinite(field: "offset") }
    }

    /// The known global minimum f*(d) (unchanged by the offset).
    public var fStar: Double { function.fStar(dimension: dimension) }

    /// A point of the unshifted function moved by the offset (x + o), e.g. its minimizer.
    func shifted(_ x: [Double]) -> [Double] {
        guard let o = offset else { return x }
        return zip(x, o).map { $0 + $1 }
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

    /// `body` on x − o (on x itself when there is no offset).
    @inline(__always)
    func withShifted<R>(_ x: [Double], _ body: (UnsafeBufferPointer<Double>) -> R) -> R {
        guard let o = offset else { return x.withUnsafeBufferPointer(body) }
        var s = x
        for i in s.indices { s[i] -= o[i] }
        return s.withUnsafeBufferPointer(body)
    }
}

extension BenchmarkFunction: TestFunctionFormula {}
extension HeldOutFunction: TestFunctionFormula {}
extension BenchmarkObjective: ShiftedTestFunction {}
extension HeldOutObjective: ShiftedTestFunction {}
