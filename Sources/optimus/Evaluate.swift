import ArgumentParser
import Foundation
import OptimusKit
import Synchronization

/// `optimus evaluate`: every problem × solver × start of a suite, as JSON Lines; resumable.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark suite (every problem × solver × start) and record the runs as JSON Lines.",
        discussion: """
            Built-in suites: paper (the paper's Section 5.1: 15 functions × d ∈ {250, 500, 1000}), quick (a few \
            small problems). --suite also takes a JSON file (write a template with --print-suite paper). \
            Output: suite.json, manifest.json (checkpoint hashes, wall time), tuning.jsonl, records.jsonl, \
            generalization.jsonl, step-directions.jsonl. Interrupt at any time and run the same command again: \
            finished runs are kept and skipped. Then: optimus report DIR.
            """)

    @Option(help: "Suite: paper, quick, or a suite file (JSON).")
    var suite: String?

    @Option(help: "Output folder.")
    var output: String?

    @Option(name: .customLong("checkpoint"),
            help: "Checkpoint of a learned solver as NAME=FILE (repeatable); default: the shipped checkpoints.")
    var checkpoints: [String] = []

    @OptionGroup var workers: ThreadsOption

    @Option(help: "Print a built-in suite as JSON (a template for your own) and exit.")
    var printSuite: String?

    func validate() throws {
        if let t = workers.threads, t < 1 { throw ValidationError("threads: must be ≥ 1") }
        if printSuite == nil {
            guard suite != nil else { throw ValidationError("suite: required (paper, quick, or a suite file)") }
            guard output != nil else { throw ValidationError("output: required (a folder)") }
        }
        for c in checkpoints {
            let parts = c.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, LearnedOptimizerCatalog.names.contains(String(parts[0])) else {
                throw ValidationError("checkpoint: '\(c)' must be NAME=FILE with NAME one of "
                    + LearnedOptimizerCatalog.names.joined(separator: ", "))
            }
        }
    }

    func run() throws {
        if let name = printSuite {
            guard let s = EvaluationSuite.builtIn(name) else {
                throw failure("print-suite: '\(name)' is not a built-in suite; valid: "
                    + EvaluationSuite.builtInNames.joined(separator: ", "), code: ExitStatus.usage)
            }
            print(String(decoding: try makeRecordEncoder(pretty: true).encode(s), as: UTF8.self))
            return
        }
        let suite = try loadSuite(self.suite!)
        var paths: [String: String] = [:]
        for c in checkpoints {
            let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
            paths[parts[0]] = parts[1]
        }
        let learned = try learnedSolvers(for: suite, paths: paths)
        try createOutputFolder(output!)
        let evaluator = Evaluator(suite: suite, output: URL(fileURLWithPath: output!), learned: learned,
                                  threads: workers.count,
                                  command: (["optimus"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        let terminal = isatty(STDERR_FILENO) == 1
        let printer = ProgressPrinter(terminal: terminal)
        do {
            try evaluator.run { p in printer.show(p) }
        } catch let e as EvaluationError {
            throw failure(e.description, code: exitStatus(of: e))
        } catch {
            throw failure("\(error)", code: ExitStatus.internalError)
        }
        log("done: \(output!) (next: optimus report \(output!))")
    }
}

/// The exit status of an evaluation error: 73 for an output that cannot be written, 65 for invalid content.
func exitStatus(of e: EvaluationError) -> Int32 {
    if case .cannotWrite = e { return ExitStatus.cannotCreate }
    return ExitStatus.dataError
}

/// The learned solvers a suite names, from `paths` (solver name → file) or the shipped checkpoints; paths are recorded
/// relative to the current folder when the file lies below it.
func learnedSolvers(for suite: EvaluationSuite, paths: [String: String]) throws -> [String: Evaluator.LearnedSolver] {
    var learned: [String: Evaluator.LearnedSolver] = [:]
    for name in Evaluator.solverNames(of: suite) where LearnedOptimizerCatalog.names.contains(name) {
        // A suite's learned solver needs a file: no fallback to an untrained initialization.
        guard let path = paths[name] ?? LearnedOptimizerCatalog.shippedCheckpoint(for: name)?.path else {
            throw failure("checkpoint: no shipped checkpoint for '\(name)'; pass --checkpoint \(name)=FILE",
                          code: ExitStatus.usage)
        }
        let loaded = try loadLearned(name: name, checkpoint: path, preset: nil, seed: 0)
        learned[name] = Evaluator.LearnedSolver(
            optimizer: loaded.optimizer, checkpointPath: loaded.path ?? "", sha256: loaded.sha256 ?? "",
            kind: loaded.checkpoint.kind, parameterCount: loaded.checkpoint.parameters.count)
    }
    return learned
}

/// Reads a suite by built-in name or file.
func loadSuite(_ nameOrPath: String) throws -> EvaluationSuite {
    let suite: EvaluationSuite
    if let s = EvaluationSuite.builtIn(nameOrPath) {
        suite = s
    } else {
        guard FileManager.default.fileExists(atPath: nameOrPath) else {
            throw failure("suite: '\(nameOrPath)' is neither a built-in suite (\(EvaluationSuite.builtInNames.joined(separator: ", "))) "
                + "nor a file", code: ExitStatus.usage)
        }
        let data = try readInputFile(nameOrPath, field: "suite")
        do { suite = try EvaluationSuite.decode(data) } catch {
            throw failure("suite \(nameOrPath): \(error.description)", code: ExitStatus.dataError)
        }
    }
    do { try suite.validate() } catch { throw failure("suite: \(error.description)", code: ExitStatus.dataError) }
    return suite
}

/// A progress line on standard error: redrawn in place on a terminal, one line per 10 % (and per phase) otherwise.
final class ProgressPrinter: Sendable {
    let terminal: Bool
    private let last = Mutex<(phase: String, tenth: Int)>(("", -1))
    init(terminal: Bool) { self.terminal = terminal }

    func show(_ p: Evaluator.Progress) {
        last.withLock { state in
            let fraction = p.total == 0 ? 1 : Double(p.done) / Double(p.total)
            let line = String(format: "%@ %d/%d  %.0f s elapsed", p.phase, p.done, p.total, p.elapsedSeconds)
            if terminal {
                let width = 30, filled = Int(Double(width) * fraction)
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(line)".utf8))
                if p.done == p.total { FileHandle.standardError.write(Data("\n".utf8)) }
            } else {
                let tenth = Int(fraction * 10)
                if state.phase != p.phase || tenth != state.tenth {
                    log(line)
                    state = (p.phase, tenth)
                }
            }
        }
    }
}

/// `optimus report`: figures and report.md from an evaluation folder.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.md and figures (SVG, PNG) from an evaluation folder.",
        discussion: """
            Performance profiles, iteration ratios, generalization over dimension, step directions, per-problem \
            tables and the verdict on each headline claim of the paper. With --readme FILE, also replaces the \
            results section of that README (between <!-- evaluation-results:begin … --> and \
            <!-- evaluation-results:end -->).
            """)

    @Argument(help: "Evaluation folder (the --output of optimus evaluate).")
    var folder: String

    @Option(help: "README to update with the results section.")
    var readme: String?

    @Flag(help: "Print the summary as one JSON object on standard output.")
    var json = false

    func run() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw failure("folder: '\(folder)' is not an existing folder; give the --output of optimus evaluate",
                          code: ExitStatus.noInput)
        }
        if let readme {
            // An existing README must be readable (its results section is replaced); a new one must be creatable.
            if FileManager.default.fileExists(atPath: readme) { _ = try readInputFile(readme, field: "readme") }
            else { try prepareOutputFile(readme, field: "readme") }
        }
        let report: EvaluationReport
        do { report = try EvaluationReport(folder: URL(fileURLWithPath: folder)) } catch {
            throw failure(error.description, code: exitStatus(of: error))
        }
        // The report is written into the evaluation folder: a read-only folder is an output that cannot be created.
        try createOutputFolder(folder, field: "folder")
        let summary: EvaluationReport.Summary
        do { summary = try report.write() } catch {
            throw failure("folder: cannot write the report in '\(folder)': \(writeFailureReason(error))",
                          code: ExitStatus.cannotCreate)
        }
        if pngConverter == nil { log(pngConverterMissingNotice) }
        if let readme {
            do { try report.updateReadme(URL(fileURLWithPath: readme), summary: summary) } catch {
                throw failure("readme: cannot update '\(readme)': \(writeFailureReason(error))", code: ExitStatus.cannotCreate)
            }
        }
        if json {
            try printJSON(summary)
        } else {
            print("wrote \(folder)/report.md and \(summary.figures.count) figures (\(summary.completeProblems) of "
                  + "\(summary.problems) problems complete, \(summary.runs) runs)")
        }
    }
}
