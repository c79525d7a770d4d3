import Foundation
import Testing
@testable import LearnedOptimizers
import NeuralNetworks
import Optimizers

/// `docs/adafactor-mlp-and-pes.md`, *Golden test: Adafactor MLP*: the golden test of the library's `AdafacMLPLOpt`.
@Suite struct AdafactorMLPGoldenTests {
    static func goldenTheta(_ model: AdafactorMLP) -> [Float] {
        var theta = [Float](repeating: 0, count: model.layout.count)
        let phi: [Float] = [0.1, -0.2, 0.0, 0.05, 0.0, 0.1, -0.1]
        for i in 0..<7 { theta[model.decays.offset + i] = phi[i] }
        for (l, layer) in model.mlp.layers.enumerated() {
            let fanIn = Double(layer.inputs)
            for i in 0..<layer.inputs {
                for j in 0..<layer.outputs {
                    theta[layer.weight.offset + i * layer.outputs + j] =
                        Float(0.5 * sin(Double(1 + i + 3 * j + 7 * l)) / fanIn.squareRoot())
                }
            }
            for j in 0..<layer.outputs { theta[layer.bias!.offset + j] = Float(0.01 * cos(Double(j + l))) }
        }
        return theta
    }

    @Test func effectiveDecaysMatchTheSpec() {
        let d = AdafactorFeatures.Decays(offsets: [0.1, -0.2, 0.0, 0.05, 0.0, 0.1, -0.1] as [Float])
        let expected = [0.72817181, 0.99864665, 0.999, 0.99835128, 0.9, 0.97281718, 0.99963212]
        let actual = d.momentum + [d.rms] + d.adafactor
        for (a, e) in zip(actual, expected) { #expect(abs(a - e) < 1e-7, "\(a) vs \(e)") }
    }

    @Test func perStepMovementMatchesTheReference() {
        let model = AdafactorMLP(configuration: .reference)
        #expect(model.parameterCount == 197)
        let optimizer = model.optimizer(theta: Self.goldenTheta(model))
        let expected: [[Double]] = [
            [8.4995794e-06, 5.0607267e-06, 7.8230780e-06, 5.9579216e-06, 4.1614270e-06, 4.6400581e-06],
            [7.2743604e-06, 5.1417145e-06, 6.6409874e-06, 4.5674099e-06, 4.1992712e-06, 4.2047989e-06],
            [6.5361371e-06, 5.5824121e-06, 5.9060094e-06, 3.7764707e-06, 4.6746141e-06, 4.9277086e-06],
            [5.7956310e-06, 5.8938007e-06, 5.1069214e-06, 2.9789726e-06, 5.0199446e-06, 4.3809742e-06],
            [4.8862684e-06, 5.9601268e-06, 4.1081031e-06, 3.1122338e-06, 5.0957729e-06, 3.5570586e-06],
        ]
        let c: [Double] = [1, 2, 3, 4, 5, 6]
        var state = optimizer.makeState(start: [1, -2, 0.5, 3, -0.25, 0])
        var worst = 0.0
        for t in 0..<5 {
            let p = state.point
            let g = (0..<6).map { i in 2 * c[i] * p[i] + 0.1 * sin(Double(t + i)) }
            _ = optimizer.update(&state, value: 0, gradient: g)
            for i in 0..<6 {
                let delta = state.point[i] - p[i]
                worst = max(worst, abs(delta - expected[t][i]) / abs(expected[t][i]))
            }
        }
        // The reference Δ = p_new − p_old (float64); our float32 network agrees to about 1e−6 relative.
        #expect(worst < 1e-5, "largest relative difference \(worst)")
    }
}
