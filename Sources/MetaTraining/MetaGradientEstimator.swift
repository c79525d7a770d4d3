import OptimusNumerics

/// The meta-gradient estimators `optimus train` can use (`"estimator"` in the training configuration).
public enum MetaGradientEstimatorKind: String, Codable, CaseIterable, Equatable, Sendable {
    /// Persistent Evolution Strategies (``PESEstimator``): unbiased for the smoothed full-trajectory meta-loss.
    case pes
    /// Truncated ES (``TruncatedESEstimator``): PES without the accumulator, biased towards greedy behaviour.
    case truncatedES = "truncated-es"
    /// Backpropagation through each truncation (``BackpropEstimator``): exact gradient of the un-smoothed truncated
    /// meta-loss.
    case backprop
    /// Inverse-variance combination of truncated ES and the reparameterization gradient (``HybridEstimator``).
    case hybrid

    /// The valid configuration values, for error messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// How the estimator is named in provenance (`"optimus train (PES)"`).
    public var displayName: String {
        switch self {
        case .pes: "PES"
        case .truncatedES: "truncated ES"
        case .backprop: "backprop"
        case .hybrid: "hybrid ES + backprop"
        }
    }
}

/// One particle's estimate of the meta-gradient for one truncation.
public struct ParticleEstimate: Sendable, Equatable {
    /// ĝ_i, one entry per meta-parameter (the ES estimate for the hybrid).
    public var gradient: [Double]
    /// A second estimate of the same gradient, for estimators whose reduction combines two (the hybrid's
    /// reparameterization gradient); empty otherwise.
    public var secondGradient: [Double]
    /// The particle's mean meta-loss over the truncation's steps (the mean of both members for a pair), for logging.
    public var loss: Double
    /// No step of the truncation was a train step (n = 0): the estimate is then NaN, which the outer learner zeroes.
    public var empty: Bool
    /// A backward pass became non-finite: the gradients that depend on it were set to 0 and the particle is counted.
    public var nonFinite: Bool

    public init(gradient: [Double], secondGradient: [Double] = [], loss: Double, empty: Bool, nonFinite: Bool = false) {
        self.gradient = gradient
        self.secondGradient = secondGradient
        self.loss = loss
        self.empty = empty
        self.nonFinite = nonFinite
    }
}

/// The hybrid's combination of its two particle means (``HybridEstimator``), reported per outer step.
public struct HybridCombination: Codable, Sendable, Equatable {
    /// V_ES = Σ_j s²_j/K, the pooled variance of the ES particle mean (nil with one particle).
    public var esVariance: Double?
    /// V_RP, the same for the reparameterization (backprop) particle mean (nil with one particle).
    public var reparameterizationVariance: Double?
    /// w = V_ES/(V_ES + V_RP): the combined gradient is w·ḡ_RP + (1 − w)·ḡ_ES (½ when the variances are unknown).
    public var reparameterizationWeight: Double
}

/// The reduction of the particles' estimates: what the outer learner receives.
public struct MetaGradientEstimate: Sendable {
    public var gradient: [Double]
    /// Mean of the particles' losses.
    public var loss: Double
    /// Inner steps run for this estimate (reset slots included, as learned_optimization counts them).
    public var innerSteps: Int
    /// Particles whose backward pass was non-finite (their gradients were zeroed).
    public var nonFiniteParticles: Int
    /// The hybrid's variances and weight; nil for the other estimators.
    public var hybrid: HybridCombination?

    public init(gradient: [Double], loss: Double, innerSteps: Int, nonFiniteParticles: Int = 0,
                hybrid: HybridCombination? = nil) {
        self.gradient = gradient
        self.loss = loss
        self.innerSteps = innerSteps
        self.nonFiniteParticles = nonFiniteParticles
        self.hybrid = hybrid
    }
}

/// The seam between the outer learner (``MetaTrainer``) and how the meta-gradient is estimated.
///
/// An estimator owns the state of its K particles (what persists between outer steps: inner states, accumulators,
/// task streams). Per outer step the trainer asks every particle to advance through one truncation of U slots at the
/// current θ (``advance(_:theta:truncation:index:)``, in parallel and on any process), then reduces the K estimates in
/// index order (``reduce(_:)``). Every random draw must come from a stream derived from (seed, particle index,
/// truncation number) and the reduction must not depend on where the particles ran: then θ is bit-identical for any
/// thread count and under MPI.
///
/// The shared hyperparameters (K, U, the schedule, the stagger, σ, the seed) are those of ``PESConfiguration``; the
/// learner's (learning rate, clips) are used by ``MetaTrainer`` only.
public protocol MetaGradientEstimator: Sendable {
    associatedtype Problem: InnerProblem
    /// One particle's persistent state (part of the training-state file, whose format is its field order).
    associatedtype Particle: Codable & Sendable

