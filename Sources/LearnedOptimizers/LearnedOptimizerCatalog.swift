import Foundation
import Optimizers

/// Builds learned optimizers by name, preset and checkpoint, for the command line and the server.
public enum LearnedOptimizerCatalog {
    /// Command-line names of the learned optimizers.
    public static let names = ["adafactor-mlp", "optimus", "optimus-no-state", "optimus-no-structure"]

    /// Preset names per optimizer.
    public static func presets(for name: String) -> [String] {
        name == "adafactor-mlp" ? ["reference", "paper"] : ["paper", "small"]
    }

    /// Where a learned optimizer's θ comes from.
    public enum Source: Equatable, Sendable {
        /// A checkpoint file (given, or the shipped one).
        case file(String)
        /// An untrained initialization with this preset (``untrained(name:preset:seed:stepScale:curvaturePrior:)``).
        case untrained(preset: String)
    }

    /// Where the learned optimizer `name` comes from, for a caller that was given `checkpoint` and `preset` (nil: not
    /// given): the checkpoint; else, without a preset, the shipped trained checkpoint (`shipped`: default
    /// ``shippedCheckpoint(for:)``); else an untrained initialization with the preset, by default the first of
    /// ``presets(for:)``. The command line and the server both decide it here.
    public static func source(name: String, checkpoint: String?, preset: String?,
                              shipped: (String) -> URL? = shippedCheckpoint(for:)) -> Source {
        if let checkpoint { return .file(checkpoint) }
        if preset == nil, let file = shipped(name) { return .file(file.path) }
        return .untrained(preset: preset ?? presets(for: name)[0])
    }

    /// An untrained checkpoint (θ from `seed`) of the named optimizer and preset; nil for an unknown combination.
    public static func untrained(name: String, preset: String, seed: UInt64, stepScale: StepScale = .absolute,
                                 curvaturePrior: Optimus.CurvaturePrior = .none) -> Checkpoint? {
        let provenance = ["source": "untrained initialization", "seed": String(seed), "preset": preset]
        switch name {
        case "adafactor-mlp":
            var config: AdafactorMLP.Configuration
            switch preset {
            case "reference": config = .reference
            case "paper": config = .paper
            default: return nil
            }
            config.stepScale = stepScale
            let model = AdafactorMLP(configuration: config)
            return Checkpoint(model: model, parameters: model.initialParameters(seed: seed), provenance: provenance)
        case "optimus", "optimus-no-state", "optimus-no-structure":
            var config: Optimus.Configuration
            switch preset {
            case "paper": config = .paper
            case "small": config = .small
            default: return nil
            }
            config.variant = optimusVariant(named: name) ?? .full
            config.stepScale = stepScale
            config.curvaturePrior = curvaturePrior
            let model = Optimus(configuration: config)
            return Checkpoint(model: model, parameters: model.initialParameters(seed: seed), provenance: provenance)
        default:
            return nil
        }
    }

    /// Whether two checkpoints hold the same model (kind and configuration), optionally ignoring the step options
    /// that change no tensor (the step unit ``StepScale`` and Optimus's ``Optimus/CurvaturePrior``): θ of one is then
    /// a valid θ₀ of the other.
    public static func sameModel(_ a: Checkpoint, _ b: Checkpoint, ignoringStepOptions: Bool) -> Bool {
        guard a.kind == b.kind else { return false }
        if a.configuration == b.configuration { return true }
        guard ignoringStepOptions else { return false }
        // Both with the papers' options: equal configurations then differ in nothing but those options.
        let prior: Optimus.CurvaturePrior? = a.kind == Optimus.kind ? Optimus.CurvaturePrior.none : nil
        guard let x = try? withStepOptions(a, stepScale: .absolute, curvaturePrior: prior),
              let y = try? withStepOptions(b, stepScale: .absolute, curvaturePrior: prior) else { return false }
        return x.configuration == y.configuration
    }

    /// `checkpoint` with the step options that change no tensor replaced (nil: keep the checkpoint's): the step unit
    /// and, for Optimus, the curvature prior. The tensors and provenance stay; throws for an unknown kind, a prior
    /// asked of Adafactor-MLP (it has no preconditioner), or a configuration the model refuses.
    public static func withStepOptions(
        _ checkpoint: Checkpoint, stepScale: StepScale?, curvaturePrior: Optimus.CurvaturePrior?
    ) throws(CheckpointError) -> Checkpoint {
        switch checkpoint.kind {
        case Optimus.kind:
            var config = try checkpoint.configuration(of: Optimus.self)
            if let stepScale { config.stepScale = stepScale }
            if let curvaturePrior { config.curvaturePrior = curvaturePrior }
            return try rebuilt(checkpoint, as: Optimus.self, configuration: config)
        case AdafactorMLP.kind:
            guard curvaturePrior == nil || curvaturePrior == Optimus.CurvaturePrior.none else {
                throw .unsupported("curvaturePrior: Adafactor-MLP has no preconditioner")
            }
            var config = try checkpoint.configuration(of: AdafactorMLP.self)
            if let stepScale { config.stepScale = stepScale }
            return try rebuilt(checkpoint, as: AdafactorMLP.self, configuration: config)
        default:
            throw .unsupported("kind \(checkpoint.kind); known kinds: \(AdafactorMLP.kind), \(Optimus.kind)")
        }
    }

