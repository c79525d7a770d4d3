import ArgumentParser
import Foundation
import OptimusKit

#if canImport(Glibc)
import Glibc
#endif

/// `optimus train`: meta-trains a learned optimizer with PES.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Meta-train a learned optimizer with Persistent Evolution Strategies.",
        discussion: """
            The configuration is a JSON file (fields missing from it take their defaults; see \
            configs/*.json). Output: config.json, training-state.bin (resume), metrics.jsonl, \
            <kind>.safetensors, curve.svg. Interrupt at any time; --resume continues bit-identically from the \
            last checkpoint.
            """)

    @Option(help: "Training configuration (JSON).")
    var config: String

    @Option(help: "Output folder.")
    var output: String

    @Flag(help: "Continue the run in --output from its last checkpoint.")
    var resume = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: config) else {
            throw failure("config: cannot read '\(config)'", code: ExitStatus.usage)
        }
        let configuration: TrainingConfiguration
        do {
            configuration = try TrainingConfiguration.decode(data)
            try configuration.validate()
        } catch let e as MetaTrainingError {
            throw failure("config: \(e.description)", code: ExitStatus.dataError)
        } catch {
            throw failure("config: '\(config)' is not a valid training configuration: \(error)", code: ExitStatus.dataError)
        }
        let terminal = isatty(STDERR_FILENO) == 1
        var lastPrinted = 0
        do {
            try MetaTrainingRun.run(configuration: configuration, output: URL(fileURLWithPath: output), resume: resume) { p in
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
        }
    }
}

func formatDuration(_ s: Double) -> String {
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : "\(t / 60)m\(String(format: "%02d", t % 60))s"
}
