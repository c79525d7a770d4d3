import OptimusNumerics

/// One particle of PES or truncated ES: an antithetic pair of inner states (θ+ε and θ−ε) that share tasks, starts
/// and reset timing, and the perturbation accumulator ξ.
///
/// The field order is the training-state file format (``BinaryCoder`` writes no keys): it is the order of the former
/// `PESTrainer.Particle`, so states written before the estimator seam still load.
public struct PESParticle<State: Codable & Sendable>: Codable, Sendable, TrajectoryParticle {
    public var positive: State
    public var negative: State
    /// ξ, the sum of the perturbations since the trajectory began (empty for truncated ES, which never reads it).
    public var accumulator: [Double]
    public var innerStep: Int
    public var length: Int
    public var done: Bool
    /// The particle's task stream (shared by the pair: both reset to the same task).
    public var generator: Xoshiro256StarStar
}

/// Where an antithetic ES estimator credits a truncation's losses: to the accumulated ξ + ε (PES) or to ε alone
/// (truncated ES). The one difference between ``PESEstimator`` and ``TruncatedESEstimator``.
public protocol ESCredit: Sendable {
    static var kind: MetaGradientEstimatorKind { get }
    /// Whether the losses are credited to the accumulated perturbation ξ + ε (PES) instead of ε alone.
    static var persistent: Bool { get }
}

/// PES's credit: the accumulated ξ + ε.
public enum PersistentCredit: ESCredit {
    public static var kind: MetaGradientEstimatorKind { .pes }
    public static var persistent: Bool { true }
}

/// Truncated ES's credit: this truncation's ε alone.
public enum TruncationCredit: ESCredit {
    public static var kind: MetaGradientEstimatorKind { .truncatedES }
    public static var persistent: Bool { false }
}

/// Antithetic evolution strategies over truncations: per truncation a particle draws a fresh ε from its stream
/// (seed, truncation, index), unrolls U slots of both members of its pair θ ± ε and forms the estimate
/// (``PESGradient``), crediting the truncation's losses as `Credit` says. Use it as ``PESEstimator`` or
/// ``TruncatedESEstimator``.
public struct AntitheticESEstimator<Problem: InnerProblem, Credit: ESCredit>: MetaGradientEstimator {
    public typealias Particle = PESParticle<Problem.State>
    public let problem: Problem
    public let configuration: PESConfiguration

    public init(problem: Problem, configuration: PESConfiguration) {
        self.problem = problem
        self.configuration = configuration
    }

    public static var kind: MetaGradientEstimatorKind { Credit.kind }
    public var innerStepsPerParticle: Int { 2 * configuration.truncationLength }

    public func initialParticle(index: Int) -> Particle {
        antitheticParticle(problem, configuration, index: index, accumulates: Credit.persistent)
    }

    public func advance(_ particle: inout Particle, theta: [Float], truncation: Int, index: Int) -> ParticleEstimate {
        // Truncated ES never reads ξ. States written before this kept it as θ-sized zeros (most of a training
        // state's bytes); drop them, which changes no number, so the next state written is small.
        if !Credit.persistent && !particle.accumulator.isEmpty { particle.accumulator = [] }
        return antitheticTruncation(problem, configuration, &particle, theta: theta, truncation: truncation, index: index,
                             persistent: Credit.persistent)
    }
}

/// Persistent Evolution Strategies (Vicol, Metz & Sohl-Dickstein 2021) as in learned_optimization's `TruncatedPES`
/// (`docs/adafactor-mlp-and-pes.md`, *PES meta-training*).
///
/// Per truncation a particle draws a fresh ε from its stream (seed, truncation, index), unrolls U slots of both
/// members of its pair and forms the PES estimate (``PESGradient``), crediting the truncation's losses to the
/// accumulated ξ + ε: an unbiased estimate of the gradient of the Gaussian-smoothed full-trajectory meta-loss.
public typealias PESEstimator<Problem: InnerProblem> = AntitheticESEstimator<Problem, PersistentCredit>

/// Truncated ES: ``PESEstimator`` without the accumulator. Each truncation's losses are credited to that truncation's
/// ε alone, ĝ = mean_t(ℓ⁺_t − ℓ⁻_t)·ε/(2σ²): an unbiased estimate of the smoothed *truncated* meta-loss (the pair's
/// state at the truncation's start held fixed), hence biased for the full trajectory. Its particles have PES's layout
/// with an empty ξ, so states of runs made with `pes.persistent = false`, and older states that kept a ξ of zeros,
/// still load (the zeros are dropped at the next truncation).
public typealias TruncatedESEstimator<Problem: InnerProblem> = AntitheticESEstimator<Problem, TruncationCredit>

/// A particle's first pair; ξ = 0 with θ's length when the estimator `accumulates` (PES), else empty (truncated ES).
func antitheticParticle<Problem: InnerProblem>(_ problem: Problem, _ c: PESConfiguration, index: Int,
                                               accumulates: Bool) -> PESParticle<Problem.State>
{
    let start = firstTrajectory(problem, c, index: index)
    return PESParticle(positive: start.state, negative: start.state,
                       accumulator: [Double](repeating: 0, count: accumulates ? problem.parameterCount : 0),
                       innerStep: start.innerStep,
                       length: start.length, done: false, generator: start.generator)
}

/// One truncation of an antithetic pair and its PES (`persistent`) or truncated-ES estimate.
func antitheticTruncation<Problem: InnerProblem>(
    _ problem: Problem, _ c: PESConfiguration, _ particle: inout PESParticle<Problem.State>, theta: [Float],
    truncation: Int, index: Int, persistent: Bool
) -> ParticleEstimate {
    let u = c.truncationLength
    var (epsilon, plus, minus) = antitheticPerturbation(c, theta: theta, truncation: truncation, index: index)
    var lp = [Double](repeating: 0, count: u), lm = lp
    var done = [Bool](repeating: false, count: u), mask = done
    do {
        let sp = problem.stepper(theta: plus), sm = problem.stepper(theta: minus)
        particle.walkTruncation(slots: u, schedule: c.schedule, reset: { p in
            let s = problem.reset(generator: &p.generator)
            p.positive = s
            p.negative = s
        }, segment: { p, first, count, ends in
            // The segment's steps are p.innerStep − count … p.innerStep − 1 of a trajectory of p.length.
            let weighting = c.lossWeighting, firstStep = p.innerStep - count
            for t in first..<(first + count) {
                lp[t] = problem.step(sp, state: &p.positive)
                lm[t] = problem.step(sm, state: &p.negative)
                if weighting != .uniform {
                    let w = weighting.weight(step: firstStep + (t - first), length: p.length)
                    lp[t] *= w
                    lm[t] *= w
                }
                mask[t] = true
            }
            done[first + count - 1] = ends
        })
    }
    // θ ± ε (and the steppers that held them) are no longer needed: free them before the estimate's pass.
    plus = []
    minus = []
    let r = PESGradient.particleInPlace(positive: lp, negative: lm, done: done, mask: mask, epsilon: &epsilon,
                                        accumulator: &particle.accumulator, sigma: c.sigma, persistent: persistent)
    return ParticleEstimate(gradient: r.gradient, loss: r.loss, empty: r.empty)
}
