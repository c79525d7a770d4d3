import ArgumentParser
import Foundation
import OptimusKit

/// The learned optimizer called `name`: from `checkpoint`; else, without a preset, the shipped trained checkpoint;
/// else untrained from `seed` with `preset` (with a warning on standard error).
func loadLearnedOptimizer(name: String, checkpoint: String?, preset: String?, seed: UInt64) throws -> any Optimizer {
    let stored: Checkpoint
    var path = checkpoint
    if path == nil, preset == nil, let shipped = LearnedOptimizerCatalog.shippedCheckpoint(for: name) {
        path = shipped.path
    }
    if let path {
        do { stored = try Checkpoint.read(from: URL(fileURLWithPath: path)) } catch {
            throw failure("\(error.description)", code: ExitStatus.dataError)
        }
    } else {
        let p = preset ?? LearnedOptimizerCatalog.presets(for: name)[0]
        guard let c = LearnedOptimizerCatalog.untrained(name: name, preset: p, seed: seed) else {
            throw failure("preset: '\(p)' is not valid for \(name)", code: ExitStatus.usage)
        }
        log("warning: \(name) is untrained (preset \(p), θ from seed \(seed)); pass --checkpoint FILE for a trained one"
            + (LearnedOptimizerCatalog.shippedFiles[name] == nil ? "" : ", or omit --preset to use the shipped checkpoint"))
        stored = c
    }
    do { return try LearnedOptimizerCatalog.optimizer(from: stored) } catch {
        throw failure(error.description, code: ExitStatus.dataError)
    }
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
        @Option(help: "Seed of θ.")
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
                throw failure("output: cannot write '\(output)': \(error.localizedDescription)", code: ExitStatus.usage)
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
            let c: Checkpoint
            do { c = try Checkpoint.read(from: URL(fileURLWithPath: path)) } catch {
                throw failure(error.description, code: ExitStatus.dataError)
            }
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
