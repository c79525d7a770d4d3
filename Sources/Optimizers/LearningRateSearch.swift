import Dispatch
import Objectives
import OptimusNumerics

/// The paper's learning-rate tuning (Section 5.1, "Baselines"): try every rate of a log-spaced grid, run the
/// optimizer from each tuning start for a fixed budget, and choose the rate with the lowest mean final value.
///
/// "Final value" is f at the last iterate (not the best seen), as in the scipy baseline protocol
/// (`docs/reference-data.md`, *Scipy baseline protocol*); a run that reached a non-finite value makes that rate's mean
/// +∞. Ties go to the smaller rate. Tuning starts must be separate from the evaluation starts, so the reported numbers
/// carry no selection bias. Rates run in parallel on every core; the result does not depend on the thread count.
public struct LearningRateSearch: Sendable {
    /// The candidate rates. Default: 100 rates log-spaced in [1e−6, 1] (NumPy `logspace(-6, 0, 100)`).
    public var rates: [Double]
    /// Budget and tests of each run. Default: 100 iterations, no tolerances.
    public var options: MinimizationOptions

    public init(
        rates: [Double] = Statistics.logspace(-6, 0, count: 100),
        options: MinimizationOptions = .init(maxIterations: 100, gradientTolerance: 0)
    ) {
        self.rates = rates
        self.options = options
    }

    /// The outcome of a search.
    public struct Result: Sendable, Codable, Equatable {
        /// The chosen rate.
        public var bestRate: Double
        /// Mean final value per rate (+∞ where any run ended non-finite), in the order of `rates`.
        public var meanFinalValues: [Double]
        /// The rates tried.
        public var rates: [Double]
        /// True when every rate diverged (the smallest rate is returned).
        public var allDiverged: Bool
        /// True when the chosen rate is the first or last of the grid.
        public var atGridEdge: Bool
    }

    /// Tunes `makeOptimizer(rate)` on `objective` from `starts`.
    public func tune<O: Optimizer>(
        _ objective: some Objective, starts: [[Double]], makeOptimizer: @escaping @Sendable (Double) -> O
    ) throws(OptimizationError) -> Result {
        guard !rates.isEmpty else { throw .invalidOption(field: "rates", value: "[]", valid: "at least one rate") }
        guard !starts.isEmpty else { throw .invalidOption(field: "starts", value: "[]", valid: "at least one start") }
        for r in rates { try require(r > 0 && r.isFinite, "rates", r, "finite numbers > 0") }
        for x in starts where x.count != objective.dimension {
            throw .wrongLength(field: "starts", expected: objective.dimension, actual: x.count)
        }
        try options.validate()
        var means = [Double](repeating: .infinity, count: rates.count)
        let rates = self.rates, options = self.options
        means.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: rates.count) { i in
                var sum = 0.0
                for x0 in starts {
                    let r = try? minimize(objective, from: x0, using: makeOptimizer(rates[i]), options: options)
                    let diverged = r == nil || r!.termination == .nonFiniteObjective
                    let f = diverged ? .nan : r!.finalValue
                    sum = f.isFinite ? sum + f : .infinity
                    if sum == .infinity { break }
                }
                out[i] = sum / Double(starts.count)
            }
        }
        var best = 0
        for i in means.indices where means[i] < means[best] { best = i }
        let allDiverged = !means.contains { $0.isFinite }
        return Result(bestRate: rates[best], meanFinalValues: means, rates: rates, allDiverged: allDiverged,
                      atGridEdge: best == 0 || best == rates.count - 1)
    }
}
