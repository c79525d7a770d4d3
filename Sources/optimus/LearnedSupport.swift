import ArgumentParser
import Foundation
import OptimusKit

/// The checkpoint file at `path` (option `field`): exit 66 with the reason when it cannot be read, 65 when it is not
/// a valid checkpoint.
func readCheckpoint(_ path: String, field: String = "checkpoint") throws -> (checkpoint: Checkpoint, data: Data) {
    let data = try readInputFile(path, field: field)
    do { return (try Checkpoint.parse(data), data) } catch {
        throw failure("\(field): '\(path)': \(error.reason)", code: ExitStatus.dataError)
    }
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

    /// "checkpoints/optimus-functions.safetensors (optimus, 20843 meta-parameters, sha256 f7d7da52…)".
    var description: String {
        guard let path else {
            return "untrained (\(checkpoint.kind), \(checkpoint.parameters.count) meta-parameters, "
                + "\(checkpoint.provenance["preset"] ?? "?") preset)"
        }
        return describeCheckpoint(path: path, kind: checkpoint.kind, parameters: checkpoint.parameters.count,
                                  sha256: sha256 ?? "?")
    }
}

/// "checkpoints/optimus-functions.safetensors (optimus, 20843 meta-parameters, sha256 f7d7da523545…)": how the CLI
/// names a checkpoint file it loaded.
func describeCheckpoint(path: String, kind: String, parameters: Int, sha256: String) -> String {
    "\(path) (\(kind), \(parameters) meta-parameters, sha256 \(sha256.prefix(12))…)"
}

/// The learned optimizer called `name` with the file it came from; see ``loadLearnedOptimizer(name:checkpoint:preset:seed:)``.
func loadLearned(name: String, checkpoint: String?, preset: String?, seed: UInt64,
                 shipped: (String) -> URL? = LearnedOptimizerCatalog.shippedCheckpoint(for:)) throws
    -> LoadedLearnedOptimizer
{
    let stored: Checkpoint
    var path = checkpoint
    var sha: String?
    if path == nil, preset == nil, let file = shipped(name) {
        path = file.path
    }
    if let path {
        let (c, data) = try readCheckpoint(path)
        stored = c
        sha = SHA256.hex(data)
    } else {
        let p = preset ?? LearnedOptimizerCatalog.presets(for: name)[0]
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

/// The learned optimizer called `name`: from `checkpoint`; else, without a preset, the shipped trained checkpoint;
/// else untrained from `seed` with `preset` (with a warning on standard error).
func loadLearnedOptimizer(name: String, checkpoint: String?, preset: String?, seed: UInt64) throws -> any Optimizer {
    try loadLearned(name: name, checkpoint: checkpoint, preset: preset, seed: seed).optimizer
}

/// `optimus checkpoint`: create and inspect learned-optimizer checkpoints.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Create and inspect learned-optimizer checkpoints (safetensors).",
        subcommands: [Initialize.self, Inspect.self])

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

        func validate() throws {
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
            guard let c = LearnedOptimizerCatalog.untrained(name: optimizer, preset: p, seed: seed) else {
                throw failure("preset: '\(p)' is not valid for \(optimizer)", code: ExitStatus.usage)
            }
            do { try c.write(to: URL(fileURLWithPath: output)) } catch {
                throw failure("output: cannot write '\(output)': \(error.localizedDescription)",
                              code: ExitStatus.cannotCreate)
            }
            log("wrote \(output): \(c.kind), \(c.parameters.count) parameters")
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a checkpoint.")
        @Argument(help: "Checkpoint file.")
        var path: String
        @Flag(help: "Print one JSON object on standard output.")
        var json = false
        @Flag(help: "With --json, include every tensor's values.")
        var values = false

        struct Tensor: Encodable { var name: String; var shape: [Int]; var values: [Float]? }
        struct Output: Encodable {
            var kind: String
            var configuration: String
            var provenance: [String: String]
            var parameterCount: Int
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
                             parameterCount: c.parameters.count, tensors: tensors)
            if json {
                try printJSON(out)
                return
            }
            print("kind           \(c.kind)")
            print("configuration  \(c.configuration)")
            print("provenance     \(c.provenance.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
            print("parameters     \(c.parameters.count) in \(c.layout.tensors.count) tensors")
            for t in c.layout.tensors { print("  \(pad(t.name, 40)) \(t.shape)") }
        }
    }
}
