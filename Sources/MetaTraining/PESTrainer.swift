import Dispatch
import Foundation
import OptimusNumerics

/// How long inner trajectories are (learned_optimization's truncation schedules).
public enum TruncationSchedule: Codable, Equatable, Sendable {
    /// Every trajectory has `length` train steps.
    case constant(length: Int)
    /// L = floor(exp(u)), u ~ U(ln minimum, ln maximum), resampled at every reset.
    case logUniform(minimum: Int, maximum: Int)

    func sample(using g: inout Xoshiro256StarStar) -> Int {
        switch self {
        case .constant(let l): return l
        case .logUniform(let lo, let hi): return max(lo, Int(exp(g.uniform(log(Double(lo)), log(Double(hi))))))
        }
    }

    func validate() throws(MetaTrainingError) {
        switch self {
        case .constant(let l): guard l >= 1 else { throw .invalid("truncation.length", "must be ≥ 1") }
        case .logUniform(let lo, let hi):
            guard lo >= 1, hi >= lo else { throw .invalid("truncation", "need 1 ≤ minimum ≤ maximum") }
        }
    }
}

/// Hyperparameters of meta-training (defaults: learned_optimization's `TruncatedPES` and its launcher recipe): those
/// of the estimators (K, U, the schedule, the stagger, the seed; σ for the perturbed ones) and of the outer learner
/// (learning rate, clips). Named after PES, whose configuration they were first; every estimator reads them here.
public struct PESConfiguration: Codable, Equatable, Sendable {
    /// K, antithetic pairs per outer step.
    public var particles: Int = 8
    /// U, inner steps per truncation.
    public var truncationLength: Int = 10
    /// σ of the perturbations (PES, truncated ES, hybrid).
    public var sigma: Double = 0.01
    public var schedule: TruncationSchedule = .constant(length: 50)
    /// Stagger each particle's first trajectory by a uniform offset in [0, R) steps (R = 0: no stagger).
    public var initialOffset: Int = 50
    /// Outer Adam learning rate.
    public var learningRate: Double = 1e-3
    /// Element-wise clip of the meta-gradient before Adam (0 disables). learned_optimization: 3.
    public var gradientClip: Double = 3
    /// Clip of the meta-gradient's Euclidean norm, after the element-wise clip: g ← g·min(1, c/‖g‖) (0 disables).
    public var gradientNormClip: Double = 0
    /// false: plain truncated ES (no accumulator), for comparison. Kept for old configurations: the estimator is now
    /// chosen by `TrainingConfiguration.estimator` (TrainingRuns), and `false` there means `truncated-es`.
    public var persistent: Bool = true
    public var seed: UInt64 = 0
    /// Particles evaluated in parallel: 0 = all cores (`concurrentPerform`), 1 = serial. The result is the same.
    public var threads: Int = 0
    /// How ε is drawn (``PerturbationGenerator``): `box-muller` (the default, and what a file without the field
    /// means, so every existing configuration keeps its perturbations bit for bit) or `ziggurat` (about 10× faster
    /// to draw, other numbers: opt-in).
    public var perturbation: PerturbationGenerator = .boxMuller
    /// How the ES estimators weigh the steps of a trajectory in the meta-loss (``LossWeighting``): `uniform` (the
    /// default, and what a file without the field means) or `linear` (late steps count more).
    public var lossWeighting: LossWeighting = .uniform

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case particles, truncationLength, sigma, schedule, initialOffset, learningRate, gradientClip, gradientNormClip
        case persistent, seed, threads, perturbation, lossWeighting
    }

    /// Every field is required except `perturbation` and `lossWeighting` (added later; missing means
    /// ``PerturbationGenerator/boxMuller`` and ``LossWeighting/uniform``).
    /// `TrainingConfiguration.decode(_:)` (TrainingRuns) fills missing fields with their defaults before this runs.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        particles = try c.decode(Int.self, forKey: .particles)
        truncationLength = try c.decode(Int.self, forKey: .truncationLength)
        sigma = try c.decode(Double.self, forKey: .sigma)
        schedule = try c.decode(TruncationSchedule.self, forKey: .schedule)
        initialOffset = try c.decode(Int.self, forKey: .initialOffset)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        gradientClip = try c.decode(Double.self, forKey: .gradientClip)
        gradientNormClip = try c.decode(Double.self, forKey: .gradientNormClip)
        persistent = try c.decode(Bool.self, forKey: .persistent)
        seed = try c.decode(UInt64.self, forKey: .seed)
        threads = try c.decode(Int.self, forKey: .threads)
        perturbation = try c.decodeIfPresent(PerturbationGenerator.self, forKey: .perturbation) ?? .boxMuller
        lossWeighting = try c.decodeIfPresent(LossWeighting.self, forKey: .lossWeighting) ?? .uniform
    }

    public func validate() throws(MetaTrainingError) {
        guard particles >= 1 else { throw .invalid("pes.particles", "must be ≥ 1") }
        guard truncationLength >= 1 else { throw .invalid("pes.truncationLength", "must be ≥ 1") }
        guard sigma > 0, sigma.isFinite else { throw .invalid("pes.sigma", "must be a finite number > 0") }
        guard learningRate > 0, learningRate.isFinite else { throw .invalid("pes.learningRate", "must be > 0") }
        guard gradientClip >= 0 else { throw .invalid("pes.gradientClip", "must be ≥ 0") }
        guard gradientNormClip >= 0 else { throw .invalid("pes.gradientNormClip", "must be ≥ 0") }
        guard initialOffset >= 0 else { throw .invalid("pes.initialOffset", "must be ≥ 0") }
        try schedule.validate()
    }
}

/// The PES trainer of before the estimator seam: ``MetaTrainer`` with ``PESEstimator``.
public typealias PESTrainer<Problem: InnerProblem> = MetaTrainer<PESEstimator<Problem>>

extension MetaTrainer {
    /// A PES trainer. `configuration.persistent` must be true: truncated ES is ``TruncatedESEstimator``.
    public init<Problem>(problem: Problem, configuration: PESConfiguration,
                         communicator: any ParticleCommunicator = SingleProcess())
    where Estimator == PESEstimator<Problem> {
        precondition(configuration.persistent, "PESTrainer with persistent == false: use TruncatedESEstimator")
        self.init(estimator: PESEstimator(problem: problem, configuration: configuration), communicator: communicator)
    }
}
