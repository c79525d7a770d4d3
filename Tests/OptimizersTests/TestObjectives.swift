import Objectives

/// f(x) = ½ Σ aᵢ (xᵢ − cᵢ)², a separable quadratic with known minimizer c and minimum 0.
struct Quadratic: Objective {
    let a: [Double]
    let c: [Double]
    var dimension: Int { a.count }
    func valueAndGradient(at x: [Double], gradient g: inout [Double]) -> Double {
        var f = 0.0
        for i in x.indices {
            let r = x[i] - c[i]
            f += 0.5 * a[i] * r * r
            g[i] = a[i] * r
        }
        return f
    }
}

/// Returns NaN (value and gradient) wherever ‖x‖∞ > `radius`, otherwise the wrapped objective.
struct NaNOutside<Base: Objective>: Objective {
    let base: Base
    let radius: Double
    var dimension: Int { base.dimension }
    func valueAndGradient(at x: [Double], gradient g: inout [Double]) -> Double {
        if x.contains(where: { abs($0) > radius }) {
            for i in g.indices { g[i] = .nan }
            return .nan
        }
        return base.valueAndGradient(at: x, gradient: &g)
    }
}

/// A closure-free 1-D function for line-search tests: φ(α) and φ'(α).
struct LineFunction: Sendable {
    let name: String
    let phi: @Sendable (Double) -> (Double, Double)
}
