import Dispatch
import LearnedOptimizers
import MetaTraining
import Objectives
import Optimizers
import OptimusNumerics
import TaskFamilies

/// Trained optimizers against tuned Adam and L-BFGS with the same budget of objective evaluations (the learned
/// optimizers take one per step), on two kinds of held-out problems:
///
/// - ``run(tasks:budget:learned:normalizer:)``: held-out *tasks of the training distribution* (new offsets, starts
///   and dimensions of the 15 training functions);
/// - ``runHeldOutFunctions(_:dimensions:starts:seed:budget:learned:offsetFraction:)``: the ten *held-out functions*
///   (``HeldOutFunction``), which never appear in training.
///
/// Both go through ``solve(_:budget:learned:normalizer:)``: per run and solver, the meta-loss (mean over the budget
/// of log₁₀ of f − f* relative to the start, the quantity PES minimizes), the final normalized gap
/// log₁₀((f_best − f*)/(f₀ − f*)) and the best value. Adam's learning rate is tuned per run over the paper's grid
/// (100 rates in [1e−6, 1]) on 4 separate starts of the same function, dimension and offset.
public enum HeldOutComparison {
    public struct Row: Sendable, Codable {
        public var solver: String
        public var meanMetaLoss: Double
        public var meanFinalGap: Double
        public var medianFinalGap: Double
        /// Tasks where this solver's final gap is the lowest (ties count for everyone).
        public var wins: Int
    }

    public struct Result: Sendable, Codable {
        /// Seed the tasks were drawn from (recorded by the caller).
        public var seed: UInt64?
        public var tasks: [TaskSpec]
        public var budget: Int
        public var rows: [Row]
        /// finalGaps[solver][task].
        public var finalGaps: [String: [Double]]
    }

    /// The name of the tuned-Adam baseline in results.
    public static let tunedAdamName = "adam (tuned)"
    /// The name of the L-BFGS baseline in results.
    public static let lbfgsName = "lbfgs"
    /// Number of separate starts Adam's learning rate is tuned on, per run.
    public static let tuningStartCount = 4

    /// One run to compare the solvers on: an objective with its known minimum f*, the start x₀ of every solver, and
    /// the separate starts Adam's learning rate is tuned on.
    public struct Run: Sendable {
        public var objective: any Objective
        public var fStar: Double
        public var start: [Double]
        public var tuningStarts: [[Double]]

        public init(objective: any Objective, fStar: Double, start: [Double], tuningStarts: [[Double]]) {
            self.objective = objective
            self.fStar = fStar
            self.start = start
            self.tuningStarts = tuningStarts
        }
    }

    /// One solver on one run.
    public struct Outcome: Sendable, Codable, Equatable {
        /// Mean over the budget of the normalized loss (a run that stopped early keeps its last loss).
        public var metaLoss: Double
        /// The normalized final gap: the loss of the best value, log₁₀((f_best − f*)/(f₀ − f*)) clipped.
        public var finalLoss: Double
        /// f at the best point evaluated within the budget; NaN when the run failed.
        public var bestValue: Double
    }

