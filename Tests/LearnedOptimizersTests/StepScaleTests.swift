import Foundation
import Objectives
import OptimusNumerics
import Optimizers
import Testing
@testable import LearnedOptimizers

/// The secant step unit: its length rule against the closed form, and the equivariance it exists for.
@Suite struct StepScaleTests {
    /// f(x) = ½·Σ c_i·(x_i − o_i)², scaled: h(y) = b·f(y / a).
    static func quadratic(_ d: Int, a: Double = 1, b: Double = 1) -> ClosureObjective {
        ClosureObjective(dimension: d) { y, g in
            var f = 0.0
            for i in 0..<d {
                let c = 1 + Double(i % 5) * 3, r = y[i] / a - 0.25 * Double(i % 3)
                f += 0.5 * c * r * r
                g[i] = b * c * r / a
            }
            return b * f
        }
    }

    /// On an isotropic quadratic ½c|x − o|² the secant pair gives the curvature c exactly, so the nominal length
    /// |Δx|·|g|/|Δg| is |g|/c = |x − o|: the distance to the minimum (a Newton step), whatever the last step was.
    @Test func theNominalLengthIsTheNewtonStepOnAnIsotropicQuadratic() {
        let c = 7.0, d = 6
        let o = (0..<d).map { 0.1 * Double($0) }
        func grad(_ x: [Double]) -> [Double] { zip(x, o).map { c * ($0 - $1) } }
        let x0 = (0..<d).map { 3 - Double($0) }
        let x1 = zip(x0, grad(x0)).map { $0 - 0.013 * $1 }  // any step along −g
        let length = SecantStepScale.length(point: x1, gradient: grad(x1), previousPoint: x0, previousGradient: grad(x0))
        let distance = zip(x1, o).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        #expect(abs(length - distance) <= 1e-12 * distance)
        // The first step: 1 % of |x₀|.
        let first = SecantStepScale.length(point: x0, gradient: grad(x0), previousPoint: [], previousGradient: [])
        let norm0 = x0.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(abs(first - 0.01 * norm0) <= 1e-12 * norm0)
        // The step: length L·exp(λ·ā) along the network's direction.
        let factor = SecantStepScale.factor(length: 2, meanMagnitude: 3, multiplier: 0.1, step: [3, 4])
        #expect(abs(factor * 5 - 2 * exp(0.3)) <= 1e-12)
        #expect(SecantStepScale.factor(length: 2, meanMagnitude: 0, multiplier: 0.1, step: [0, 0]) == 0)
        // Growth is capped at 10·|Δx| where the gradient barely changes (a nearly flat stretch).
        let flat = SecantStepScale.length(point: [1, 1], gradient: [1, 1], previousPoint: [0, 1],
                                          previousGradient: [1 + 1e-9, 1])
        #expect(abs(flat - 10) <= 1e-12)
        // At a stationary point the step is 0, not a restart.
        #expect(SecantStepScale.length(point: [1, 2], gradient: [0, 0], previousPoint: [0, 2], previousGradient: [1, 0])
                == 0)
    }

    /// x → a·x, f → a·f with a power of two (exact in floating point; the gradient keeps its magnitude, so the
    /// absolute epsilons inside the features, 1e−6 on g² and the like, play the same part): with secant steps every
    /// iterate of the rescaled problem is a times the original's; with absolute steps it is not. (Where the gradient
    /// itself shrinks to ~1e−3 and below, those epsilons dominate some features and the equivalence is approximate:
    /// f → f/32 on top of this moves the iterates by up to ~50 %.)
    @Test(arguments: ["optimus", "optimus-bfgs", "adafactor-mlp"])
    func secantStepsAreEquivariantToRescaling(_ name: String) {
        let d = 12, a = 1024.0, b = 1024.0
        var g = Xoshiro256StarStar(seed: 5)
        let x0 = g.uniform(-2, 2, count: d)
        for scale in StepScale.allCases {
            let optimizer: any Optimizer
            if name.hasPrefix("optimus") {
                var c = Optimus.Configuration.small
                c.stepScale = scale
                c.curvaturePrior = name == "optimus-bfgs" ? .bfgs : .none
                let model = Optimus(configuration: c)
                optimizer = model.optimizer(theta: model.initialParameters(seed: 4), horizon: nil)
            } else {
                var c = AdafactorMLP.Configuration.reference
                c.stepScale = scale
                let model = AdafactorMLP(configuration: c)
                optimizer = model.optimizer(theta: model.initialParameters(seed: 4), horizon: nil)
            }
            let original = LearnedOptimizerConformanceTests.run(optimizer, objective: Self.quadratic(d), from: x0, steps: 12)
            let rescaled = LearnedOptimizerConformanceTests.run(optimizer, objective: Self.quadratic(d, a: a, b: b),
                                                                from: x0.map { a * $0 }, steps: 12)
            var worst = 0.0
            for (p, q) in zip(original, rescaled) {
                for i in 0..<d { worst = max(worst, abs(q[i] / a - p[i]) / max(1, abs(p[i]))) }
            }
            // How far the original run moved: the absolute unit must miss a good part of it.
            let moved = zip(original.last!, x0).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            if scale == .secant {
                #expect(worst <= 1e-4 * moved, "\(name) secant: worst relative deviation \(worst), moved \(moved)")
            } else {
                #expect(worst >= 0.5 * moved, "\(name) absolute should not be equivariant: \(worst), moved \(moved)")
            }
        }
    }

    /// The unit is written only when it is not the papers' `absolute`, so existing checkpoints keep their bytes and
    /// compare equal; a secant configuration round-trips.
    @Test func theConfigurationWritesTheUnitOnlyWhenSecant() throws {
        let absolute = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 1))
        #expect(!absolute.configuration.contains("stepScale"))
        let secant = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 1,
                                                                    stepScale: .secant))
        #expect(secant.configuration.contains("\"stepScale\":\"secant\""))
        #expect(try secant.configuration(of: Optimus.self).stepScale == .secant)
        #expect(try absolute.configuration(of: Optimus.self).stepScale == .absolute)
        #expect(LearnedOptimizerCatalog.sameModel(absolute, secant, ignoringStepOptions: true))
        #expect(!LearnedOptimizerCatalog.sameModel(absolute, secant, ignoringStepOptions: false))
        let af = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 1,
                                                                stepScale: .secant))
        #expect(try af.configuration(of: AdafactorMLP.self).stepScale == .secant)
        let paper = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "paper", seed: 1))
        #expect(!LearnedOptimizerCatalog.sameModel(paper, secant, ignoringStepOptions: true))
        // Re-uniting a checkpoint keeps θ bit for bit and the provenance, and changes only the configuration.
        let converted = try LearnedOptimizerCatalog.withStepOptions(absolute, stepScale: .secant, curvaturePrior: .bfgs)
        #expect(converted.parameters.map(\.bitPattern) == absolute.parameters.map(\.bitPattern))
        #expect(converted.provenance == absolute.provenance && converted.layout == absolute.layout)
        let config = try converted.configuration(of: Optimus.self)
        #expect(config.stepScale == .secant && config.curvaturePrior == .bfgs)
        #expect(try LearnedOptimizerCatalog.withStepOptions(converted, stepScale: .absolute, curvaturePrior: Optimus.CurvaturePrior.none)
                    .configuration == absolute.configuration)
        #expect(throws: CheckpointError.self) {
            try LearnedOptimizerCatalog.withStepOptions(af, stepScale: nil, curvaturePrior: .bfgs)
        }
    }
}
