import ArgumentParser
import Foundation
import OptimusKit

/// The checkpoint file at `path` (option `field`): exit 66 with the reason when it cannot be read, 65 when it is not
/// a valid checkpoint or its weights do not match their recorded SHA-256. A file without a recorded hash (written
/// before checkpoints carried one) loads with a one-line notice on standard error, since its weights cannot be checked.
func readCheckpoint(_ path: String, field: String = "checkpoint") throws -> (checkpoint: Checkpoint, data: Data) {
    let data = try readInputFile(path, field: field)
    let checkpoint: Checkpoint
    do { checkpoint = try Checkpoint.parse(data) } catch {
        throw failure("\(field): '\(path)': \(error.reason)", code: ExitStatus.dataError)
    }
    if !checkpoint.weightsVerified { log(unverifiedCheckpointNotice(path)) }
    return (checkpoint, data)
}

/// The notice for a checkpoint without a weight hash.
func unverifiedCheckpointNotice(_ path: String) -> String {
    "notice: checkpoint '\(path)' records no weight hash (written before checkpoints carried one), so corrupted "
        + "weights cannot be detected; `optimus checkpoint rehash \(path)` adds it"
}

extension CheckpointError {
    /// The description without its leading "checkpoint: " (the CLI names the field itself).
    var reason: String {
        description.hasPrefix("checkpoint: ") ? String(description.dropFirst("checkpoint: ".count)) : description
    }
}

/// A learned optimizer and where it came from.
struct LoadedLearnedOptimizer {
    var optimizer: any Optimizer
    var checkpoint: Checkpoint
    /// The file (relative to the current folder when below it), or nil for an untrained initialization.
    var path: String?
    var sha256: String?

    /// "checkpoints/optimus-functions.safetensors (optimus, 20843 meta-parameters, sha256 90fc3b00…)".
    var description: String {
        guard let path else {
            return "untrained (\(checkpoint.kind), \(checkpoint.parameters.count) meta-parameters, "
                + "\(checkpoint.provenance["preset"] ?? "?") preset)"
        }
        return describeCheckpoint(path: path, kind: checkpoint.kind, parameters: checkpoint.parameters.count,
                                  sha256: sha256 ?? "?")
    }
}

/// "checkpoints/optimus-functions.safetensors (optimus, 20843 meta-parameters, sha256 90fc3b00a69e…)": how the CLI
/// names a checkpoint file it loaded.
func describeCheckpoint(path: String, kind: String, parameters: Int, sha256: String) -> String {
    "\(path) (\(kind), \(parameters) meta-parameters, sha256 \(sha256.prefix(12))…)"
}

/// The learned optimizer called `name` with the file it came from: from `checkpoint`; else, without a preset, the
/// shipped trained checkpoint; else untrained from `seed` with `preset` (with a warning on standard error); the choice
/// is ``LearnedOptimizerCatalog/source(name:checkpoint:preset:shipped:)``.
func loadLearned(name: String, checkpoint: String?, preset: String?, seed: UInt64,
                 shipped: (String) -> URL? = LearnedOptimizerCatalog.shippedCheckpoint(for:)) throws
    -> LoadedLearnedOptimizer
{
    let stored: Checkpoint
    var path: String?
    var sha: String?
    switch LearnedOptimizerCatalog.source(name: name, checkpoint: checkpoint, preset: preset, shipped: shipped) {
    case .file(let file):
        path = file
        let (c, data) = try readCheckpoint(file)
        stored = c
        sha = SHA256.hex(data)
    case .untrained(let p):
        guard let c = LearnedOptimizerCatalog.untrained(name: name, preset: p, seed: seed) else {
            throw failure("preset: '\(p)' is not valid for \(name)", code: ExitStatus.usage)
        }
        log("warning: \(name) is untrained (preset \(p), θ from seed \(seed)); pass --checkpoint FILE for a trained one"
            + (LearnedOptimizerCatalog.shippedFiles[name] == nil ? "" : ", or omit --preset to use the shipped checkpoint"))
        stored = c
    }
    let optimizer: any Optimizer
    do {
        try LearnedOptimizerCatalog.checkMatches(name: name, checkpoint: stored)
        optimizer = try LearnedOptimizerCatalog.optimizer(from: stored)
    } catch {
        throw failure("checkpoint: \(path.map { "'\($0)': " } ?? "")\(error.reason)", code: ExitStatus.dataError)
    }
    return LoadedLearnedOptimizer(optimizer: optimizer, checkpoint: stored, path: path.map(displayPath), sha256: sha)
}