    /// Every solver on every run (runs in parallel, results independent of the thread count).
    ///
    /// Solvers, in this order: `learned` (display name, optimizer), tuned Adam (``tunedAdamName``), L-BFGS
    /// (``lbfgsName``). Every run gets `budget` evaluations (`maxIterations` = `maxEvaluations` = budget, no
    /// gradient tolerance). Adam's rate is the best of ``LearningRateSearch``'s default grid with `budget − 1`
    /// iterations on the run's `tuningStarts` (1e−3 if the search fails). Returns `outcomes[solver][run]` and
    /// Adam's tuned rate per run.
    public static func solve(_ runs: [Run], budget: Int, learned: [(String, AnyOptimizer)],
                             normalizer: MetaLossNormalizer = .init()) -> (solvers: [String], outcomes: [[Outcome]], adamRates: [Double]) {
        let names = learned.map(\.0) + [tunedAdamName, lbfgsName]
        let failed = Outcome(metaLoss: normalizer.upperClip, finalLoss: normalizer.upperClip, bestValue: .nan)
        var cells = [Outcome](repeating: failed, count: names.count * runs.count)
        var rates = [Double](repeating: .nan, count: runs.count)
        cells.withUnsafeMutableBufferPointer { buffer in
            rates.withUnsafeMutableBufferPointer { rateBuffer in
                nonisolated(unsafe) let out = buffer
                nonisolated(unsafe) let rateOut = rateBuffer
                DispatchQueue.concurrentPerform(iterations: runs.count) { t in
                    let objective = runs[t].objective, x0 = runs[t].start
                    let f0 = objective.value(at: x0), fStar = runs[t].fStar
                    func score(_ r: MinimizationResult) -> Outcome {
                        let trace = r.trace ?? []
                        var sum = 0.0
                        var count = 0
                        for e in trace.prefix(budget) {
                            sum += normalizer.loss(value: e.value, start: f0, fStar: fStar)
                            count += 1
                        }
                        // A run that stopped early keeps its last loss for the rest of the budget.
                        let last = trace.last.map { normalizer.loss(value: $0.value, start: f0, fStar: fStar) } ?? normalizer.upperClip
                        sum += Double(budget - count) * last
                        return Outcome(metaLoss: sum / Double(budget),
                                       finalLoss: normalizer.loss(value: r.value, start: f0, fStar: fStar),
                                       bestValue: r.value)
                    }
                    let evaluationBudget = MinimizationOptions(maxIterations: budget, maxEvaluations: budget,
                                                               gradientTolerance: 0, recordTrace: true)
                    for (k, (_, optimizer)) in learned.enumerated() {
                        let r = try? minimize(objective, from: x0, using: optimizer, options: evaluationBudget)
                        out[k * runs.count + t] = r.map(score) ?? failed
                    }
                    // Adam, tuned on separate starts of the same run.
                    let search = LearningRateSearch(options: .init(maxIterations: budget - 1, gradientTolerance: 0))
                    let rate = (try? search.tune(objective, starts: runs[t].tuningStarts) { Adam(learningRate: $0) })?.bestRate ?? 1e-3
                    rateOut[t] = rate
                    let adam = try? minimize(objective, from: x0, using: Adam(learningRate: rate), options: evaluationBudget)
                    out[learned.count * runs.count + t] = adam.map(score) ?? failed
                    let lbfgs = try? minimize(objective, from: x0, using: LBFGS(), options: evaluationBudget)
                    out[(learned.count + 1) * runs.count + t] = lbfgs.map(score) ?? failed
                }
            }
        }
        let outcomes = (0..<names.count).map { s in Array(cells[(s * runs.count)..<((s + 1) * runs.count)]) }
        return (names, outcomes, rates)
    }

    /// Runs every solver on every held-out task of the training distribution. `learned` maps a display name to an
    /// optimizer. Adam's tuning starts are 4 draws of the task's objective's `randomStart` from a generator seeded
    /// with `startSeed ^ 0xADA4`.
    public static func run(tasks: [TaskSpec], budget: Int, learned: [(String, AnyOptimizer)],
                           normalizer: MetaLossNormalizer = .init()) -> Result {
        let runs = tasks.map { task -> Run in
            let (objective, x0) = task.build()
            var g = Xoshiro256StarStar(seed: task.startSeed ^ 0xADA4)
            let tuning = (0..<tuningStartCount).map { _ in objective.randomStart(using: &g) }
            return Run(objective: objective, fStar: objective.fStar, start: x0, tuningStarts: tuning)
        }
        let (names, outcomes, _) = solve(runs, budget: budget, learned: learned, normalizer: normalizer)
        let n = names.count
        let metaLoss = outcomes.map { $0.map(\.metaLoss) }
        let gaps = outcomes.map { $0.map(\.finalLoss) }
        var rows: [Row] = []
        for s in 0..<n {
            let wins = (0..<tasks.count).filter { t in gaps[s][t] <= (0..<n).map { gaps[$0][t] }.min()! }.count
            rows.append(Row(solver: names[s], meanMetaLoss: Statistics.mean(metaLoss[s]),
                            meanFinalGap: Statistics.mean(gaps[s]), medianFinalGap: Statistics.median(gaps[s]),
                            wins: wins))
        }
        var byName: [String: [Double]] = [:]
        for s in 0..<n { byName[names[s]] = gaps[s] }
        return Result(seed: nil, tasks: tasks, budget: budget, rows: rows, finalGaps: byName)
    }

    // MARK: - Held-out functions

