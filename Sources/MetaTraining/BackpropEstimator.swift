import OptimusNumerics

/// Truncated backpropagation: the exact gradient of the un-smoothed truncated meta-loss.
///
/// Each particle keeps one inner trajectory at θ (no perturbation), with PES's task streams, stagger and reset
/// timing. A truncation of U slots splits at the trajectory's resets exactly as PES's does (a reset slot has no loss);
/// each segment of consecutive train steps is differentiated by ``DifferentiableInnerProblem/unrollWithGradient(theta:state:steps:)``
/// with the state at the segment's start held fixed. With n the number of train steps in the truncation,
///
///     ĝ = Σ_segments ∂(Σ_t ℓ_t)/∂θ / n,    loss = Σ_t ℓ_t / n,
///
/// the same normalization as PES's L (mean over the truncation's masked steps). A segment whose backward pass became
/// non-finite makes the particle's gradient 0 (its losses stay valid), and the particle is counted; n = 0 (U = 1 on a
/// reset slot) gives NaN as in PES, which the outer learner zeroes.
///
/// The estimate is low-variance but sees only U steps of the trajectory's dependence on θ (the state at the
/// truncation's start is a constant): it is biased towards greedy behaviour, like truncated ES, and on chaotic
/// unrolls its variance explodes (Metz et al. 2019) — the reason for ``HybridEstimator``.
public struct BackpropEstimator<Problem: DifferentiableInnerProblem>: MetaGradientEstimator {
    public struct Particle: Codable, Sendable, TrajectoryParticle {
        public var state: Problem.State
        public var innerStep: Int
        public var length: Int
        public var done: Bool
        /// The particle's task stream.
        public var generator: Xoshiro256StarStar
    }

    public let problem: Problem
    public let configuration: PESConfiguration

    public init(problem: Problem, configuration: PESConfiguration) {
        self.problem = problem
        self.configuration = configuration
    }

    public static var kind: MetaGradientEstimatorKind { .backprop }
    public var innerStepsPerParticle: Int { configuration.truncationLength }

    public func initialParticle(index: Int) -> Particle {
        let start = firstTrajectory(problem, configuration, index: index)
        return Particle(state: start.state, innerStep: start.innerStep, length: start.length, done: false,
                        generator: start.generator)
    }

    public func advance(_ particle: inout Particle, theta: [Float], truncation: Int, index: Int) -> ParticleEstimate {
        let p = problem.parameterCount
        let problem = self.problem
        var sum = [Double](repeating: 0, count: p)
        var lossSum = 0.0, n = 0
        var finite = true
        particle.walkTruncation(slots: configuration.truncationLength, schedule: configuration.schedule, reset: { q in
            q.state = problem.reset(generator: &q.generator)
        }, segment: { q, _, count, _ in
            let r = problem.unrollWithGradient(theta: theta, state: &q.state, steps: count)
            precondition(r.losses.count == count, "unrollWithGradient returned \(r.losses.count) losses for \(count) steps")
            for l in r.losses { lossSum += l }
            n += count
            guard r.finite else {
                finite = false
                return
            }
            precondition(r.gradient.count == p, "unrollWithGradient returned \(r.gradient.count) of \(p) derivatives")
            for j in 0..<p { sum[j] += r.gradient[j] }
        })
        let gradient = finite ? sum.map { $0 / Double(n) } : [Double](repeating: 0, count: p)
        return ParticleEstimate(gradient: gradient, loss: lossSum / Double(n), empty: n == 0, nonFinite: !finite)
    }
}

/// The hybrid of Metz et al. 2019 ("Understanding and correcting pathologies in the training of learned optimizers",
/// Section 4): truncated ES and the reparameterization (backprop) gradient of the same smoothed loss, combined by
/// inverse-variance weighting.
///
/// Each particle keeps an antithetic pair θ ± ε like ``TruncatedESEstimator`` (same ε streams, tasks and resets) and
/// differentiates both members' segments like ``BackpropEstimator``. For the truncated loss L (state at the
/// truncation's start fixed) and L_σ(θ) = E_ε[L(θ + ε)], two unbiased estimates of ∇L_σ come out of one pair:
///
///     ĝ_ES = mean_t(ℓ⁺_t − ℓ⁻_t)·ε/(2σ²)            (score function, antithetic)
///     ĝ_RP = (∇L(θ + ε) + ∇L(θ − ε))/2              (reparameterization: ∇L_σ = E[∇L(θ + ε)])
///
/// ĝ_ES has a variance that does not grow with the unroll's chaos but with P/σ²; ĝ_RP is precise on smooth unrolls and
/// explodes on chaotic ones. ``reduce(_:)`` estimates the variance of each particle mean from the particles, pooled
/// over coordinates, V = Σ_j s²_j / K (s²_j the sample variance of coordinate j over the K particles), and returns
///
///     ĝ = w·ḡ_RP + (1 − w)·ḡ_ES,   w = V_ES/(V_ES + V_RP),
///
/// the minimum-variance combination for independent estimates (they are not: both use ε; the weight is still a sound
/// choice, and the result stays unbiased up to the O(1/K) effect of estimating w from the same particles). With one
/// particle, or when both variances vanish, w = ½; when the reparameterization variance or mean is not finite (an
/// exploding backward pass), w = 0 and the ES mean is used alone. A non-finite backward pass zeroes that particle's ĝ_RP (its ĝ_ES
/// uses the losses only, which stay valid) and counts the particle.
public struct HybridEstimator<Problem: DifferentiableInnerProblem>: MetaGradientEstimator {
    public struct Particle: Codable, Sendable, TrajectoryParticle {
        public var positive: Problem.State
        public var negative: Problem.State
        public var innerStep: Int
        public var length: Int
        public var done: Bool
        /// The particle's task stream (shared by the pair).
        public var generator: Xoshiro256StarStar
    }

