/// A function f: ℝᵈ → ℝ to minimize, with its gradient.
///
/// Conforming types implement ``valueAndGradient(at:gradient:)``; ``value(at:)`` has a default that discards the
/// gradient and should be overridden where the value alone is cheaper.
///
/// **Non-finite values.** A value of `NaN` or `±∞` means "not evaluable here" (outside the domain, overflow, a failed
/// simulation). Optimizers treat it as a reported outcome: line searches shrink the step, first-order methods stop
/// with ``TerminationReason/nonFiniteObjective`` and return the best finite point. An objective never needs to throw.
///
/// Objectives are `Sendable` so that evaluations (tuning grids, evaluation suites, PES particles) can run on every core.
public protocol Objective: Sendable {
    /// The number of variables d.
    var dimension: Int { get }

    /// f(x). `x.count == dimension`.
    func value(at x: [Double]) -> Double

    /// f(x), writing ∇f(x) into `gradient` (which has `dimension` elements on entry; its old contents are ignored).
    func valueAndGradient(at x: [Double], gradient: inout [Double]) -> Double
}

extension Objective {
    public func value(at x: [Double]) -> Double {
        var g = [Double](repeating: 0, count: dimension)
        return valueAndGradient(at: x, gradient: &g)
    }

    /// f(x) and ∇f(x) as a new array.
    public func valueAndGradient(at x: [Double]) -> (value: Double, gradient: [Double]) {
        var g = [Double](repeating: 0, count: dimension)
        let f = valueAndGradient(at: x, gradient: &g)
        return (f, g)
    }

    /// ∇f(x) as a new array.
    public func gradient(at x: [Double]) -> [Double] { valueAndGradient(at: x).gradient }
}

/// An objective given by two closures: the value and the value with gradient.
///
/// ```swift
/// let quadratic = ClosureObjective(dimension: 2) { x, g in
///     g[0] = 2 * x[0]; g[1] = 20 * x[1]
///     return x[0] * x[0] + 10 * x[1] * x[1]
/// }
/// ```
public struct ClosureObjective: Objective {
    public let dimension: Int
    private let body: @Sendable ([Double], inout [Double]) -> Double

    /// An objective whose closure returns f(x) and writes ∇f(x) into its second argument.
    public init(dimension: Int, _ valueAndGradient: @escaping @Sendable ([Double], inout [Double]) -> Double) {
        self.dimension = dimension
        self.body = valueAndGradient
    }

    public func valueAndGradient(at x: [Double], gradient: inout [Double]) -> Double { body(x, &gradient) }
}
