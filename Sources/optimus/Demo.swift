import ArgumentParser
import Foundation
import OptimusKit

/// `optimus demo`: the README's main job for now. Minimizes a few benchmark functions with every classical optimizer
/// under the paper's protocol (100 iterations; gd, momentum and adam with the learning rate tuned on separate starts
/// over the paper's grid of 100 rates in [1e−6, 1]) and prints a comparison table.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare every classical optimizer on a few benchmark functions (paper protocol, 100 iterations).")

    @Option(help: "Seed of the starting points (tuning starts use separate, derived seeds).")
    var seed: UInt64 = 0

    @Option(help: "Evaluation starts per problem (and as many separate tuning starts).")
    var starts: Int = 4

    @Option(help: "Iteration budget per run.")
    var iterations: Int = 100

    @Option(help: "Problems as name:dimension, comma-separated.")
    var problems: String = "rosenbrock:10,rastrigin:10,zakharov:10,dixon_price:100,sum_squares:100,styblinski_tang:100"

    @Flag(help: "Print one JSON object on standard output instead of the table.")
    var json = false

    func parsedProblems() throws -> [BenchmarkObjective] {
        try problems.split(separator: ",").map { (item: Substring) throws -> BenchmarkObjective in
            let parts: [Substring] = item.split(separator: ":")
            guard parts.count == 2, let d = Int(parts[1]) else {
                throw ValidationError("problems: '\(item)' must be name:dimension, e.g. rosenbrock:10")
            }
            do { return try BenchmarkObjective(name: String(parts[0]), dimension: d) } catch {
                throw ValidationError("problems: \(error)")
            }
        }
    }

    func validate() throws {
        _ = try parsedProblems()
        guard starts >= 1 else { throw ValidationError("starts: \(starts) must be ≥ 1") }
        guard iterations >= 1 else { throw ValidationError("iterations: \(iterations) must be ≥ 1") }
    }

    struct Row: Encodable {
        var function: String
        var dimension: Int
        var optimizer: String
        var learningRate: Double?
        var meanFinalValue: Double
        var meanGap: Double
        var medianGap: Double
        var meanEvaluations: Double
        var meanSeconds: Double
        var terminations: [String: Int]
    }

    func run() throws {
        let objectives = try parsedProblems()
        let clock = ContinuousClock()
        let begin = clock.now
        var rows: [Row] = []
        // Tuning runs the full budget (the paper's protocol); evaluation runs also stop at ‖∇f‖∞ ≤ 1e−8, so a
        // quasi-Newton method that has converged does not spend its remaining iterations on round-off.
        let options = MinimizationOptions(maxIterations: iterations, gradientTolerance: 0)
        let evaluationOptions = MinimizationOptions(maxIterations: iterations, gradientTolerance: 1e-8)
        for (p, objective) in objectives.enumerated() {
            let evalStarts = startPoints(objective, seed: seed &+ UInt64(p) &* 7919, count: starts)
            let tuneStarts = startPoints(objective, seed: seed &+ UInt64(p) &* 7919 &+ 1_000_003, count: starts)
            log("[\(p + 1)/\(objectives.count)] \(objective.function.rawValue) d=\(objective.dimension)")
            for name in OptimizerCatalog.classicalNames {
                var rate: Double?
                if let factory = OptimizerCatalog.firstOrderFactory(named: name) {
                    let search = LearningRateSearch(options: options)
                    rate = try search.tune(objective, starts: tuneStarts, makeOptimizer: factory).bestRate
                }
                let optimizer = try OptimizerCatalog.classical(named: name, learningRate: rate)
                var results: [MinimizationResult] = []
                for x0 in evalStarts {
                    results.append(try minimize(objective, from: x0, using: optimizer, options: evaluationOptions))
                }
                // A run that reached a non-finite value diverged: its final value counts as +∞.
                let finals = results.map { $0.termination == .nonFiniteObjective ? Double.infinity : $0.finalValue }
                let gaps = finals.map { $0 - objective.fStar }
                var terminations: [String: Int] = [:]
                for r in results { terminations[r.termination.rawValue, default: 0] += 1 }
                rows.append(Row(
                    function: objective.function.rawValue, dimension: objective.dimension, optimizer: name,
                    learningRate: rate, meanFinalValue: Statistics.mean(finals),
                    meanGap: Statistics.mean(gaps), medianGap: Statistics.median(gaps),
                    meanEvaluations: Statistics.mean(results.map { Double($0.functionEvaluations) }),
                    meanSeconds: Statistics.mean(results.map(\.seconds)), terminations: terminations))
            }
        }
        let wall = clock.now - begin
        if json {
            struct Output: Encodable { var seed: UInt64; var starts: Int; var iterations: Int; var rows: [Row] }
            try printJSON(Output(seed: seed, starts: starts, iterations: iterations, rows: rows))
            return
        }
        print("Classical optimizers, \(iterations) iterations, \(starts) evaluation starts uniform in the domain "
              + "(seed \(seed)); gd/momentum/adam learning rates tuned on \(starts) separate starts over 100 rates "
              + "in [1e-6, 1].")
        print("")
        print(pad("function", 18) + pad("d", 5, right: true) + "  " + pad("optimizer", 10) + pad("lr", 10, right: true)
              + pad("mean f−f*", 14, right: true) + pad("median f−f*", 14, right: true)
              + pad("evals", 8, right: true) + pad("ms/run", 10, right: true) + "  termination")
        var lastFunction = ""
        for r in rows {
            let key = "\(r.function)\(r.dimension)"
            if key != lastFunction && !lastFunction.isEmpty { print("") }
            lastFunction = key
            let best = rows.filter { $0.function == r.function && $0.dimension == r.dimension }
                .map(\.meanGap).min() ?? .nan
            let marker = r.meanGap == best ? " *" : ""
            print(pad(r.function, 18) + pad("\(r.dimension)", 5, right: true) + "  " + pad(r.optimizer, 10)
                  + pad(r.learningRate.map(fmt) ?? "-", 10, right: true)
                  + pad((r.meanGap.isFinite ? fmt(r.meanGap) : "diverged") + marker, 14, right: true)
                  + pad(r.medianGap.isFinite ? fmt(r.medianGap) : "diverged", 14, right: true)
                  + pad(String(format: "%.0f", r.meanEvaluations), 8, right: true)
                  + pad(String(format: "%.2f", r.meanSeconds * 1000), 10, right: true)
                  + "  " + r.terminations.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
        }
        print("")
        print("* lowest mean f − f* for the problem; \"diverged\": a run reached NaN or ±∞ (counted as +∞). "
              + "Wall time \(String(format: "%.1f", wall.inSeconds)) s.")
    }

    private func startPoints(_ objective: BenchmarkObjective, seed: UInt64, count: Int) -> [[Double]] {
        var g = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in objective.randomStart(using: &g) }
    }

}