    public let problem: Problem
    public let configuration: PESConfiguration

    public init(problem: Problem, configuration: PESConfiguration) {
        self.problem = problem
        self.configuration = configuration
    }

    public static var kind: MetaGradientEstimatorKind { .hybrid }
    public var innerStepsPerParticle: Int { 2 * configuration.truncationLength }
    public var secondGradientCount: Int { problem.parameterCount }

    public func initialParticle(index: Int) -> Particle {
        let start = firstTrajectory(problem, configuration, index: index)
        return Particle(positive: start.state, negative: start.state, innerStep: start.innerStep, length: start.length,
                        done: false, generator: start.generator)
    }

    /// ``ParticleEstimate/gradient`` is ĝ_ES, ``ParticleEstimate/secondGradient`` ĝ_RP.
    public func advance(_ particle: inout Particle, theta: [Float], truncation: Int, index: Int) -> ParticleEstimate {
        let p = problem.parameterCount
        let u = configuration.truncationLength
        let problem = self.problem
        let (epsilon, plus, minus) = antitheticPerturbation(configuration, theta: theta, truncation: truncation,
                                                            index: index)
        var lp = [Double](repeating: 0, count: u), lm = lp
        var done = [Bool](repeating: false, count: u), mask = done
        var sum = [Double](repeating: 0, count: p)
        var n = 0
        var finite = true
        particle.walkTruncation(slots: u, schedule: configuration.schedule, reset: { q in
            let s = problem.reset(generator: &q.generator)
            q.positive = s
            q.negative = s
        }, segment: { q, first, count, ends in
            let rp = problem.unrollWithGradient(theta: plus, state: &q.positive, steps: count)
            let rm = problem.unrollWithGradient(theta: minus, state: &q.negative, steps: count)
            precondition(rp.losses.count == count && rm.losses.count == count,
                         "unrollWithGradient returned a wrong number of losses")
            for s in 0..<count {
                lp[first + s] = rp.losses[s]
                lm[first + s] = rm.losses[s]
                mask[first + s] = true
            }
            done[first + count - 1] = ends
            n += count
            guard rp.finite && rm.finite else {
                finite = false
                return
            }
            precondition(rp.gradient.count == p && rm.gradient.count == p,
                         "unrollWithGradient returned a wrong number of derivatives")
            for j in 0..<p { sum[j] += rp.gradient[j] + rm.gradient[j] }
        })
        let es = PESGradient.particle(positive: lp, negative: lm, done: done, mask: mask, epsilon: epsilon,
                                      accumulator: [], sigma: configuration.sigma, persistent: false)
        let reparameterization = finite ? sum.map { $0 / Double(2 * n) } : [Double](repeating: 0, count: p)
        return ParticleEstimate(gradient: es.gradient, secondGradient: reparameterization, loss: es.loss,
                                empty: es.empty, nonFinite: !finite)
    }

    /// The inverse-variance combination of the two particle means (see the type's documentation).
    public func reduce(_ estimates: [ParticleEstimate]) -> MetaGradientEstimate {
        let p = problem.parameterCount
        let k = estimates.count
        var es = [Double](repeating: 0, count: p), rp = es
        var loss = 0.0
        for r in estimates {
            for j in 0..<p {
                es[j] += r.gradient[j]
                rp[j] += r.secondGradient[j]
            }
            loss += r.loss
        }
        for j in 0..<p {
            es[j] /= Double(k)
            rp[j] /= Double(k)
        }
        var esVariance: Double?, rpVariance: Double?
        var w = 0.5
        if k >= 2 {
            var ves = 0.0, vrp = 0.0
            for r in estimates {
                for j in 0..<p {
                    let a = r.gradient[j] - es[j], b = r.secondGradient[j] - rp[j]
                    ves += a * a
                    vrp += b * b
                }
            }
            // Σ_j s²_j / K with s²_j = Σ_i (x_ij − x̄_j)²/(K − 1).
            ves /= Double(k - 1) * Double(k)
            vrp /= Double(k - 1) * Double(k)
            esVariance = ves
            rpVariance = vrp
            // An exploding backward pass (finite but huge, or overflowing the variance) gets weight 0: the
            // combination then is the ES mean alone, not 0·∞ = NaN.
            if !vrp.isFinite || !rp.allSatisfy(\.isFinite) {
                w = 0
            } else if !ves.isFinite {
                w = 1
            } else if ves + vrp > 0 {
                w = ves / (ves + vrp)
            }
        }
        let gradient = (0..<p).map { j in w == 0 ? es[j] : w == 1 ? rp[j] : w * rp[j] + (1 - w) * es[j] }
        return MetaGradientEstimate(
            gradient: gradient, loss: loss / Double(k), innerSteps: k * innerStepsPerParticle,
            nonFiniteParticles: estimates.filter(\.nonFinite).count,
            hybrid: HybridCombination(esVariance: esVariance, reparameterizationVariance: rpVariance,
                                      reparameterizationWeight: w))
    }
}
