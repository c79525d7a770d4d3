import Dispatch
import LearnedOptimizers
import Objectives
import Optimizers
import OptimusNumerics

#if canImport(Glibc)
import Glibc
#endif

/// Trained optimizers against tuned Adam and L-BFGS on held-out tasks of the training distribution, with the same
/// budget of objective evaluations (the learned optimizers take one per step).
///
/// Per task and solver: the meta-loss (mean over the budget of log₁₀ of f − f* relative to the start, the quantity
/// PES minimizes) and the final gap log₁₀((f_best − f*)/(f₀ − f*)). Adam's learning rate is tuned per task over
/// the paper's grid (100 rates in [1e−6, 1]) on 4 separate starts of the same function, dimension and offset.
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

    /// Runs every solver on every task. `learned` maps a display name to an optimizer.
    public static func run(tasks: [TaskSpec], budget: Int, learned: [(String, AnyOptimizer)],
                           normalizer: MetaLossNormalizer = .init()) -> Result {
        var names = learned.map(\.0) + ["adam (tuned)", "lbfgs"]
        names = names.map { $0 }
        var metaLoss = [[Double]](repeating: [Double](repeating: .nan, count: tasks.count), count: names.count)
        var gaps = metaLoss
        let n = names.count
        var cells = [(Double, Double)](repeating: (.nan, .nan), count: n * tasks.count)
        cells.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: tasks.count) { t in
                let (objective, x0) = tasks[t].build()
                let f0 = objective.value(at: x0), fStar = objective.fStar
                func score(_ r: MinimizationResult) -> (Double, Double) {
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
                    return (sum / Double(budget), normalizer.loss(value: r.value, start: f0, fStar: fStar))
                }
                let evaluationBudget = MinimizationOptions(maxIterations: budget, maxEvaluations: budget,
                                                           gradientTolerance: 0, recordTrace: true)
                for (k, (_, optimizer)) in learned.enumerated() {
                    let r = try? minimize(objective, from: x0, using: optimizer, options: evaluationBudget)
                    out[k * tasks.count + t] = r.map(score) ?? (normalizer.upperClip, normalizer.upperClip)
                }
                // Adam, tuned on separate starts of the same task.
                var g = Xoshiro256StarStar(seed: tasks[t].startSeed ^ 0xADA4)
                let tuning = (0..<4).map { _ in objective.randomStart(using: &g) }
                let search = LearningRateSearch(options: .init(maxIterations: budget - 1, gradientTolerance: 0))
                let rate = (try? search.tune(objective, starts: tuning) { Adam(learningRate: $0) })?.bestRate ?? 1e-3
                let adam = try? minimize(objective, from: x0, using: Adam(learningRate: rate), options: evaluationBudget)
                out[learned.count * tasks.count + t] = adam.map(score) ?? (normalizer.upperClip, normalizer.upperClip)
                let lbfgs = try? minimize(objective, from: x0, using: LBFGS(), options: evaluationBudget)
                out[(learned.count + 1) * tasks.count + t] = lbfgs.map(score) ?? (normalizer.upperClip, normalizer.upperClip)
            }
        }
        for s in 0..<n { for t in 0..<tasks.count { (metaLoss[s][t], gaps[s][t]) = cells[s * tasks.count + t] } }
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
}