    /// θ of `checkpoint` (same layout) under another configuration of its model.
    private static func rebuilt<M: LearnedOptimizer>(
        _ checkpoint: Checkpoint, as type: M.Type, configuration: M.Configuration
    ) throws(CheckpointError) -> Checkpoint {
        try M.validate(configuration)
        let theta = try checkpoint.parameters(for: try checkpoint.model(M.self))
        return Checkpoint(model: M(configuration: configuration), parameters: theta, provenance: checkpoint.provenance)
    }

    /// Throws ``CheckpointError/mismatch(_:)`` naming both when `checkpoint` does not hold the learned optimizer
    /// called `name` (its kind, and for Optimus its variant: `optimus-no-state` needs a no-state checkpoint).
    public static func checkMatches(name: String, checkpoint: Checkpoint) throws(CheckpointError) {
        guard names.contains(name) else {
            throw .mismatch("'\(name)' is not a learned optimizer; valid: \(names.joined(separator: ", "))")
        }
        let expectedKind = name == "adafactor-mlp" ? AdafactorMLP.kind : Optimus.kind
        guard checkpoint.kind == expectedKind else {
            throw .mismatch("the optimizer is \(name) but the checkpoint holds \(checkpoint.kind)")
        }
        if let expected = optimusVariant(named: name) {
            let variant = try checkpoint.configuration(of: Optimus.self).variant
            guard variant == expected else {
                throw .mismatch("the optimizer is \(name) (variant \(expected.rawValue)) but the checkpoint holds "
                    + "Optimus variant \(variant.rawValue)")
            }
        }
    }

    /// The Optimus variant a command-line name stands for (`optimus`, `optimus-no-state`, `optimus-no-structure`);
    /// nil for other names.
    public static func optimusVariant(named name: String) -> Optimus.Variant? {
        switch name {
        case "optimus": .full
        case "optimus-no-state": .noState
        case "optimus-no-structure": .noStructure
        default: nil
        }
    }

    /// The optimizer stored in a checkpoint (any kind), validated against its own configuration.
    public static func optimizer(from checkpoint: Checkpoint, horizon: Int? = nil) throws(CheckpointError)
        -> any Optimizer
    {
        switch checkpoint.kind {
        case AdafactorMLP.kind:
            let model = try checkpoint.model(AdafactorMLP.self)
            return model.optimizer(theta: try checkpoint.parameters(for: model), horizon: horizon)
        case Optimus.kind:
            let model = try checkpoint.model(Optimus.self)
            return model.optimizer(theta: try checkpoint.parameters(for: model), horizon: horizon)
        default:
            throw .unsupported("kind \(checkpoint.kind); known kinds: \(AdafactorMLP.kind), \(Optimus.kind)")
        }
    }

    /// File names of the trained checkpoints shipped in the repository's `checkpoints/` folder.
    public static let shippedFiles = [
        "optimus": "optimus-functions.safetensors",
        "adafactor-mlp": "adafactor-mlp-functions.safetensors",
    ]

    /// File names of the shipped checkpoints meta-trained on physics reconstruction windows (`optimus reconstruct`
    /// uses them by default; an optimizer without one uses its benchmark checkpoint). Optimus's is the one trained on
    /// walking windows with the current physics (`training/optimus-small-motion-walking`, then
    /// `training/optimus-small-motion-walking-late`), which reconstructs better than the earlier
    /// `optimus-motion.safetensors` on both held-out clips (`results/reconstruction`).
    public static let shippedMotionFiles = [
        "optimus": "optimus-motion-walking.safetensors",
    ]

    /// The shipped checkpoint of `name`, if it can be found: in `$OPTIMUS_CHECKPOINTS`, else in a `checkpoints`
    /// folder next to the executable or above it (a `swift build` binary sits in `.build/<config>/`), else above the
    /// current folder.
    public static func shippedCheckpoint(for name: String) -> URL? {
        guard let file = shippedFiles[name] else { return nil }
        return shippedCheckpoint(file: file)
    }

    /// The shipped checkpoint of `name` for motion reconstruction: its motion-fine-tuned file where one is shipped,
    /// else ``shippedCheckpoint(for:)``.
    public static func shippedMotionCheckpoint(for name: String) -> URL? {
        shippedMotionFiles[name].flatMap { shippedCheckpoint(file: $0) } ?? shippedCheckpoint(for: name)
    }

    /// A file of the shipped `checkpoints` folder, found as ``shippedCheckpoint(for:)`` describes.
    public static func shippedCheckpoint(file: String) -> URL? {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["OPTIMUS_CHECKPOINTS"] {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(file)
            return fm.fileExists(atPath: url.path) ? url : nil
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for start in [executable.deletingLastPathComponent(), URL(fileURLWithPath: fm.currentDirectoryPath)] {
            var folder = start
            for _ in 0..<6 {
                let url = folder.appendingPathComponent("checkpoints").appendingPathComponent(file)
                if fm.fileExists(atPath: url.path) { return url }
                folder.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// The number of meta-parameters of a checkpoint's model.
    public static func parameterCount(_ checkpoint: Checkpoint) -> Int { checkpoint.parameters.count }
}
