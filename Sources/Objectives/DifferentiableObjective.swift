import _Differentiation

/// An objective from a Swift function marked `@differentiable(reverse)`: the gradient comes from Swift's automatic
/// differentiation, so you write only the value.
///
/// ```swift
/// import _Differentiation
/// import OptimusKit
///
/// @differentiable(reverse)
/// func rosenbrock(_ x: [Double]) -> Double {
///     var total = 0.0
///     for i in withoutDerivative(at: x.indices).dropLast() {   // loop bounds carry no derivative
///         let a = x[i + 1] - x[i] * x[i]
///         let b = 1 - x[i]
///         total += 100 * a * a + b * b
///     }
///     return total
/// }
///
/// let objective = DifferentiableObjective(dimension: 10, rosenbrock)
/// let result = try minimize(objective, from: Array(repeating: -1, count: 10), using: LBFGS())
/// ```
///
/// **Cost.** Reverse-mode differentiation of scalar loops over `[Double]` costs O(d²) (the standard library's
/// pullback of an array subscript read allocates a full-length zero array per read): fine for d up to a few hundred,
/// 200–3000× slower than a hand-written gradient at d = 1000. For large problems write the gradient by hand
/// (``ClosureObjective``) or build the function from vector primitives with registered derivatives
/// (`@derivative(of:)`). See `docs/swift-differentiation.md` for the measurements and the constructs
/// (`x.reduce`, `Swift.max`, subscript writes) that are not differentiable.
public struct DifferentiableObjective: Objective {
    public let dimension: Int
    private let function: @differentiable(reverse) @Sendable ([Double]) -> Double

    /// An objective of `dimension` variables given by a differentiable function.
    public init(dimension: Int, _ function: @escaping @differentiable(reverse) @Sendable ([Double]) -> Double) {
        self.dimension = dimension
        self.function = function
    }

    public func value(at x: [Double]) -> Double { function(x) }

    public func valueAndGradient(at x: [Double], gradient: inout [Double]) -> Double {
        let (value, tangent) = valueWithGradient(at: x, of: function)
        // A zero tangent can be represented by an empty array.
        gradient = tangent.base.count == x.count ? tangent.base : [Double](repeating: 0, count: x.count)
        return value
    }
}
