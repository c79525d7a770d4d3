import Foundation
import LearnedOptimizers
import MetaTraining
import Objectives
import OptimusSupport
import TaskFamilies

/// The configuration of `optimus train` (a JSON file). Every field has a default; unknown fields are rejected.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// Which learned optimizer.
    public struct Model: Codable, Equatable, Sendable {
        /// `adafactor-mlp` or `optimus` (`optimus-no-state`, `optimus-no-structure` for the ablations).
        public var kind: String = "adafactor-mlp"
        /// Preset: adafactor-mlp `reference`|`paper`, optimus `paper`|`small`.
        public var preset: String = "reference"
        /// Seed of θ₀.
        public var seed: UInt64 = 0
        /// A checkpoint to start from instead (fine-tuning; same kind and preset), e.g. a shipped one; empty: none.
        public var initialCheckpoint: String = ""
        /// The unit of the learned step (``StepScale``): `absolute` (the papers', default) or `secant` (equivariant to
        /// rescaling x; trained with `pes` or `truncated-es`). A fine-tuning checkpoint of the other unit is accepted:
        /// θ has the same layout, only the unit of its output changes.
        public var stepScale: StepScale = .absolute
        /// Optimus only: what its learned rank-one updates of B add to (``Optimus/CurvaturePrior``): `none` (the
        /// paper, default) or `bfgs` (a self-scaled BFGS update with the last secant pair; full variant, trained with
        /// `pes` or `truncated-es`).
        public var curvaturePrior: Optimus.CurvaturePrior = .none
        public init() {}
    }

    /// Held-out validation.
    public struct Validation: Codable, Equatable, Sendable {
        /// Evaluate every this many outer steps (0: never).
        public var every: Int = 25
        /// Number of held-out tasks.
        public var tasks: Int = 32
        /// Seed of the held-out tasks (keep it different from the training seed).
        public var seed: UInt64 = 9_999
        /// Inner steps per validation run (the paper trains with 50-step unrolls).
        public var steps: Int = 50
        /// What a validation run scores (``ValidationScore``): `mean` (the mean meta-loss over its steps, default) or
        /// `best` (the meta-loss of the best value it found, what a solver that keeps its best point delivers).
        public var score: ValidationScore = .mean
        public init() {}
    }

    public var model = Model()
    /// `benchmark`: the test functions (`tasks`); `augmented`: the test functions and conditioned quadratics, rotated,
    /// stretched and rescaled (`augmentedTasks`); `motion`: physics reconstruction windows (`motionTasks`).
    public var taskFamily: String = "benchmark"
    public var tasks = TaskDistribution()
    public var motionTasks = MotionTaskDistribution()
    public var augmentedTasks = AugmentedTaskDistribution()
    public var normalizer = MetaLossNormalizer()
    /// The meta-gradient estimator: `pes` (default), `truncated-es`, `backprop` or `hybrid` (``MetaGradientEstimatorKind``).
    /// Its hyperparameters, shared by all estimators, are under `pes`. Old configurations without this field keep
    /// working: `pes.persistent = false` means `truncated-es`. `pes.perturbation` chooses how the ES estimators draw
    /// ε: `box-muller` (default; what a file without it means) or `ziggurat` (``PerturbationGenerator``).
    /// `pes.lossWeighting` how they weigh a trajectory's steps: `uniform` (default) or `linear` (``LossWeighting``).
    public var estimator: MetaGradientEstimatorKind = .pes
    public var pes = PESConfiguration()
    public var outerSteps: Int = 500
    /// Write the training state and the safetensors every this many outer steps.
    public var checkpointEvery: Int = 25
    /// Write a line of `metrics.jsonl` every this many outer steps (with the means of the training loss and gradient
    /// norm over them), and at every validation and checkpoint: long runs keep their metrics small.
    public var metricsEvery: Int = 1
    public var validation = Validation()

    public init() {}

    public func validate() throws(MetaTrainingError) {
        guard LearnedOptimizerCatalog.names.contains(model.kind) else {
            throw .invalid("model.kind", "'\(model.kind)' is not one of \(LearnedOptimizerCatalog.names.joined(separator: ", "))")
        }
        guard LearnedOptimizerCatalog.presets(for: model.kind).contains(model.preset) else {
            throw .invalid("model.preset", "'\(model.preset)' is not valid for \(model.kind); valid: "
                + LearnedOptimizerCatalog.presets(for: model.kind).joined(separator: ", "))
        }
        switch taskFamily {
        case "benchmark": try tasks.validate()
        case "motion": try motionTasks.validate()
        case "augmented": try augmentedTasks.validate()
        default: throw .invalid("taskFamily", "'\(taskFamily)' is not valid; use benchmark, augmented or motion")
        }
        try pes.validate()
        if model.stepScale != .absolute && resolvedEstimator != .pes && resolvedEstimator != .truncatedES {
            throw .invalid("model.stepScale", "'\(model.stepScale.rawValue)' is trained with estimator pes or truncated-es "
                + "(the exact meta-gradient differentiates absolute steps only), not '\(resolvedEstimator.rawValue)'")
        }
        if model.curvaturePrior != .none {
            guard model.kind == "optimus" else {
                throw .invalid("model.curvaturePrior", "'\(model.curvaturePrior.rawValue)' needs kind optimus (the full "
                    + "variant), not '\(model.kind)'")
            }
            guard resolvedEstimator == .pes || resolvedEstimator == .truncatedES else {
                throw .invalid("model.curvaturePrior", "'\(model.curvaturePrior.rawValue)' is trained with estimator pes "
                    + "or truncated-es, not '\(resolvedEstimator.rawValue)'")
            }
        }
        if !pes.persistent && estimator != .pes && estimator != .truncatedES {
            throw .invalid("pes.persistent", "false means estimator truncated-es, which contradicts estimator "
                + "'\(estimator.rawValue)'; remove pes.persistent")
        }
        guard pes.lossWeighting == .uniform || [.pes, .truncatedES].contains(resolvedEstimator) else {
            throw .invalid("pes.lossWeighting", "'\(pes.lossWeighting.rawValue)' needs estimator pes or truncated-es "
                + "(the \(resolvedEstimator.rawValue) estimator weighs every step alike); use uniform")
        }
        guard outerSteps >= 1 else { throw .invalid("outerSteps", "must be ≥ 1") }
        guard checkpointEvery >= 1 else { throw .invalid("checkpointEvery", "must be ≥ 1") }
        guard metricsEvery >= 1 else { throw .invalid("metricsEvery", "must be ≥ 1") }
        guard validation.every >= 0 else { throw .invalid("validation.every", "\(validation.every) is not valid; must be ≥ 0 (0: never)") }
        guard validation.tasks >= 1 else { throw .invalid("validation.tasks", "\(validation.tasks) is not valid; must be ≥ 1") }
        guard validation.steps >= 1 else { throw .invalid("validation.steps", "\(validation.steps) is not valid; must be ≥ 1") }
    }

    /// The estimator this configuration trains with: ``estimator``, except that the legacy `pes.persistent = false`
    /// with the default estimator means truncated ES.
    public var resolvedEstimator: MetaGradientEstimatorKind {
        estimator == .pes && !pes.persistent ? .truncatedES : estimator
    }

    /// This configuration with ``estimator`` resolved and `pes.persistent` consistent with it (false exactly for
    /// truncated ES): the form ``decode(_:)`` returns and `optimus train` writes to `config.json` and compares on
    /// resume.
    public var canonical: TrainingConfiguration {
        var c = self
        c.estimator = resolvedEstimator
        c.pes.persistent = c.estimator != .truncatedES
        return c
    }

    /// Decodes a configuration file: fields missing from the file take their defaults, unknown fields are rejected
    /// (a typo must not silently fall back to a default), function names may be spelled as `optimus functions`
    /// accepts them. `pes.perturbation` must be one of ``PerturbationGenerator`` (missing: `box-muller`). `estimator`
    /// must be one of ``MetaGradientEstimatorKind``; a file without it and with
    /// `pes.persistent: false` (written before estimators were selectable) means `truncated-es`, and a file with both
    /// must not contradict itself. The result is ``canonical``.
    public static func decode(_ data: Data) throws -> TrainingConfiguration {
        guard let given = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw MetaTrainingError.invalid("configuration", "must be a JSON object")
        }
        var estimator: MetaGradientEstimatorKind?
        if let value = given["estimator"] {
            guard let name = value as? String, let kind = MetaGradientEstimatorKind(rawValue: name) else {
                throw MetaTrainingError.invalid("estimator", "'\(value)' is not valid; valid: \(MetaGradientEstimatorKind.names)")
            }
            estimator = kind
        }
        // Enumerated fields: a name outside the enumeration is an error naming the field and the valid values.
        func checkName<E: RawRepresentable & CaseIterable>(_ section: String, _ field: String, _: E.Type) throws
        where E.RawValue == String {
            guard let value = (given[section] as? [String: Any])?[field] else { return }
            guard let name = value as? String, E(rawValue: name) != nil else {
                let valid = E.allCases.map(\.rawValue).joined(separator: ", ")
                throw MetaTrainingError.invalid("\(section).\(field)", "'\(value)' is not valid; valid: \(valid)")
            }
        }
        try checkName("model", "curvaturePrior", Optimus.CurvaturePrior.self)
        try checkName("model", "stepScale", StepScale.self)
        try checkName("pes", "perturbation", PerturbationGenerator.self)
        try checkName("pes", "lossWeighting", LossWeighting.self)
        try checkName("validation", "score", ValidationScore.self)
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfiguration()))
        let merged = try merge(given, into: defaults, path: "")
        var c = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: merged))
        let persistentGiven = (given["pes"] as? [String: Any])?["persistent"] != nil
        switch (estimator, persistentGiven ? c.pes.persistent : nil) {
        case (nil, false?): c.estimator = .truncatedES
        case (let e?, false?) where e != .truncatedES:
            throw MetaTrainingError.invalid("pes.persistent", "false means estimator truncated-es, which contradicts "
                + "estimator '\(e.rawValue)'; remove pes.persistent")
        case (.truncatedES?, true?):
            throw MetaTrainingError.invalid("pes.persistent", "true contradicts estimator truncated-es (which keeps no "
                + "accumulator); remove pes.persistent")
        default: break
        }
        return c.canonical
    }

    private static func merge(_ given: Any, into base: Any, path: String) throws -> Any {
        if path == "tasks.functions." || path == "augmentedTasks.base.functions." {
            guard let names = given as? [String] else {
                throw MetaTrainingError.invalid(String(path.dropLast()), "must be an array of function names")
            }
            return try names.map { name -> String in
                guard let f = BenchmarkFunction(name: name) else {
                    throw MetaTrainingError.invalid(String(path.dropLast()), ObjectiveError.unknownFunction(name).description)
                }
                return f.rawValue
            }
        }
        guard let g = given as? [String: Any], var b = base as? [String: Any] else { return given }
        if path == "pes.schedule." { return given }  // an enum: replaced whole
        if let unknown = UnknownField.first(in: g.keys, valid: b.keys.sorted(), prefix: path) {
            throw MetaTrainingError.invalid(unknown.field, unknown.message)
        }
        for (key, value) in g {
            b[key] = try merge(value, into: b[key]!, path: path + key + ".")
        }
        return b
    }
}