/// The optimizer called `name` (any case), the one way the commands turn a name into an optimizer: a learned one
/// through ``loadLearned(name:checkpoint:preset:seed:shipped:)`` (returned with its file), a classical one through
/// ``OptimizerCatalog/classical(named:learningRate:lineSearch:)`` with `learningRate` and `lineSearch` (an option it
/// refuses exits ``ExitStatus/usage``).
func resolveOptimizer(named name: String, checkpoint: String?, preset: String?, seed: UInt64, learningRate: Double?,
                      lineSearch: LineSearchMethod,
                      shipped: (String) -> URL? = LearnedOptimizerCatalog.shippedCheckpoint(for:)) throws
    -> (optimizer: any Optimizer, learned: LoadedLearnedOptimizer?)
{
    if LearnedOptimizerCatalog.names.contains(name.lowercased()) {
        let loaded = try loadLearned(name: name.lowercased(), checkpoint: checkpoint, preset: preset, seed: seed,
                                     shipped: shipped)
        return (loaded.optimizer, loaded)
    }
    do {
        return (try OptimizerCatalog.classical(named: name, learningRate: learningRate, lineSearch: lineSearch), nil)
    } catch {
        throw failure(error.description, code: ExitStatus.usage)
    }
}

/// `optimus checkpoint`: create and inspect learned-optimizer checkpoints.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Create and inspect learned-optimizer checkpoints (safetensors).",
        subcommands: [Initialize.self, Inspect.self, Rehash.self, Convert.self])

    struct Initialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Write an untrained checkpoint (θ drawn from --seed).")
        @Option(help: "Optimizer: \(LearnedOptimizerCatalog.names.joined(separator: ", ")).")
        var optimizer: String
        @Option(help: "Preset (adafactor-mlp: reference, paper; optimus: paper, small).")
        var preset: String?
        @Option(parsing: .unconditional, help: "Seed of θ.", transform: parseSeed)
        var seed: UInt64 = 0
        @Option(help: "Output file (.safetensors).")
        var output: String
        @Option(help: "Unit of the learned step: \(StepScale.names) (absolute: the papers'; secant: equivariant to rescaling x).")
        var stepScale: String = StepScale.absolute.rawValue
        @Option(help: "Optimus only: what the learned updates of B add to: \(Optimus.CurvaturePrior.names) (none: the paper).")
        var curvaturePrior: String = Optimus.CurvaturePrior.none.rawValue

        func validate() throws {
            guard StepScale(rawValue: stepScale) != nil else {
                throw ValidationError("step-scale: '\(stepScale)' is not valid; valid: \(StepScale.names)")
            }
            guard let prior = Optimus.CurvaturePrior(rawValue: curvaturePrior) else {
                throw ValidationError("curvature-prior: '\(curvaturePrior)' is not valid; valid: \(Optimus.CurvaturePrior.names)")
            }
            guard prior == .none || optimizer == "optimus" else {
                throw ValidationError("curvature-prior: '\(curvaturePrior)' needs --optimizer optimus, not '\(optimizer)'")
            }
            guard LearnedOptimizerCatalog.names.contains(optimizer) else {
                throw ValidationError("optimizer: '\(optimizer)' is not valid; valid: "
                    + LearnedOptimizerCatalog.names.joined(separator: ", "))
            }
            if let p = preset, !LearnedOptimizerCatalog.presets(for: optimizer).contains(p) {
                throw ValidationError("preset: '\(p)' is not valid for \(optimizer); valid: "
                    + LearnedOptimizerCatalog.presets(for: optimizer).joined(separator: ", "))
            }
        }

        func run() throws {
            let p = preset ?? LearnedOptimizerCatalog.presets(for: optimizer)[0]
            guard let c = LearnedOptimizerCatalog.untrained(name: optimizer, preset: p, seed: seed,
                                                            stepScale: StepScale(rawValue: stepScale) ?? .absolute,
                                                            curvaturePrior: Optimus.CurvaturePrior(rawValue: curvaturePrior) ?? .none)
            else {
                throw failure("preset: '\(p)' is not valid for \(optimizer)", code: ExitStatus.usage)
            }
            try prepareOutputFile(output)
            do { try c.write(to: URL(fileURLWithPath: output)) } catch {
                throw failure("output: cannot write '\(output)': \(writeFailureReason(error))",
                              code: ExitStatus.cannotCreate)
            }
            log("wrote \(output): \(c.kind), \(c.parameters.count) parameters")
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a checkpoint.")
        @Argument(help: "Checkpoint file.")
        var path: String
        @OptionGroup var format: JSONOutputOption
        @Flag(help: "With --json, include every tensor's values.")
        var values = false

        struct Tensor: Encodable { var name: String; var shape: [Int]; var values: [Float]? }
        struct Output: Encodable {
            var kind: String
            var configuration: String
            var provenance: [String: String]
            var parameterCount: Int
            /// The SHA-256 of the weights (``Checkpoint/weightsSHA256``).
            var weightsSHA256: String
            /// Whether the file recorded that hash and the weights matched it (false: an older file without one).
            var weightsVerified: Bool
            var tensors: [Tensor]
        }

        func run() throws {
            let c = try readCheckpoint(path).checkpoint
            do { _ = try LearnedOptimizerCatalog.optimizer(from: c) } catch {
                throw failure(error.description, code: ExitStatus.dataError)
            }
            let tensors = c.layout.tensors.map { t in
                Tensor(name: t.name, shape: t.shape,
                       values: values ? Array(c.parameters[t.offset..<(t.offset + t.count)]) : nil)
            }
            let out = Output(kind: c.kind, configuration: c.configuration, provenance: c.provenance,
                             parameterCount: c.parameters.count, weightsSHA256: c.weightsSHA256,
                             weightsVerified: c.weightsVerified, tensors: tensors)
            if format.json {
                try printJSON(out)
                return
            }
            print("kind           \(c.kind)")
            print("configuration  \(c.configuration)")
            print("provenance     \(c.provenance.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
            print("parameters     \(c.parameters.count) in \(c.layout.tensors.count) tensors")
            print("weights sha256 \(c.weightsSHA256) (\(c.weightsVerified ? "verified" : "not recorded in the file"))")
            for t in c.layout.tensors { print("  \(pad(t.name, 40)) \(t.shape)") }
        }
    }

    /// `optimus checkpoint rehash`: adds the weights' SHA-256 to a checkpoint written before checkpoints carried one.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a checkpoint's θ with other step options (unit, curvature prior): same tensors.",
            discussion: """
                The step unit (--step-scale) and Optimus's curvature prior (--curvature-prior) change no tensor, so \
                a trained θ can be run, or fine-tuned, with either. This writes the input's tensors and provenance \
                (plus the conversion) under the new configuration. Options not given keep the input's value.
                """)
        @Argument(help: "Checkpoint file.")
        var path: String
        @Option(help: "Output file (.safetensors).")
        var output: String
        @Option(help: "Unit of the learned step: \(StepScale.names).")
        var stepScale: String?
        @Option(help: "Optimus only: \(Optimus.CurvaturePrior.names).")
        var curvaturePrior: String?

        func validate() throws {
            if let stepScale, StepScale(rawValue: stepScale) == nil {
                throw ValidationError("step-scale: '\(stepScale)' is not valid; valid: \(StepScale.names)")
            }
            if let curvaturePrior, Optimus.CurvaturePrior(rawValue: curvaturePrior) == nil {
                throw ValidationError("curvature-prior: '\(curvaturePrior)' is not valid; valid: \(Optimus.CurvaturePrior.names)")
            }
        }

        func run() throws {
            let data = try readInputFile(path, field: "checkpoint")
            let c: Checkpoint
            do { c = try Checkpoint.parse(data) } catch {
                throw failure("checkpoint: '\(path)': \(error.reason)", code: ExitStatus.dataError)
            }
            let prior = curvaturePrior.flatMap(Optimus.CurvaturePrior.init(rawValue:))
            if c.kind == AdafactorMLP.kind, let prior, prior != .none {
                throw failure("curvature-prior: Adafactor-MLP has no preconditioner", code: ExitStatus.usage)
            }
            var converted: Checkpoint
            do {
                converted = try LearnedOptimizerCatalog.withStepOptions(
                    c, stepScale: stepScale.flatMap(StepScale.init(rawValue:)),
                    curvaturePrior: prior)
            } catch {
                throw failure("checkpoint: '\(path)': \(error.reason)", code: ExitStatus.dataError)
            }
            converted.provenance["converted from"] = (path as NSString).lastPathComponent
            try prepareOutputFile(output)
            do { try converted.write(to: URL(fileURLWithPath: output)) } catch {
                throw failure("output: cannot write '\(output)': \(writeFailureReason(error))", code: ExitStatus.cannotCreate)
            }
            log("wrote \(output): \(converted.kind), configuration \(converted.configuration)")
        }
    }

    struct Rehash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the weights' SHA-256 to an older checkpoint (same weights, same metadata).",
            discussion: """
                A checkpoint written before swift-optimus recorded a weight hash loads with a notice, since \
                corrupted weights cannot be detected in it. This rewrites the file (atomically, or to --output) \
                with the same tensors and metadata plus __metadata__.weightsSHA256, then reads it back and checks \
                that every weight is bit-identical. A file whose recorded hash does not match is refused: hashing \
                corrupted weights would bless them.
                """)
        @Argument(help: "Checkpoint file.")
        var path: String
        @Option(help: "Write here instead of replacing the file.")
        var output: String?

        func run() throws {
            let data = try readInputFile(path, field: "checkpoint")
            let c: Checkpoint
            do { c = try Checkpoint.parse(data) } catch {
                throw failure("checkpoint: '\(path)': \(error.reason)", code: ExitStatus.dataError)
            }
            // Only a checkpoint that loads as a model is worth a hash.
            do { _ = try LearnedOptimizerCatalog.optimizer(from: c) } catch {
                throw failure("checkpoint: '\(path)': \(error.reason)", code: ExitStatus.dataError)
            }
            let target = output ?? path
            if let output { try prepareOutputFile(output) }
            if c.weightsVerified && output == nil {
                print("\(path): already records its weight hash \(c.weightsSHA256.prefix(16))…; unchanged")
                return
            }
            let rewritten = c.serialized()
            do { try rewritten.write(to: URL(fileURLWithPath: target), options: .atomic) } catch {
                throw failure("output: cannot write '\(target)': \(writeFailureReason(error))",
                              code: ExitStatus.cannotCreate)
            }
            // Read back what was written: verified, and the same θ bit for bit.
            guard let back = try? Checkpoint.parse(rewritten), back.weightsVerified, back == c,
                  back.parameters.map(\.bitPattern) == c.parameters.map(\.bitPattern)
            else { throw failure("internal: the rewritten checkpoint does not read back identically", code: ExitStatus.internalError) }
            print("\(target): weights sha256 \(c.weightsSHA256) recorded (\(c.parameters.count) weights, bit-identical)")
        }
    }
}
