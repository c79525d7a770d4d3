import Foundation
import Objectives
import OptimusNumerics
import Optimizers
import Testing
@testable import LearnedOptimizers

/// What every learned optimizer must do, run for each one (add a new model to `models` and it is held to the same
/// contract): its checkpoint round-trips to the same optimizer, one θ serves any dimension, its step is equivariant
/// under permutations of the coordinates, and its runs are deterministic.
@Suite struct LearnedOptimizerConformanceTests {
    /// A quadratic with distinct curvatures, so a wrong coordinate mapping shows.
    static func objective(_ d: Int) -> ClosureObjective {
        ClosureObjective(dimension: d) { x, g in
            var f = 0.0
            for i in 0..<d {
                let c = 1 + Double(i % 7)
                g[i] = c * (x[i] - 0.3)
                f += 0.5 * c * (x[i] - 0.3) * (x[i] - 0.3)
            }
            return f
        }
    }

    static func run<O: Optimizer>(_ optimizer: O, objective: any Objective, from x0: [Double], steps: Int) -> [[Double]] {
        var s = optimizer.makeState(start: x0)
        var points: [[Double]] = []
        for _ in 0..<steps {
            let (f, g) = objective.valueAndGradient(at: s.point)
            _ = optimizer.update(&s, value: f, gradient: g)
            points.append(s.point)
        }
        return points
    }

    func conform<M: LearnedOptimizer>(_ model: M, label: String) throws {
        let theta = model.initialParameters(seed: 3)
        var g = Xoshiro256StarStar(seed: 17)
        // Checkpoint round trip: the same model, the same θ bit for bit, the same trajectory.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UInt32.random(in: 0...UInt32.max)).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint(model: model, parameters: theta, provenance: ["test": label]).write(to: url)
        let read = try Checkpoint.read(from: url)
        let restored = try read.model(M.self)
        let restoredTheta = try read.parameters(for: restored)
        #expect(restored.configuration == model.configuration && restored.layout == model.layout, "\(label)")
        #expect(restoredTheta.map(\.bitPattern) == theta.map(\.bitPattern), "\(label)")
        let x0 = g.uniform(-1, 1, count: 9)
        let original = Self.run(model.optimizer(theta: theta, horizon: nil), objective: Self.objective(9), from: x0, steps: 4)
        let again = Self.run(restored.optimizer(theta: restoredTheta, horizon: nil), objective: Self.objective(9), from: x0,
                             steps: 4)
        #expect(original.map { $0.map(\.bitPattern) } == again.map { $0.map(\.bitPattern) }, "\(label): not deterministic")
        // One θ, any dimension: finite steps that move the point at d = 2, 9 and 64.
        for d in [2, 9, 64] {
            let points = Self.run(model.optimizer(theta: theta, horizon: nil), objective: Self.objective(d),
                                  from: g.uniform(-1, 1, count: d), steps: 3)
            #expect(points.allSatisfy { $0.count == d && $0.allSatisfy(\.isFinite) }, "\(label) at d = \(d)")
        }
        // Permutation equivariance: permuting the coordinates of the problem and the start permutes the trajectory
        // (up to the rounding of sums taken in another order).
        let d = 9
        let permutation = [4, 0, 7, 2, 8, 1, 6, 3, 5]
        let base = Self.objective(d)
        let permuted = ClosureObjective(dimension: d) { y, gy in
            // y = P·x with y[i] = x[permutation[i]]: evaluate base at x.
            var x = [Double](repeating: 0, count: d)
            for i in 0..<d { x[permutation[i]] = y[i] }
            var gx = [Double](repeating: 0, count: d)
            let f = base.valueAndGradient(at: x, gradient: &gx)
            for i in 0..<d { gy[i] = gx[permutation[i]] }
            return f
        }
        let y0 = (0..<d).map { x0[permutation[$0]] }
        let a = Self.run(model.optimizer(theta: theta, horizon: nil), objective: base, from: x0, steps: 4)
        let b = Self.run(model.optimizer(theta: theta, horizon: nil), objective: permuted, from: y0, steps: 4)
        for (pa, pb) in zip(a, b) {
            for i in 0..<d {
                #expect(abs(pb[i] - pa[permutation[i]]) <= 1e-5 * max(1, abs(pa[permutation[i]])),
                        "\(label): coordinate \(i) is not equivariant")
            }
        }
    }

    @Test(arguments: StepScale.allCases)
    func adafactorMLPConforms(_ scale: StepScale) throws {
        var c = AdafactorMLP.Configuration.reference
        c.stepScale = scale
        try conform(AdafactorMLP(configuration: c), label: "adafactor-mlp \(scale)")
    }

    @Test(arguments: [Optimus.Variant.full, .noState, .noStructure], StepScale.allCases)
    func optimusConforms(_ variant: Optimus.Variant, _ scale: StepScale) throws {
        var c = Optimus.Configuration.small
        c.variant = variant
        c.stepScale = scale
        try conform(Optimus(configuration: c), label: "optimus \(variant) \(scale)")
    }

    @Test func optimusWithTheBFGSPriorConforms() throws {
        var c = Optimus.Configuration.small
        c.stepScale = .secant
        c.curvaturePrior = .bfgs
        try conform(Optimus(configuration: c), label: "optimus bfgs prior")
    }
}