    /// Gaps below this count as this in the log₁₀ means (the round-off of an f of order one in Double), so that one
    /// run that hits f* exactly cannot dominate a mean.
    public static let logGapFloor = 1e-16

    /// The seeds of one run on a held-out function: the offset o is uniform in ±`offsetFraction`·(domain width) per
    /// coordinate from `offsetSeed`, the start uniform in the shifted domain from `startSeed`, and Adam's 4 tuning
    /// starts likewise from `startSeed ^ 0xADA4` (the recipe of ``TaskSpec`` and ``run(tasks:budget:learned:normalizer:)``).
    public struct FunctionRun: Sendable, Codable, Equatable {
        public var offsetSeed: UInt64
        public var startSeed: UInt64
    }

    /// One solver on one problem (function, dimension), over its runs.
    public struct FunctionCell: Sendable, Codable {
        public var solver: String
        /// Mean over the runs of the final gap f_best − f* (f_best: the best value within the budget; a failed run
        /// counts as +∞).
        public var meanFinalGap: Double
        /// Mean over the runs of log₁₀(max(f_best − f*, ``logGapFloor``)).
        public var meanLog10Gap: Double
        /// f_best − f* per run.
        public var finalGaps: [Double]
        /// Mean over the runs of the normalized final gap log₁₀((f_best − f*)/(f₀ − f*)) (clipped to [−12, 2]).
        public var meanNormalizedGap: Double
        /// Whether this solver has the lowest mean final gap on the problem (ties: every solver at the minimum).
        public var isWinner: Bool
    }

    /// One held-out function at one dimension.
    public struct FunctionProblem: Sendable, Codable {
        public var function: HeldOutFunction
        public var displayName: String
        public var dimension: Int
        public var fStar: Double
        public var runs: [FunctionRun]
        /// Adam's tuned learning rate per run.
        public var adamLearningRates: [Double]
        /// One cell per solver, in the order of ``FunctionsResult/solvers``.
        public var cells: [FunctionCell]
        /// The solvers with the lowest mean final gap (empty when no solver has a finite one).
        public var winners: [String]
    }

    /// How one learned optimizer did over all problems.
    public struct LearnedSummary: Sendable, Codable {
        public var solver: String
        public var problems: Int
        /// Problems where its mean final gap is strictly below tuned Adam's.
        public var beatsTunedAdam: Int
        /// Problems where its mean final gap is at most 10× L-BFGS's.
        public var withinTenfoldOfLBFGS: Int
    }

    /// The held-out-functions comparison, as `optimus heldout --functions heldout --json` prints it.
    public struct FunctionsResult: Sendable, Codable {
        /// Always "heldout".
        public var functions: String
        public var seed: UInt64
        public var dimensions: [Int]
        public var starts: Int
        public var budget: Int
        public var offsetFraction: Double
        public var tuningStarts: Int
        public var solvers: [String]
        public var problems: [FunctionProblem]
        public var summary: [LearnedSummary]
    }

    /// The seeds of run `start` of `function` at dimension `d`: two draws of the generator
    /// `Xoshiro256StarStar(seed: seed, stream: index << 48 | d << 16 | start)` (index: the function's position in
    /// ``HeldOutFunction/allCases``), so a problem's runs do not depend on which other functions or dimensions run.
    public static func functionRun(_ function: HeldOutFunction, dimension d: Int, start: Int, seed: UInt64) -> FunctionRun {
        let index = UInt64(HeldOutFunction.allCases.firstIndex(of: function)!)
        var g = Xoshiro256StarStar(seed: seed, stream: index << 48 | UInt64(d) << 16 | UInt64(start))
        return FunctionRun(offsetSeed: g.next(), startSeed: g.next())
    }

    /// The objective and start of one run (see ``FunctionRun``).
    public static func build(_ function: HeldOutFunction, dimension d: Int, run: FunctionRun,
                             offsetFraction: Double) -> Run {
        let domain = function.domain(dimension: d)
        let width = domain.upperBound - domain.lowerBound
        var g = Xoshiro256StarStar(seed: run.offsetSeed)
        let offset = (0..<d).map { _ in g.uniform(-offsetFraction, offsetFraction) * width }
        guard let objective = try? HeldOutObjective(function, dimension: d, offset: offset) else {
            preconditionFailure("HeldOutComparison: invalid held-out problem \(function) d=\(d)")
        }
        var s = Xoshiro256StarStar(seed: run.startSeed)
        let x0 = objective.randomStart(using: &s)
        var t = Xoshiro256StarStar(seed: run.startSeed ^ 0xADA4)
        let tuning = (0..<tuningStartCount).map { _ in objective.randomStart(using: &t) }
        return Run(objective: objective, fStar: objective.fStar, start: x0, tuningStarts: tuning)
    }

