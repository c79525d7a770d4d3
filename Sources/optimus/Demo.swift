import ArgumentParser
import Foundation
import OptimusKit

/// `optimus demo`: the README's main job. The classical optimizers and the shipped learned optimizers side by side on
/// a few benchmark problems under the paper's protocol, through the same harness as `optimus evaluate` (the built-in
/// suite `demo`), and one table that says who won each problem.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classical and learned optimizers side by side on a few benchmark problems (paper protocol).",
        discussion: """
            Runs the built-in evaluation suite 'demo' (see `optimus evaluate --print-suite demo`) with the shipped \
            checkpoints of Optimus and Adafactor-MLP and prints, per problem, each optimizer's mean best f − f* \
            after the iteration budget and the winner. The records are written to --output if given, else to a \
            temporary folder that is removed afterwards.
            """)

    @Option(parsing: .unconditional, help: "Seed of the offsets and starts (the suite's seed).", transform: parseSeed)
    var seed: UInt64 = EvaluationSuite.demo.seed

    @Option(parsing: .unconditional, help: "Evaluation starts per problem (and as many separate tuning starts).")
    var starts: Int = EvaluationSuite.demo.starts

    @Option(parsing: .unconditional, help: "Iteration budget per run.")
    var iterations: Int = EvaluationSuite.demo.iterations

    @Option(help: "Problems as name:dimension, comma-separated (default: the demo suite's six).")
    var problems: String?

    @OptionGroup var workers: ThreadsOption

    @Option(help: "Keep the evaluation records in this folder (then `optimus report DIR` works on it).")
    var output: String?

    @Flag(help: "Print one JSON object on standard output instead of the table.")
    var json = false

    func suite() throws -> EvaluationSuite {
        var s = EvaluationSuite.demo
        s.seed = seed
        s.starts = starts
        s.tuningStarts = starts
        s.iterations = iterations
        if let problems {
            s.problems = try problems.split(separator: ",").map { (item: Substring) throws -> EvaluationSuite.Problem in
                let parts = item.split(separator: ":")
                guard parts.count == 2, let d = Int(parts[1]) else {
                    throw ValidationError("problems: '\(item)' must be name:dimension, e.g. rosenbrock:10")
                }
                guard let f = BenchmarkFunction(name: String(parts[0])) else {
                    throw ValidationError("problems: \(ObjectiveError.unknownFunction(String(parts[0])).description)")
                }
                return EvaluationSuite.Problem(f, d)
            }
        }
        return s
    }

    func validate() throws {
        guard starts >= 1 else { throw ValidationError("starts: \(starts) must be ≥ 1") }
        guard (1...100_000).contains(iterations) else {
            throw ValidationError("iterations: \(iterations) must be in 1…100000")
        }
        if let t = workers.threads, t < 1 { throw ValidationError("threads: \(t) must be ≥ 1") }
        do { try suite().validate() } catch let e as EvaluationError {
            throw ValidationError(e.description)
        }
    }

    struct Output: Encodable {
        var checkpoints: [String: String]
        var comparison: SolverComparison
        var seconds: Double
    }

    func run() throws {
        let suite = try suite()
        let begin = ContinuousClock.now
        let learned = try learnedSolvers(for: suite, paths: [:])
        let folder: URL
        if let output {
            folder = try createOutputFolder(output)
        } else {
            folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("optimus-demo-\(ProcessInfo.processInfo.processIdentifier)")
            try? FileManager.default.removeItem(at: folder)
        }
        defer { if output == nil { try? FileManager.default.removeItem(at: folder) } }
        let evaluator = Evaluator(suite: suite, output: folder, learned: learned,
                                  threads: workers.count,
                                  command: (["optimus"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        let printer = ProgressPrinter(terminal: isatty(STDERR_FILENO) == 1)
        let comparison: SolverComparison
        do {
            try evaluator.run { p in printer.show(p) }
            comparison = try EvaluationReport(folder: folder).comparison()
        } catch let e as EvaluationError {
            throw failure(e.description, code: exitStatus(of: e))
        }
        let seconds = (ContinuousClock.now - begin).inSeconds
        let checkpoints = learned.mapValues {
            describeCheckpoint(path: $0.checkpointPath, kind: $0.kind, parameters: $0.parameterCount, sha256: $0.sha256)
        }
        if json {
            try printJSON(Output(checkpoints: checkpoints, comparison: comparison, seconds: seconds))
            return
        }
        printTable(comparison, suite: suite, checkpoints: checkpoints, seconds: seconds)
    }

    private func printTable(_ c: SolverComparison, suite: EvaluationSuite, checkpoints: [String: String],
                            seconds: Double) {
        let name = EvaluationReport.displayName
        print("swift-optimus demo: \(c.solvers.count) optimizers on \(c.rows.count) benchmark problems, "
              + "the paper's protocol (Section 5.1)")
        print("")
        print("Each optimizer runs \(suite.iterations) iterations from \(suite.starts) starts drawn uniformly in the "
              + "function's domain, shifted by a random offset (seed \(suite.seed)). GD + momentum and Adam use the "
              + "best of \(suite.learningRates.count) learning rates in [\(fmt(suite.learningRates.minimum)), "
              + "\(fmt(suite.learningRates.maximum))] on \(suite.tuningStarts) other starts; BFGS and L-BFGS use a "
              + "line search (several evaluations per iteration); a learned optimizer takes one evaluation per step.")
        print("")
        if !checkpoints.isEmpty {
            print("Learned optimizers, meta-trained on the benchmark functions (see checkpoints/README.md):")
            for (solver, text) in checkpoints.sorted(by: { $0.key > $1.key }) {
                print("  " + pad(name(solver), 15) + text)
            }
            print("")
        }
        print("Mean best f − f* within the budget (lower is better, 0 is the global minimum; * marks each row's best):")
        print("")
        let width = 12
        var header = pad("problem", 22) + pad("start", width, right: true)
        for s in c.solvers { header += pad(short(s), width - 1, right: true) + " " }
        print(header + "   best")
        for row in c.rows {
            var line = pad("\(row.function) d=\(row.dimension)", 22) + pad(sci(row.meanInitialGap), width, right: true)
            for cell in row.cells {
                let mark = row.winners.contains(cell.solver) ? "*" : " "
                line += pad(sci(cell.meanGap), width - 1, right: true) + mark
            }
            let winners = row.winners.map { name($0) }.joined(separator: ", ")
            print(line + "  " + (row.winners.count == c.solvers.count ? "all tie" : winners))
        }
        print("")
        var evaluations = pad("evaluations/run", 22) + pad("", width, right: true)
        for s in c.solvers.indices {
            let mean = Statistics.mean(c.rows.map { $0.cells[s].meanEvaluations })
            evaluations += pad(String(format: "%.0f", mean), width - 1, right: true) + " "
        }
        print(evaluations)
        print("")
        let wins = c.solvers.map { "\(name($0)) \(c.wins[$0] ?? 0)" }.joined(separator: ", ")
        print("Problems won (ties count for each): \(wins).")
        if !c.incomplete.isEmpty { print("Incomplete (left out): \(c.incomplete.joined(separator: ", ")).") }
        print("start: mean f(x₀) − f*. Columns: \(c.solvers.map { "\(short($0)) = \(name($0))" }.joined(separator: ", ")).")
        print(String(format: "Wall time %.1f s.", seconds))
        print("")
        print("Next:")
        print("  make evaluate                                            the paper's full benchmark (45 problems, "
              + "d = 250–1000): profiles, figures, report")
        print("  optimus minimize --function rosenbrock --dimension 10 --optimizer optimus    one run, full report")
        print("  optimus train --config configs/optimus-small-functions.json --output runs/mine   meta-train your own")
        print("  optimus reconstruct --clip walk --optimizer lbfgs        physics-based motion reconstruction")
    }

    private func short(_ solver: String) -> String {
        switch solver {
        case "momentum": "GD+mom."
        case "adafactor-mlp": "Adafactor"
        default: EvaluationReport.displayName(solver)
        }
    }

    private func sci(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : "inf" }
        if v == 0 { return "0" }
        return String(format: "%.2e", v)
    }
}
