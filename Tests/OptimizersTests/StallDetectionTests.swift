import Objectives
import OptimusNumerics
import Testing
@testable import Optimizers

/// BFGS and L-BFGS stop when they make no progress (``StallDetection``), even with the gradient test off.
@Suite struct StallDetectionTests {
    /// Reproducer: L-BFGS on Rastrigin d = 10 with gradient tolerance 0 reached f = 88.55… by iteration ~20 and then
    /// spent its whole budget there (5.9 million evaluations in the issue). Now it stops within a few hundred
    /// evaluations, at the same best value, with `stalled`.
    @Test(arguments: ["lbfgs", "bfgs"])
    func aStuckQuasiNewtonRunStopsInBoundedEvaluations(optimizer: String) throws {
        let objective = try BenchmarkObjective(.rastrigin, dimension: 10)
        var g = Xoshiro256StarStar(seed: 0)
        let x0 = objective.randomStart(using: &g)
        let r = try minimize(objective, from: x0, using: try OptimizerCatalog.classical(named: optimizer),
                             options: .init(maxIterations: 1_000_000_000, gradientTolerance: 0, recordTrace: true))
        #expect(r.termination == .stalled)
        #expect(r.functionEvaluations < 2_000, "\(r.functionEvaluations) evaluations")
        #expect(!r.termination.isConvergence)
        // The last window of the trace: no decrease beyond 10⁻¹⁵ relative.
        let values = try #require(r.trace).map(\.value)
        let last = values.suffix(StallDetection.window + 1)
        #expect(StallDetection.isStalled(from: last.first!, to: last.last!) || values.count >= 2
                && values[values.count - 1] == values[values.count - 2])
    }

    /// A run that still makes progress is not stopped, and the budget keeps its precedence: the same run with a
    /// budget smaller than the stall point ends with `iterationLimit`, as before.
    @Test func progressIsNotAStallAndTheBudgetComesFirst() throws {
        let objective = try BenchmarkObjective(.rosenbrock, dimension: 10)
        let r = try minimize(objective, from: [Double](repeating: -1.2, count: 10), using: LBFGS(),
                             options: .init(maxIterations: 15, gradientTolerance: 0))
        #expect(r.termination == .iterationLimit && r.iterations == 15)
    }

    /// First-order methods do not detect stalls: the paper's benchmark runs them for a fixed budget.
    @Test func firstOrderMethodsRunTheirBudget() throws {
        let objective = Quadratic(a: [1, 1], c: [0, 0])
        let r = try minimize(objective, from: [0, 0], using: Adam(learningRate: 0.1),
                             options: .init(maxIterations: 50, gradientTolerance: 0))
        #expect(r.termination == .iterationLimit && r.iterations == 50)
        #expect(!Adam(learningRate: 0.1).detectsStalls && LBFGS().detectsStalls && BFGS().detectsStalls)
        #expect(AnyOptimizer(LBFGS()).detectsStalls)
    }

    @Test func theRelativeDecreaseRule() {
        #expect(StallDetection.isStalled(from: 88.5, to: 88.5))
        #expect(StallDetection.isStalled(from: 1, to: 1 - 1e-16))
        #expect(!StallDetection.isStalled(from: 1, to: 1 - 1e-14))
        #expect(!StallDetection.isStalled(from: 1e-300, to: 1e-305))
        #expect(StallDetection.isStalled(from: 0, to: 0))
    }
}
