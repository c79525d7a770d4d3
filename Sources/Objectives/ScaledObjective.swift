/// An objective in scaled coordinates: g(y) = f(s ⊙ y), ∇g(y) = s ⊙ ∇f(s ⊙ y), for per-coordinate scales s > 0.
///
/// Optimizers that are not invariant to the units of their variables (gradient descent, Adam, the learned optimizers,
/// whose step sizes were meta-trained on problems of a typical scale) behave as if the problem had units `s`: a step of
/// 1 in y moves x by s. Minimize the scaled objective from `x₀ / s` and map the result back with ``unscale(_:)``.
public struct ScaledObjective<Base: Objective>: Objective {
    public let base: Base
    public let scales: [Double]

    /// One scale for every coordinate.
    public init(_ base: Base, scale: Double) {
        precondition(scale > 0 && scale.isFinite, "ScaledObjective: the scale must be a finite number > 0")
        self.init(base, scales: [Double](repeating: scale, count: base.dimension))
    }

    public init(_ base: Base, scales: [Double]) {
        precondition(scales.count == base.dimension && scales.allSatisfy { $0 > 0 && $0.isFinite },
                     "ScaledObjective: one finite scale > 0 per coordinate")
        self.base = base
        self.scales = scales
    }

    public var dimension: Int { base.dimension }

    /// x = s ⊙ y.
    public func unscale(_ y: [Double]) -> [Double] { zip(y, scales).map { $0 * $1 } }
    /// y = x / s.
    public func scale(_ x: [Double]) -> [Double] { zip(x, scales).map { $0 / $1 } }

    public func value(at y: [Double]) -> Double { base.value(at: unscale(y)) }

    public func valueAndGradient(at y: [Double], gradient: inout [Double]) -> Double {
        let f = base.valueAndGradient(at: unscale(y), gradient: &gradient)
        for i in gradient.indices { gradient[i] *= scales[i] }
        return f
    }

    /// ∇²g(y)·v = s ⊙ ∇²f(s ⊙ y)·(s ⊙ v) (chain rule, ∇²g = diag(s)·∇²f·diag(s)), through the base's
    /// ``Objective/hessianVectorProduct(at:direction:)`` (analytic where the base has one).
    public func hessianVectorProduct(at y: [Double], direction v: [Double]) -> [Double] {
        precondition(v.count == dimension, "ScaledObjective: v has \(v.count) values, expected \(dimension)")
        var product = base.hessianVectorProduct(at: unscale(y), direction: unscale(v))
        for i in product.indices { product[i] *= scales[i] }
        return product
    }
}
