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

    /// The masked sums of one truncation: n, L_old, L_new (both divided by n), whether the trajectory ended in it,
    /// and the logged loss. Shared by ``particle(positive:negative:done:mask:epsilon:accumulator:sigma:persistent:)``
    /// and the in-place form, so both give the same bits.
    static func weights(positive: [Double], negative: [Double], done: [Bool], mask: [Bool])
        -> (lOld: Double, lNew: Double, finished: Bool, loss: Double, empty: Bool)
    {
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
        return (lOld, lNew, finished, (sumPos / n + sumNeg / n) / 2, n == 0)
    }

    /// ``particle(positive:negative:done:mask:epsilon:accumulator:sigma:persistent:)`` without copies of the
    /// P-length arrays: ξ is updated in `accumulator` (PES only) and ĝ is written over `epsilon` (or, when the
    /// trajectory ended and ξ restarts at ε, over the old ξ), which is then returned; the values are bit for bit those
    /// of the copying form.
    static func particleInPlace(
        positive: [Double], negative: [Double], done: [Bool], mask: [Bool], epsilon: inout [Double],
        accumulator: inout [Double], sigma: Double, persistent: Bool
    ) -> (gradient: [Double], loss: Double, empty: Bool) {
        let w = weights(positive: positive, negative: negative, done: done, mask: mask)
        let lOld = w.lOld, lNew = w.lNew
        let scale = 1 / (2 * sigma * sigma)
        let count = epsilon.count
        var gradient: [Double]
        if persistent {
            precondition(accumulator.count == count, "ξ has \(accumulator.count) entries, ε \(count)")
            if w.finished {
                // ξ restarts at ε: the old ξ's storage takes ĝ.
                epsilon.withUnsafeBufferPointer { e in
                    accumulator.withUnsafeMutableBufferPointer { xi in
                        for k in 0..<count {
                            let x = xi[k] + e[k]
                            xi[k] = (lOld * x + lNew * e[k]) * scale
                        }
                    }
                }
                gradient = accumulator
                accumulator = epsilon
            } else {
                epsilon.withUnsafeMutableBufferPointer { e in
                    accumulator.withUnsafeMutableBufferPointer { xi in
                        for k in 0..<count {
                            xi[k] += e[k]
                            e[k] = (lOld * xi[k] + lNew * e[k]) * scale
                        }
                    }
                }
                gradient = epsilon
            }
        } else {
            let total = lOld + lNew
            epsilon.withUnsafeMutableBufferPointer { e in
                for k in 0..<count { e[k] = total * e[k] * scale }
            }
            gradient = epsilon
        }
        epsilon = []
        return (gradient, w.loss, w.empty)
    }

    /// One particle's PES estimate. `positive`, `negative`, `done`, `mask` have one entry per step of the truncation;
    /// `epsilon` and `accumulator` have the length of θ. With `persistent == false` this is truncated ES: no
    /// accumulator, ĝ = mean_t(Δℓ_t)·ε/(2σ²).
    public static func particle(
        positive: [Double], negative: [Double], done: [Bool], mask: [Bool], epsilon: [Double],
        accumulator: [Double], sigma: Double, persistent: Bool = true
    ) -> Particle {
        let w = weights(positive: positive, negative: negative, done: done, mask: mask)
        let lOld = w.lOld, lNew = w.lNew, finished = w.finished
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
        return Particle(gradient: g, accumulator: xi, loss: w.loss, empty: w.empty)
    }
}
