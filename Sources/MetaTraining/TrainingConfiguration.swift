import Foundation
import LearnedOptimizers
import Objectives

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
        public init() {}
    }

    public var model = Model()
    /// `benchmark`: the test functions (`tasks`); `motion`: physics reconstruction windows (`motionTasks`).
    public var taskFamily: String = "benchmark"
    public var tasks = TaskDistribution()
    public var motionTasks = MotionTaskDistribution()
    public var normalizer = MetaLossNormalizer()
    public var pes = PESConfiguration()
    public var outerSteps: Int = 500
    /// Write the training state and the safetensors every this many outer steps.
    public var checkpointEvery: Int = 25
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
        default: throw .invalid("taskFamily", "'\(taskFamily)' is not valid; use benchmark or motion")
        }
        try pes.validate()
        guard outerSteps >= 1 else { throw .invalid("outerSteps", "must be ≥ 1") }
        guard checkpointEvery >= 1 else { throw .invalid("checkpointEvery", "must be ≥ 1") }
        guard validation.every >= 0, validation.tasks >= 1, validation.steps >= 1 else {
            throw .invalid("validation", "every ≥ 0, tasks ≥ 1 and steps ≥ 1")
        }
    }

    /// Decodes a configuration file: fields missing from the file take their defaults, unknown fields are rejected
    /// (a typo must not silently fall back to a default), function names may be spelled as `optimus functions`
    /// accepts them.
    public static func decode(_ data: Data) throws -> TrainingConfiguration {
        guard let given = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw MetaTrainingError.invalid("configuration", "must be a JSON object")
        }
        let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfiguration()))
        let merged = try merge(given, into: defaults, path: "")
        return try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    private static func merge(_ given: Any, into base: Any, path: String) throws -> Any {
        if path == "tasks.functions." {
            guard let names = given as? [String] else {
                throw MetaTrainingError.invalid("tasks.functions", "must be an array of function names")
            }
            return try names.map { name -> String in
                guard let f = BenchmarkFunction(name: name) else {
                    throw MetaTrainingError.invalid("tasks.functions", ObjectiveError.unknownFunction(name).description)
                }
                return f.rawValue
            }
        }
        guard let g = given as? [String: Any], var b = base as? [String: Any] else { return given }
        if path == "pes.schedule." { return given }  // an enum: replaced whole
        for (key, value) in g {
            guard let reference = b[key] else {
                throw MetaTrainingError.invalid(path + key, "unknown field; valid: \(b.keys.sorted().joined(separator: ", "))")
            }
            b[key] = try merge(value, into: reference, path: path + key + ".")
        }
        return b
    }
}
