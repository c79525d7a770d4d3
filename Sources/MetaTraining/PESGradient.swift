/// The PES gradient of one truncation for one particle, exactly as learned_optimization's `compute_pes_grad`
/// (`docs/adafactor-mlp-and-pes.md`, *PES estimator* and *Quirks*), including its quirks: the step where a trajectory
/// ends counts as "new trajectory", and the accumulator restarts at ε when the trajectory restarted within the
/// truncation.
///
/// Notation: Δℓ_t = ℓ⁺_t − ℓ⁻_t over the U steps; M_t the mask of the positive run; F_t the cumulative OR of
/// is_done; n = Σ M_t; L_old = Σ Δℓ_t (1 − F_t) M_t / n; L_new = Σ Δℓ_t F_t M_t / n; ξ ← ξ + ε;
/// ĝ = (L_old·ξ + L_new·ε) / (2σ²); ξ ← ε if the trajectory ended (F_U = 1).
public enum PESGradient {
    /// The result for one particle.
    public struct Particle: Sendable, Equatable {
        /// ĝ_i (length of θ).
        public var gradient: [Double]
        /// The accumulator to carry to the next truncation.
        public var accumulator: [Double]
        /// (masked mean ℓ⁺ + masked mean ℓ⁻)/2, for logging.
        public var loss: Double
        /// Whether n = 0 (the estimate is then NaN, which the trainer zeroes).
        public var empty: Bool
    }

    /// One particle's PES estimate. `positive`, `negative`, `done`, `mask` have one entry per step of the truncation;
    /// `epsilon` and `accumulator` have the length of θ. With `persistent == false` this is truncated ES: no
    /// accumulator, ĝ = mean_t(Δℓ_t)·ε/(2σ²).
    public static func particle(
        positive: [Double], negative: [Double], done: [Bool], mask: [Bool], epsilon: [Double],
        accumulator: [Double], sigma: Double, persistent: Bool = true
    ) -> Particle {
        let u = positive.count
        var finished = false
        var n = 0.0, lOld = 0.0, lNew = 0.0, sumPos = 0.0, sumNeg = 0.0
        for t in 0..<u {
            finished = finished || done[t]
            guard mask[t] else { continue }
            n += 1
            let delta = positive[t] - negative[t]
            if finished { lNew += delta } else { lOld += delta }
            sumPos += positive[t]
            sumNeg += negative[t]
        }
        lOld /= n
        lNew /= n
        let scale = 1 / (2 * sigma * sigma)
        var xi = accumulator
        var g = [Double](repeating: 0, count: epsilon.count)
        if persistent {
            for k in xi.indices {
                xi[k] += epsilon[k]
                g[k] = (lOld * xi[k] + lNew * epsilon[k]) * scale
            }
            if finished { xi = epsilon }
        } else {
            let total = lOld + lNew
            for k in g.indices { g[k] = total * epsilon[k] * scale }
        }
        return Particle(gradient: g, accumulator: xi, loss: (sumPos / n + sumNeg / n) / 2, empty: n == 0)
    }
}
