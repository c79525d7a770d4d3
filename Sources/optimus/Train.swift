import ArgumentParser
import Foundation
import OptimusKit

/// `optimus train`: meta-trains a learned optimizer (PES by default; the configuration's `estimator`).
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Meta-train a learned optimizer with Persistent Evolution Strategies or another estimator.",
        discussion: """
            The configuration is a JSON file (fields missing from it take their defaults; see \
            configs/*.json; "estimator" is pes (default), truncated-es, backprop or hybrid). Output: \
            config.json, training-state.bin (resume), metrics.jsonl, <kind>.safetensors, curve.svg. Interrupt at \
            any time; --resume continues bit-identically from the last checkpoint.
            """)

    @Option(help: "Training configuration (JSON).")
    var config: String

    @Option(help: "Output folder.")
    var output: String

    @Flag(help: "Continue the run in --output from its last checkpoint.")
    var resume = false

    @Option(name: .customLong("cpu-budget"), parsing: .unconditional,
            help: "Stop after the outer step at which the run's training CPU seconds (validation excluded, all sittings together) reach this many.")
    var cpuBudget: Double?

    func run() throws {
        let configuration = try loadTrainingConfiguration(config)
        let terminal = isatty(STDERR_FILENO) == 1
        var lastPrinted = 0
        if let b = cpuBudget, !(b.isFinite && b > 0) {
            throw failure("--cpu-budget: \(b) is not valid; give a positive number of seconds", code: ExitStatus.usage)
        }
        try createOutputFolder(output)
        do {
            try MetaTrainingRun.run(configuration: configuration, output: URL(fileURLWithPath: output), resume: resume,
                                    cpuBudget: cpuBudget) { p in
                let eta = p.secondsRemaining.isFinite ? formatDuration(p.secondsRemaining) : "?"
                let validation = p.validationLoss.map { String(format: "  validation %.3f", $0) } ?? ""
                let line = String(format: "step %d/%d  meta-loss %.4f  %.2f steps/s  ETA %@", p.step, p.total, p.loss,
                                  p.stepsPerSecond, eta) + validation
                if terminal {
                    let width = 30, filled = width * p.step / max(1, p.total)
                    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                    FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(line)".utf8))
                    if p.step == p.total { FileHandle.standardError.write(Data("\n".utf8)) }
                } else if p.validationLoss != nil || p.step - lastPrinted >= 10 || p.step == p.total {
                    log(line)
                    lastPrinted = p.step
                }
            }
        } catch let e as MetaTrainingError {
            throw failure(e.description, code: ExitStatus.dataError)
        } catch let e as CheckpointError {
            throw failure(e.description, code: ExitStatus.dataError)
        } catch let e as CocoaError where e.isWriteError {
            // Files of the output folder (state, metrics, checkpoints) that cannot be written.
            throw failure("output: cannot write in '\(output)': \(writeFailureReason(e))", code: ExitStatus.cannotCreate)
        }
    }
}

/// The training configuration in the JSON file at `path`, decoded and validated; errors name the field.
func loadTrainingConfiguration(_ path: String) throws -> TrainingConfiguration {
    let data = try readInputFile(path, field: "config")
    do {
        let configuration = try TrainingConfiguration.decode(data)
        try configuration.validate()
        return configuration
    } catch let e as MetaTrainingError {
        throw failure("config: \(e.description)", code: ExitStatus.dataError)
    } catch {
        throw failure("config: '\(path)' is not a valid training configuration: \(error)", code: ExitStatus.dataError)
    }
}

func formatDuration(_ s: Double) -> String {
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : "\(t / 60)m\(String(format: "%02d", t % 60))s"
}

/// `optimus validate`: the mean meta-loss of checkpoints on tasks of a training configuration's family.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mean meta-loss of checkpoints on held-out tasks of a training configuration's task family.",
        discussion: """
            Tasks are drawn with --seed from the family of --config (benchmark functions or reconstruction windows); \
            each checkpoint runs --steps steps on each. Lower is better (decades of progress from the start). Use a \
            seed other than the configuration's validation seed to compare checkpoints chosen by it.
            """)

    @Option(help: "Training configuration (JSON) whose task family to use.")
    var config: String

    @Option(help: "Checkpoint (safetensors); repeat to compare several.")
    var checkpoint: [String]

    @Option(parsing: .unconditional, help: "Number of tasks.")
    var tasks = 32

    @Option(parsing: .unconditional, help: "Seed of the tasks.", transform: parseSeed)
    var seed: UInt64 = 4242

    @Option(parsing: .unconditional, help: "Steps per task (default: the configuration's validation.steps).")
    var steps: Int?

    func validate() throws {
        guard tasks >= 1 else { throw ValidationError("tasks: must be ≥ 1") }
        if let steps, steps < 1 { throw ValidationError("steps: must be ≥ 1") }
        guard !checkpoint.isEmpty else { throw ValidationError("checkpoint: give at least one") }
    }

    func run() throws {
        let configuration = try loadTrainingConfiguration(config)
        for path in checkpoint {
            let stored = try readCheckpoint(path).checkpoint
            do {
                let loss = try MetaTrainingRun.heldOutLoss(configuration: configuration, checkpoint: stored, tasks: tasks,
                                                           seed: seed, steps: steps ?? configuration.validation.steps)
                print(String(format: "%@: mean meta-loss %.4f on %d tasks (seed %llu)", path, loss, tasks, seed))
            } catch let e as MetaTrainingError {
                throw failure(e.description, code: ExitStatus.dataError)
            }
        }
    }
}
