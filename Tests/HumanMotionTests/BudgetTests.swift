import Foundation
import Optimizers
import OptimusNumerics
import Testing
@testable import HumanMotion
import HumanoidTestSupport

@Suite struct ReconstructionBudgetTests {
    /// The first 0.6 s of walk in 0.25 s windows, with a budget of `evaluations` per window.
    static func reconstruct(evaluations: Int?, iterations: Int) throws -> ReconstructionResult {
        let walk = try TestData.clip("walk")
        let frames = walk.times.indices.filter { walk.times[$0] <= 0.6 + 1e-9 }
        let clip = MotionClip(name: "walk-start", loops: false, times: frames.map { walk.times[$0] },
                              poses: frames.map { walk.poses[$0] })
        let observed = ObservedClip(clip: clip, humanoid: TestData.humanoid, seed: 3)
        var options = ReconstructionOptions()
        options.windowSeconds = 0.25
        options.strideSeconds = 0.25
        options.iterations = iterations
        options.maxEvaluations = evaluations
        return try Reconstructor.run(observed, simulator: Simulator(humanoid: TestData.humanoid), optimizer: LBFGS(),
                                     optimizerName: "lbfgs", options: options)
    }

    /// Each window spends at most its budget (plus the evaluation of its start), and its trace of best losses starts
    /// at the starting loss, never rises, counts evaluations upward within the budget and ends at the final loss.
    @Test func windowsKeepToTheirBudgetAndRecordTheirTrace() throws {
        let r = try Self.reconstruct(evaluations: 6, iterations: 50)
        #expect(r.windows.count == 2)
        for w in r.windows {
            #expect(w.evaluations <= 6 + 1, "window at \(w.start): \(w.evaluations) evaluations")
            let trace = try #require(w.trace)
            #expect(trace.first?[1] == w.initialLoss)
            #expect(trace.last?[1] == w.finalLoss)
            #expect(w.finalLoss < w.initialLoss)
            for (a, b) in zip(trace, trace.dropFirst()) {
                #expect(b[0] >= a[0] && b[1] <= a[1])
            }
            #expect((trace.last?[0] ?? .infinity) <= 6)
        }
        #expect(throws: HumanMotionError.self) {
            var o = ReconstructionOptions()
            o.maxEvaluations = 0
            try o.validate(clipDuration: 1)
        }
    }
}