    static var kind: MetaGradientEstimatorKind { get }
    var problem: Problem { get }
    var configuration: PESConfiguration { get }
    /// Inner steps a particle runs per truncation, for reports: 2U for an antithetic pair, U for one trajectory.
    var innerStepsPerParticle: Int { get }
    /// Length of ``ParticleEstimate/secondGradient`` (0, or P for the hybrid), for the exchange between processes.
    var secondGradientCount: Int { get }

    /// Particle `index`'s state before the first truncation.
    func initialParticle(index: Int) -> Particle
    /// Advances particle `index` through truncation number `truncation` at meta-parameters θ and returns its estimate.
    func advance(_ particle: inout Particle, theta: [Float], truncation: Int, index: Int) -> ParticleEstimate
    /// Combines the K estimates (in index order) into the meta-gradient. Default: their mean.
    func reduce(_ estimates: [ParticleEstimate]) -> MetaGradientEstimate
}

extension MetaGradientEstimator {
    public var secondGradientCount: Int { 0 }

    /// The mean of the particles' gradients and losses, summed in index order (the same sum whatever ran where).
    /// Coordinates are spread over the cores (each one's sum still runs over the particles in index order: the same
    /// bits as a serial loop).
    public func reduce(_ estimates: [ParticleEstimate]) -> MetaGradientEstimate {
        let p = problem.parameterCount
        let k = estimates.count
        var gradient = [Double](repeating: 0, count: p)
        var loss = 0.0
        for r in estimates {
            precondition(r.gradient.count == p, "a particle's gradient has \(r.gradient.count) entries, not \(p)")
            loss += r.loss
        }
        gradient.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            forEachChunk(p, parallel: configuration.threads != 1) { range in
                for r in estimates {
                    r.gradient.withUnsafeBufferPointer { g in
                        for j in range { out[j] += g[j] }
                    }
                }
                for j in range { out[j] /= Double(k) }
            }
        }
        return MetaGradientEstimate(gradient: gradient, loss: loss / Double(k), innerSteps: k * innerStepsPerParticle,
                                    nonFiniteParticles: estimates.filter(\.nonFinite).count)
    }
}

// MARK: Shared by the estimators

/// The bookkeeping of a particle's current inner trajectory (its position, length, end and task stream).
protocol TrajectoryParticle {
    var innerStep: Int { get set }
    var length: Int { get set }
    var done: Bool { get set }
    var generator: Xoshiro256StarStar { get set }
}

extension TrajectoryParticle {
    /// Walks one truncation of `slots` slots the way learned_optimization's truncated step does: a finished trajectory
    /// spends a slot on its reset (a new task from `generator`, then a new length from `schedule`; that slot has no
    /// loss, mask 0), otherwise the slots up to the trajectory's end or the truncation's end are one `segment` of
    /// consecutive train steps (`first`, `count`; `ends` when the trajectory reaches its length on the last of them,
    /// the step that learned_optimization already counts as done).
    mutating func walkTruncation(
        slots u: Int, schedule: TruncationSchedule, reset: (inout Self) -> Void,
        segment: (_ particle: inout Self, _ first: Int, _ count: Int, _ ends: Bool) -> Void
    ) {
        var t = 0
        while t < u {
            if done {
                reset(&self)
                innerStep = 0
                length = schedule.sample(using: &generator)
                done = innerStep >= length
                t += 1
            } else {
                let count = min(u - t, max(1, length - innerStep))
                innerStep += count
                done = innerStep >= length
                segment(&self, t, count, done)
                t += count
            }
        }
    }
}

/// The start of particle `index`'s first trajectory: its task stream (seed, 1 000 000 + index), the task drawn from
/// it, the length, and a uniform stagger in [0, R) (R = ``PESConfiguration/initialOffset``) into the trajectory.
func firstTrajectory<Problem: InnerProblem>(_ problem: Problem, _ c: PESConfiguration, index: Int)
    -> (state: Problem.State, innerStep: Int, length: Int, generator: Xoshiro256StarStar)
{
    var g = Xoshiro256StarStar(seed: c.seed, stream: 1_000_000 + UInt64(index))
    let s = problem.reset(generator: &g)
    let length = c.schedule.sample(using: &g)
    let offset = c.initialOffset > 0 ? g.nextInt(below: c.initialOffset) : 0
    return (s, min(offset, max(0, length - 1)), length, g)
}
