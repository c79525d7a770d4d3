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

    /// ∇²f(x)·v (length `dimension`).
    ///
    /// The default is ``finiteDifferenceHessianVectorProduct(at:direction:)`` (two gradient evaluations, relative
    /// accuracy about 1e−5 to 1e−6 on smooth functions). Conforming types with second derivatives at hand override
    /// it: ``BenchmarkObjective`` (analytic, O(d)), ``ScaledObjective`` (chain rule) and ``CountingObjective``
    /// (forwards to its base). Being a requirement, calls through `any Objective` or a generic `some Objective`
    /// reach the override.
    func hessianVectorProduct(at x: [Double], direction v: [Double]) -> [Double]
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

    /// The generic fallback: ``finiteDifferenceHessianVectorProduct(at:direction:)``.
    public func hessianVectorProduct(at x: [Double], direction v: [Double]) -> [Double] {
        finiteDifferenceHessianVectorProduct(at: x, direction: v)
    }

    /// ∇²f(x)·v by a central difference of the gradient along v, for any objective:
    ///
    ///     v̂ = v/‖v‖₂,   h = ε^{1/3}·max(1, ‖x‖∞),   ε = 2.2e−16 (so h ≈ 6.1e−6·max(1, ‖x‖∞))
    ///     ∇²f(x)·v ≈ (∇f(x + h·v̂) − ∇f(x − h·v̂)) / (2h) · ‖v‖₂
    ///
    /// and exactly 0 for v = 0. Costs two gradient evaluations and O(d) memory.
    ///
    /// **Accuracy.** Normalizing v makes the step independent of the length of v. The truncation error is
    /// h²/6·‖∇⁴f[v̂, v̂, v̂, ·]‖ = O(h²·‖∇⁴f‖) (the third derivative of ∇f along v̂), the rounding error
    /// O(ε·|∇f|/h) (two nearly equal gradients are subtracted); h = ε^{1/3} balances the two at ε^{2/3} ≈ 4e−11 times
    /// the size of the derivatives. The factor max(1, ‖x‖∞) keeps the step well above the rounding of x + h·v̂
    /// (ε·|xᵢ|) and grows it with x for functions whose gradient grows with |x|. The ratios ‖∇f‖/‖∇²f‖ and
    /// ‖∇⁴f‖/‖∇²f‖ are rarely near 1, so the practical accuracy on smooth functions is about 1e−5–1e−6 relative to
    /// max(1, ‖∇²f·v‖∞) (on the benchmark functions at random domain points at most 9e−7, mostly 1e−9–1e−11). It is
    /// worse where f varies on a scale much shorter than h (high-frequency oscillation at large |x|, points near a
    /// singularity of ∇²f such as Schwefel's xᵢ = 0) and meaningless where f is not twice differentiable. Non-finite
    /// gradients propagate as NaN or ±∞.
    public func finiteDifferenceHessianVectorProduct(at x: [Double], direction v: [Double]) -> [Double] {
        precondition(x.count == dimension && v.count == dimension,
                     "hessianVectorProduct: x has \(x.count) and v \(v.count) values, expected \(dimension)")
        var norm = 0.0
        for vi in v { norm += vi * vi }
        norm = norm.squareRoot()
        guard norm > 0 else { return [Double](repeating: 0, count: dimension) }
        var scale = 1.0
        for xi in x { scale = max(scale, abs(xi)) }
        let h = hessianVectorRelativeStep * scale
        var probe = x
        for i in probe.indices { probe[i] = x[i] + h * (v[i] / norm) }
        var plus = [Double](repeating: 0, count: dimension)
        _ = valueAndGradient(at: probe, gradient: &plus)
        for i in probe.indices { probe[i] = x[i] - h * (v[i] / norm) }
        var minus = [Double](repeating: 0, count: dimension)
        _ = valueAndGradient(at: probe, gradient: &minus)
        let factor = norm / (2 * h)
        for i in plus.indices { plus[i] = (plus[i] - minus[i]) * factor }
        return plus
    }
}

/// ε^{1/3} for ε = `Double.ulpOfOne` = 2.2e−16: the relative step of
/// ``Objective/finiteDifferenceHessianVectorProduct(at:direction:)``.
private let hessianVectorRelativeStep = 6.055454452393343e-6

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
