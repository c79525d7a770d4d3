import NeuralNetworks
import OptimusNumerics

/// Initial values of meta-parameters.
enum Initialization {
    /// Truncated normal as haiku's `TruncatedNormal`: z ~ N(0, 1) truncated to [−2, 2] (by rejection), w = σ·z. The
    /// variance is not corrected for the truncation (realized std ≈ 0.88σ), as in learned_optimization.
    static func truncatedNormal(count: Int, standardDeviation sigma: Double, using g: inout Xoshiro256StarStar) -> [Float] {
        (0..<count).map { _ in
            var z = g.normal()
            while abs(z) > 2 { z = g.normal() }
            return Float(sigma * z)
        }
    }

    /// Fills every weight of `layout` with a truncated normal of σ = `gain`/√fan_in (fan_in = shape[0]); biases,
    /// layer-norm biases and decay offsets 0; layer-norm gains 1. `gains` overrides the gain per tensor-name prefix.
    static func standard(_ layout: ParameterLayout, seed: UInt64, gains: [String: Double] = [:]) -> [Float] {
        var theta = [Float](repeating: 0, count: layout.count)
        var g = Xoshiro256StarStar(seed: seed)
        for t in layout.tensors {
            if t.name.hasSuffix(".weight") {
                let gain = gains.first { t.name.hasPrefix($0.key) }?.value ?? 1
                let w = truncatedNormal(count: t.count, standardDeviation: gain / Double(t.shape[0]).squareRoot(),
                                        using: &g)
                theta.replaceSubrange(t.range, with: w)
            } else if t.name.hasSuffix(".gain") {
                theta.replaceSubrange(t.range, with: repeatElement(1, count: t.count))
            }
        }
        return theta
    }
}
