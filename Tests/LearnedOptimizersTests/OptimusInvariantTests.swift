import Foundation
import Testing
@testable import LearnedOptimizers
import NeuralNetworks
import Objectives
import OptimusNumerics
import Optimizers

func randomInputs(_ n: Int, seed: UInt64) -> (x: [Double], g: [Double]) {
    var r = Xoshiro256StarStar(seed: seed)
    return (r.uniform(-2, 2, count: n), r.normal(count: n))
}

@Suite struct OptimusInvariantTests {
    let model = Optimus(configuration: .small)

    @Test(arguments: [Optimus.Variant.full, .noState, .noStructure])
    func permutingCoordinatesPermutesTheStep(variant: Optimus.Variant) {
        var config = Optimus.Configuration.small
        config.variant = variant
        let m = Optimus(configuration: config)
        let optimizer = m.optimizer(theta: m.initialParameters(seed: 1))
        let n = 12
        var r = Xoshiro256StarStar(seed: 4)
        let perm = (0..<n).map { $0 }.shuffled(using: &r)
        var a = optimizer.makeState(start: randomInputs(n, seed: 2).x)
        var b = optimizer.makeState(start: perm.map { a.point[$0] })
        for k in 0..<4 {
            let g = randomInputs(n, seed: 10 + UInt64(k)).g
            let xa = a.point, xb = b.point
            _ = optimizer.update(&a, value: 1, gradient: g)
            _ = optimizer.update(&b, value: 1, gradient: perm.map { g[$0] })
            for i in 0..<n {
                let da = a.point[perm[i]] - xa[perm[i]], db = b.point[i] - xb[i]
                #expect(abs(da - db) <= 1e-5 * max(1e-3, abs(da)), "step \(k) coordinate \(i): \(da) vs \(db)")
            }
        }
    }

    @Test func preconditionerStaysSymmetricPositiveSemidefinite() throws {
        let optimizer = model.optimizer(theta: model.initialParameters(seed: 3))
        let n = 16
        var s = optimizer.makeState(start: randomInputs(n, seed: 5).x)
        for k in 0..<50 { _ = optimizer.update(&s, value: 1, gradient: randomInputs(n, seed: 100 + UInt64(k)).g) }
        let b = s.preconditioner
        #expect(b.asymmetry! <= 1e-6)
        // PSD: xᵀBx ≥ 0 for random x, and the spectral norm is 1 (power iteration from scratch).
        var r = Xoshiro256StarStar(seed: 6)
        for _ in 0..<50 {
            let x = r.normal(count: n).map(Float.init)
            #expect(x.dot(BLAS.gemv(b, x)) >= -1e-6 * x.dot(x))
        }
        var v = [Float](repeating: 1, count: n)
        var lambda: Float = 0
        for _ in 0..<500 {
            let w = BLAS.gemv(b, v)
            lambda = w.norm
            v = w.map { $0 / lambda }
        }
        #expect(abs(lambda - 1) < 1e-2, "largest eigenvalue \(lambda)")
    }

    @Test func zeroOutputWeightsGiveAZeroStep() {
        var theta = model.initialParameters(seed: 7)
        let last = model.stepMLP.layers.last!
        for i in last.weight.offset..<(last.weight.offset + last.weight.count) { theta[i] = 0 }
        for i in last.bias!.offset..<(last.bias!.offset + last.bias!.count) { theta[i] = 0 }
        let optimizer = model.optimizer(theta: theta)
        var s = optimizer.makeState(start: randomInputs(9, seed: 8).x)
        let x = s.point
        _ = optimizer.update(&s, value: 1, gradient: randomInputs(9, seed: 9).g)
        #expect(s.point == x)
    }

    @Test func oneThetaServesEveryDimension() throws {
        let optimizer = model.optimizer(theta: model.initialParameters(seed: 11))
        for n in [2, 100, 1000] {
            let sphere = try BenchmarkObjective(.sphere, dimension: n)
            let r = try minimize(sphere, from: randomInputs(n, seed: 12).x, using: optimizer,
                                 options: .init(maxIterations: 3, gradientTolerance: 0))
            #expect(r.iterations == 3 && r.finalPoint.allSatisfy(\.isFinite), "n = \(n)")
        }
    }

