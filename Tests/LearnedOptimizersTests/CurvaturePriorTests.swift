import Foundation
import Objectives
import OptimusNumerics
import Optimizers
import Testing
@testable import LearnedOptimizers

/// Optimus's BFGS curvature prior: the update satisfies the secant equation, keeps H symmetric, skips pairs of
/// negative curvature, recovers the inverse Hessian of a quadratic in the problem's units, and changes the trajectory.
@Suite struct CurvaturePriorTests {
    static func product(_ b: Matrix<Float>, _ v: [Float]) -> [Double] {
        (0..<b.rows).map { i in (0..<b.columns).reduce(0.0) { $0 + Double(b[i, $1]) * Double(v[$1]) } }
    }

    /// After the update H·y = s (BFGS's secant equation), H stays symmetric, and a pair with negative curvature
    /// leaves H unchanged.
    @Test func theUpdateSatisfiesTheSecantEquation() {
        let n = 7
        var g = Xoshiro256StarStar(seed: 3)
        // A symmetric positive definite H (not the identity) and a pair with positive curvature.
        let m = (0..<(n * n)).map { _ in Float(g.uniform(-1, 1)) }
        var h = Matrix<Float>(rows: n, columns: n)
        for i in 0..<n { for j in 0..<n { h[i, j] = (0..<n).reduce(0) { $0 + m[i * n + $1] * m[j * n + $1] } / Float(n) } }
        for i in 0..<n { h[i, i] += 0.5 }
        let s = (0..<n).map { _ in g.uniform(-3, 3) }
        let y = s.enumerated().map { (i, v) in Double(i + 1) * v + 0.1 * g.uniform(-1, 1) }
        var updated = h
        OptimusOptimizer.bfgsUpdate(&updated, step: s, gradientChange: y, firstPair: false)
        let hy = Self.product(updated, y.map { Float($0) })
        let sNorm = s.map { $0 * $0 }.reduce(0, +).squareRoot()
        let error = zip(hy, s).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        #expect(error <= 1e-5 * sNorm, "|H·y − s| = \(error)")
        for i in 0..<n { for j in 0..<n { #expect(abs(updated[i, j] - updated[j, i]) <= 1e-5) } }
        var skipped = h
        OptimusOptimizer.bfgsUpdate(&skipped, step: s, gradientChange: y.map { -$0 }, firstPair: false)
        #expect(skipped.storage == h.storage)
    }

    /// On a quadratic with Hessian diag(1…n), pairs along the coordinate axes from H = I give H = H⁻¹ exactly, and
    /// the first pair's scaling puts H in the problem's units: the same pairs scaled (x → a·x, f → b·f) give
    /// H·a²/b.
    @Test func pairsAlongTheAxesRecoverTheInverseHessian() {
        let n = 6
        for (a, b) in [(1.0, 1.0), (1000.0, 0.01)] {
            var h = Matrix<Float>.identity(n)
            for k in 0..<n {
                var s = [Double](repeating: 0, count: n)
                s[k] = 0.5 * a
                // ∇(b·f(x/a)) changes by b/a² · c_k · Δx along axis k.
                let y = s.enumerated().map { b / (a * a) * Double($0.offset + 1) * $0.element }
                OptimusOptimizer.bfgsUpdate(&h, step: s, gradientChange: y, firstPair: k == 0)
            }
            for i in 0..<n {
                for j in 0..<n where i != j { #expect(abs(h[i, j]) <= 1e-6 * abs(h[0, 0])) }
                let expected = a * a / b / Double(i + 1)
                #expect(abs(Double(h[i, i]) - expected) <= 1e-5 * expected, "H[\(i),\(i)] = \(h[i, i]), a = \(a)")
            }
        }
    }

    /// The prior changes what Optimus does on a quadratic (its trajectory differs from the paper's B), and the field
    /// is written only when set, needs the full variant, and round-trips through a checkpoint.
    @Test func thePriorIsAConfiguredPartOfTheModel() throws {
        let plain = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 2, stepScale: .secant))
        let prior = try #require(LearnedOptimizerCatalog.untrained(name: "optimus", preset: "small", seed: 2, stepScale: .secant,
                                                                   curvaturePrior: .bfgs))
        #expect(!plain.configuration.contains("curvaturePrior"))
        #expect(prior.configuration.contains("\"curvaturePrior\":\"bfgs\""))
        #expect(try prior.configuration(of: Optimus.self).curvaturePrior == .bfgs)
        #expect(LearnedOptimizerCatalog.sameModel(plain, prior, ignoringStepOptions: true))
        var bad = Optimus.Configuration.small
        bad.variant = .noState
        bad.curvaturePrior = .bfgs
        #expect(throws: CheckpointError.self) { try Optimus.validate(bad) }
        let d = 10
        let objective = ClosureObjective(dimension: d) { x, g in
            var f = 0.0
            for i in 0..<d {
                let c = pow(10, Double(i) / 3)
                g[i] = c * x[i]
                f += 0.5 * c * x[i] * x[i]
            }
            return f
        }
        var trajectories: [[Double]] = []
        for checkpoint in [plain, prior] {
            let model = try checkpoint.model(Optimus.self)
            let optimizer = model.optimizer(theta: try checkpoint.parameters(for: model))
            let points = LearnedOptimizerConformanceTests.run(optimizer, objective: objective,
                                                              from: [Double](repeating: 1, count: d), steps: 6)
            trajectories.append(points[points.count - 1])
        }
        #expect(trajectories[0] != trajectories[1])
    }
}