    /// Every held-out function at every dimension (a *problem*), `starts` seeded runs each (random offset and
    /// start, see ``FunctionRun``), every solver with `budget` evaluations per run; Adam tuned per run exactly as in
    /// ``run(tasks:budget:learned:normalizer:)``. Per problem and solver: the mean final gap f_best − f*, the mean
    /// log₁₀ gap, the winner; per learned optimizer: on how many problems it beats tuned Adam's mean final gap and
    /// on how many it is within 10× of L-BFGS's. Dimensions must be valid (2…``BenchmarkObjective/maximumDimension``),
    /// `starts` in 1…65535, `budget` ≥ 2.
    public static func runHeldOutFunctions(_ functions: [HeldOutFunction] = HeldOutFunction.allCases,
                                           dimensions: [Int], starts: Int, seed: UInt64, budget: Int,
                                           learned: [(String, AnyOptimizer)],
                                           offsetFraction: Double = 0.1) -> FunctionsResult {
        precondition(starts >= 1 && starts < 1 << 16, "runHeldOutFunctions: starts must be in 1…65535")
        precondition(dimensions.allSatisfy { $0 >= 2 && $0 <= BenchmarkObjective.maximumDimension })
        precondition(budget >= 2, "runHeldOutFunctions: budget must be ≥ 2")
        var problems: [(HeldOutFunction, Int, [FunctionRun])] = []
        for f in functions {
            for d in dimensions {
                problems.append((f, d, (0..<starts).map { functionRun(f, dimension: d, start: $0, seed: seed) }))
            }
        }
        let runs = problems.flatMap { f, d, specs in
            specs.map { build(f, dimension: d, run: $0, offsetFraction: offsetFraction) }
        }
        let (names, outcomes, rates) = solve(runs, budget: budget, learned: learned)

        var results: [FunctionProblem] = []
        for (p, (f, d, specs)) in problems.enumerated() {
            let range = (p * starts)..<((p + 1) * starts)
            let fStar = f.fStar(dimension: d)
            var cells = names.indices.map { s -> FunctionCell in
                let slice = outcomes[s][range]
                let gaps = slice.map { o in o.bestValue.isFinite ? max(o.bestValue - fStar, 0) : Double.infinity }
                let logs = gaps.map { log10(max($0, logGapFloor)) }
                return FunctionCell(solver: names[s], meanFinalGap: Statistics.mean(gaps),
                                    meanLog10Gap: Statistics.mean(logs), finalGaps: gaps,
                                    meanNormalizedGap: Statistics.mean(slice.map(\.finalLoss)), isWinner: false)
            }
            let best = cells.map(\.meanFinalGap).min() ?? .nan
            if best.isFinite { for s in cells.indices where cells[s].meanFinalGap <= best { cells[s].isWinner = true } }
            results.append(FunctionProblem(function: f, displayName: f.displayName, dimension: d, fStar: fStar,
                                           runs: specs, adamLearningRates: Array(rates[range]), cells: cells,
                                           winners: cells.filter(\.isWinner).map(\.solver)))
        }
        let adam = names.count - 2, lbfgs = names.count - 1
        let summary = learned.indices.map { s in
            LearnedSummary(
                solver: names[s], problems: results.count,
                beatsTunedAdam: results.filter { $0.cells[s].meanFinalGap < $0.cells[adam].meanFinalGap }.count,
                withinTenfoldOfLBFGS: results.filter { $0.cells[s].meanFinalGap <= 10 * $0.cells[lbfgs].meanFinalGap }.count)
        }
        return FunctionsResult(functions: "heldout", seed: seed, dimensions: dimensions, starts: starts, budget: budget,
                               offsetFraction: offsetFraction, tuningStarts: tuningStartCount, solvers: names,
                               problems: results, summary: summary)
    }
}
