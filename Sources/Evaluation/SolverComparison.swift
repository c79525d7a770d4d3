import OptimusNumerics

/// Per-problem comparison of an evaluation's solvers: for each problem, each solver's mean best gap f_best − f*
/// within the budget over the starts, and who won. The table `optimus demo` prints; the same aggregation as the
/// report's per-problem table (``EvaluationReport``), so the demo and `optimus report` never disagree.
///
/// A row's winners are the solvers whose mean gap is within `tieTolerance`·max(1, |f*|) of the lowest (several
/// solvers that all reach the minimum to round-off share the win).
public struct SolverComparison: Codable, Sendable, Equatable {
    public struct Cell: Codable, Sendable, Equatable {
        public var solver: String
        /// Mean over starts of the best f − f* within the budget.
        public var meanGap: Double
        /// Median over starts of the same.
        public var medianGap: Double
        /// Mean objective evaluations per run (a learned optimizer takes one per iteration).
        public var meanEvaluations: Double
        /// Mean wall time per run, seconds.
        public var meanSeconds: Double
        /// The tuned learning rate (momentum, adam), else nil.
        public var learningRate: Double?
        /// Runs that ended on a non-finite value (their best value before it still counts).
        public var nonFinite: Int
    }

    public struct Row: Codable, Sendable, Equatable {
        public var problem: String
        public var function: String
        public var dimension: Int
        public var fStar: Double
        /// Mean f(x₀) − f* over the starts.
        public var meanInitialGap: Double
        /// One cell per solver, in the suite's solver order.
        public var cells: [Cell]
        public var winners: [String]
    }

    public var suite: String
    public var iterations: Int
    public var starts: Int
    public var solvers: [String]
    public var rows: [Row]
    /// Problems each solver won (ties count for every winner).
    public var wins: [String: Int]
    /// Problems with a run missing (not compared).
    public var incomplete: [String]

    public static let tieTolerance = 1e-8
}

extension EvaluationReport {
    /// The per-problem comparison of this evaluation's main runs (problems with a missing run are listed as
    /// incomplete and left out).
    public func comparison() -> SolverComparison {
        let (t, incomplete) = table()
        var rows: [SolverComparison.Row] = []
        var wins = Dictionary(uniqueKeysWithValues: t.solvers.map { ($0, 0) })
        for (p, problem) in t.problems.enumerated() {
            let fStar = t.fStar[p]
            let cells = t.solvers.indices.map { s -> SolverComparison.Cell in
                let runs = t.runs[p][s]
                let gaps = runs.map { $0.bestValue - fStar }
                return SolverComparison.Cell(
                    solver: t.solvers[s], meanGap: Statistics.mean(gaps), medianGap: Statistics.median(gaps),
                    meanEvaluations: Statistics.mean(runs.map { Double($0.evaluations.last ?? 0) }),
                    meanSeconds: Statistics.mean(runs.map(\.seconds)), learningRate: runs.first?.learningRate,
                    nonFinite: runs.filter { $0.termination == "nonFiniteObjective" }.count)
            }
            let finite = cells.map(\.meanGap).filter(\.isFinite)
            var winners: [String] = []
            if let best = finite.min() {
                let slack = SolverComparison.tieTolerance * max(1, abs(fStar))
                winners = cells.filter { $0.meanGap.isFinite && $0.meanGap <= best + slack }.map(\.solver)
            }
            for w in winners { wins[w, default: 0] += 1 }
            rows.append(SolverComparison.Row(
                problem: problem.id, function: problem.function.rawValue, dimension: problem.dimension, fStar: fStar,
                meanInitialGap: t.initial[p] - fStar, cells: cells, winners: winners))
        }
        return SolverComparison(suite: suite.name, iterations: suite.iterations, starts: suite.starts,
                                solvers: t.solvers, rows: rows, wins: wins, incomplete: incomplete)
    }
}
