import Foundation
import Optimizers
import OptimusNumerics
import Testing
@testable import HumanMotion
import HumanoidTestSupport

/// The first `seconds` of walk (observation seed 3) reconstructed in 0.25 s windows with `optimizer`.
func reconstructWalkStart(seconds: Double, optimizer: any Optimizer = LBFGS(),
                          _ configure: (inout ReconstructionOptions) -> Void) throws -> ReconstructionResult {
    let walk = try TestData.clip("walk")
    let frames = walk.times.indices.filter { walk.times[$0] <= seconds + 1e-9 }
    let clip = MotionClip(name: "walk-start", loops: false, times: frames.map { walk.times[$0] },
                          poses: frames.map { walk.poses[$0] })
    let observed = ObservedClip(clip: clip, humanoid: TestData.humanoid, seed: 3)
    var options = ReconstructionOptions()
    options.windowSeconds = 0.25
    options.strideSeconds = 0.25
    configure(&options)
    return try Reconstructor.run(observed, simulator: Simulator(humanoid: TestData.humanoid), optimizer: optimizer,
                                 optimizerName: optimizer.name, options: options)
}

@Suite struct ReconstructionBudgetTests {
    /// The first 0.6 s of walk in 0.25 s windows, with a budget of `evaluations` per window.
    static func reconstruct(evaluations: Int?, iterations: Int) throws -> ReconstructionResult {
        try reconstructWalkStart(seconds: 0.6) { options in
            options.iterations = iterations
            options.maxEvaluations = evaluations
        }
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

@Suite struct ReconstructionOperatingModeTests {
    /// The first 0.3 s of walk: one window, at most 14 iterations.
    static func reconstruct(_ configure: (inout ReconstructionOptions) -> Void,
                            optimizer: any Optimizer = LBFGS()) throws -> ReconstructionResult {
        try reconstructWalkStart(seconds: 0.3, optimizer: optimizer) { options in
            options.iterations = 14
            configure(&options)
        }
    }

    /// The stopping rule only cuts a window's search short: with plain gradient descent at a step that overshoots
    /// (the first 0.3 s of walk, one window), the rule fires, and the stopped window's trace is a prefix of the same
    /// window's trace without the rule.
    @Test func stoppingRuleTruncatesTheSameSearch() throws {
        let descent = GradientDescent(learningRate: 1)
        let free = try Self.reconstruct({ $0.maxEvaluations = 12 }, optimizer: descent)
        let stopped = try Self.reconstruct({ $0.maxEvaluations = 12; $0.stoppingRule = true }, optimizer: descent)
        let first = try #require(stopped.windows.first), reference = try #require(free.windows.first)
        #expect(first.termination == "stoppingRule")
        #expect(reference.termination != "stoppingRule")
        let short = try #require(first.trace), long = try #require(reference.trace)
        #expect(short.count < long.count)
        #expect(Array(long.prefix(short.count)) == short)
        #expect(first.finalLoss == short.last?[1])
        #expect(stopped.options.stoppingRule && !free.options.stoppingRule)
    }

    /// Basin hopping: the first local search is the plain search (same trace up to the first hop), the budget holds,
    /// the result never ends above the window's start, a seed gives the same run twice and another seed another run;
    /// the optimizer's own time is part of the window's time.
    @Test func basinHoppingStartsAsThePlainSearchAndIsSeeded() throws {
        func hopping(_ seed: UInt64) throws -> ReconstructionResult {
            try Self.reconstruct { o in
                o.maxEvaluations = 14
                var h = ReconstructionOptions.BasinHoppingSettings()
                h.localIterations = 4
                h.hopSize = 0.001  // small hops: the next local search goes on improving, from a seed-dependent point
                h.seed = seed
                o.basinHopping = h
            }
        }
        let plain = try Self.reconstruct { $0.maxEvaluations = 14 }
        let a = try hopping(7), b = try hopping(7), c = try hopping(8)
        #expect(a.windows.count == 1 && plain.windows.count == 1)
        for (w, p) in zip(a.windows, plain.windows) {
            #expect(w.evaluations <= 15)
            #expect(w.finalLoss <= w.initialLoss)
            let trace = try #require(w.trace), reference = try #require(p.trace)
            // The start and the first four accepted iterates come from the same local search.
            #expect(Array(trace.prefix(5)) == Array(reference.prefix(5)))
            let own = try #require(w.optimizerSeconds)
            #expect(own >= 0 && own <= w.seconds)
        }
        #expect(a.windows.map(\.finalLoss) == b.windows.map(\.finalLoss))
        #expect(a.windows.map(\.finalLoss) != c.windows.map(\.finalLoss))
    }

    @Test func invalidOperatingModeSettingsNameTheirField() {
        for (field, change) in [("basinHopping.localIterations", { (h: inout ReconstructionOptions.BasinHoppingSettings) in h.localIterations = 0 }),
                                ("basinHopping.hopSize", { $0.hopSize = .nan }),
                                ("basinHopping.temperature", { $0.temperature = 0 })] {
            var options = ReconstructionOptions()
            var settings = ReconstructionOptions.BasinHoppingSettings()
            change(&settings)
            options.basinHopping = settings
            #expect {
                try options.validate(clipDuration: 1)
            } throws: { error in
                "\(error)".contains(field)
            }
        }
        var options = ReconstructionOptions()
        options.restartMargin = -1
        #expect {
            try options.validate(clipDuration: 1)
        } throws: { error in
            "\(error)".contains("restartMargin")
        }
    }
}