    @Test func stateLayoutDoesNotDrift() {
        let optimizer = model.optimizer(theta: model.initialParameters(seed: 13))
        let n = 10
        var s = optimizer.makeState(start: randomInputs(n, seed: 14).x)
        for k in 0..<20 {
            _ = optimizer.update(&s, value: 1, gradient: randomInputs(n, seed: 200 + UInt64(k)).g)
            #expect(s.features.momentum.count == 3 * n && s.features.adafactor.count == 3 * n)
            #expect(s.features.rms.count == n && s.features.iteration == k + 1)
            #expect(s.preconditioner.rows == n && s.preconditioner.columns == n && s.powerVector.count == n)
            #expect(s.point.count == n)
        }
    }

    @Test func noStateRebuildsTheIdentityEachStep() {
        var config = Optimus.Configuration.small
        config.variant = .noState
        let m = Optimus(configuration: config)
        let optimizer = m.optimizer(theta: m.initialParameters(seed: 15))
        // Without state, the step depends only on the current step's u vectors, never on the B carried in.
        var s = optimizer.makeState(start: randomInputs(6, seed: 16).x)
        _ = optimizer.update(&s, value: 1, gradient: randomInputs(6, seed: 17).g)
        var t = s
        t.preconditioner = .identity(6, scaledBy: 5)  // corrupt B: no effect on the next step
        _ = optimizer.update(&s, value: 1, gradient: randomInputs(6, seed: 18).g)
        _ = optimizer.update(&t, value: 1, gradient: randomInputs(6, seed: 18).g)
        #expect(s.point == t.point)
    }

    @Test func parameterCountsBesideThePaper() {
        // Paper (Table 4): Optimus 832,526; Adafactor MLP 22,411 and 811,531 (architecture details not published).
        #expect(AdafactorMLP(configuration: .reference).parameterCount == 197)
        #expect(AdafactorMLP(configuration: .paper).parameterCount == 7 + (39 * 128 + 128) + 3 * (128 * 128 + 128) + 258)
        let full = Optimus(configuration: .paper).parameterCount
        #expect(full == 655_244)
        var noStructure = Optimus.Configuration.paper
        noStructure.variant = .noStructure
        // The paper's no-structure model has 387 = 3·(128 + 1) fewer parameters; ours drops the three rank-one heads
        // (3·129), adds one Δx head (129) and one input column (128).
        #expect(full - Optimus(configuration: noStructure).parameterCount == 3 * 129 - 129 - 128)
    }
}

@Suite struct CheckpointTests {
    @Test func roundTripIsBitExact() throws {
        let model = Optimus(configuration: .small)
        let theta = model.initialParameters(seed: 21)
        let checkpoint = Checkpoint(model: model, parameters: theta, provenance: ["seed": "21"])
        let parsed = try Checkpoint.parse(checkpoint.serialized())
        #expect(parsed == checkpoint)
        let restored = try parsed.parameters(for: model)
        #expect(restored.map(\.bitPattern) == theta.map(\.bitPattern))
        #expect(try parsed.model(Optimus.self).configuration == model.configuration)
    }

    @Test func truncatedOrCorruptedFilesFailClearly() throws {
        let model = AdafactorMLP(configuration: .reference)
        let data = Checkpoint(model: model, parameters: model.initialParameters(seed: 1)).serialized()
        #expect(throws: CheckpointError.self) { try Checkpoint.parse(data.prefix(5)) }
        #expect(throws: CheckpointError.self) { try Checkpoint.parse(data.prefix(data.count - 4)) }
        var corrupted = data
        corrupted[8] = 0x78  // "x" instead of the header's opening brace: not JSON
        #expect(throws: CheckpointError.self) { try Checkpoint.parse(corrupted) }
        var huge = data
        huge[7] = 0x7F  // header length beyond the file
        do {
            _ = try Checkpoint.parse(huge)
            Issue.record("accepted a header length beyond the file")
        } catch {
            #expect(error.description.contains("exceeds"))
        }
        // Wrong model: names and shapes are checked.
        let other = Checkpoint(model: AdafactorMLP(configuration: .paper),
                               parameters: AdafactorMLP(configuration: .paper).initialParameters(seed: 1))
        #expect(throws: CheckpointError.self) { try other.parameters(for: model) }
        #expect(throws: CheckpointError.self) { try Checkpoint.parse(data).parameters(for: Optimus(configuration: .small)) }
    }
}
