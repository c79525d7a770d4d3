import NeuralNetworks
import Objectives
import Optimizers
import OptimusNumerics

extension AdafactorMLP: TapedLearnedOptimizer {
    var exactGradientLimitation: String? {
        guard configuration.stepScale != .absolute else { return nil }
        return "the exact meta-gradient differentiates absolute steps only; train secant steps with an ES estimator"
    }

    func unroll<T: NetworkScalar>(
        theta: [T], state: inout AdafactorMLPOptimizer.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient {
        differentiateUnroll(AdafactorMLPTape<T>(model: self, theta: theta), state: &state, point: \.point,
                            objective: objective, steps: steps, loss: loss, parameterCount: layout.count)
    }
}

/// The Adafactor-MLP step Δ_i = d_i·exp(expMult·a_i)·stepMult in precision T, recorded.
struct AdafactorMLPTape<T: NetworkScalar>: StepTape {
    let model: AdafactorMLP
    let theta: [T]
    let features: AdafactorFeatures.Tape

    init(model: AdafactorMLP, theta: [T]) {
        self.model = model
        self.theta = theta
        features = AdafactorFeatures.Tape(theta: theta, spec: model.decays)
    }

    struct Record {
        var features: AdafactorFeatures.Tape.Record
        var mlp = MLP.Record<T>()
        var out: [T] = []
    }

    func zeroCarried(dimension n: Int) -> AdafactorFeatures.AccumulatorAdjoint { .init(count: n) }

    func forward(_ s: inout AdafactorMLPOptimizer.State, value: Double, gradient g: [Double]) -> Record {
        let n = g.count
        let (featureRecord, z) = features.forward(&s, value: value, gradient: g, in: T.self)
        var r = Record(features: featureRecord)
        r.out = theta.withUnsafeBufferPointer { model.mlp.forward(z, rows: n, parameters: $0.baseAddress!, record: &r.mlp) }
        let c = model.configuration
        let delta = (0..<n).map { i in Double(r.out[2 * i]) * exp(c.expMult * Double(r.out[2 * i + 1])) * c.stepMult }
        s.point = zip(s.iterate, delta).map { $0 - $1 }
        return r
    }

    func backward(_ r: Record, delta: [Double], carried: inout AdafactorFeatures.AccumulatorAdjoint,
                  gradient: inout [Double]) -> (point: [Double], gradient: [Double]) {
        let n = r.features.point.count
        let c = model.configuration
        var dOut = [T](repeating: 0, count: 2 * n)
        for i in 0..<n {
            let e = exp(c.expMult * Double(r.out[2 * i + 1])) * c.stepMult
            dOut[2 * i] = T(delta[i] * e)
            dOut[2 * i + 1] = T(delta[i] * Double(r.out[2 * i]) * e * c.expMult)
        }
        var g = [T](repeating: 0, count: theta.count)
        let dz = theta.withUnsafeBufferPointer { tb in
            g.withUnsafeMutableBufferPointer {
                model.mlp.backward(r.mlp, rows: n, dy: dOut, parameters: tb.baseAddress!, gradient: $0.baseAddress!)
            }
        }
        for k in g.indices { gradient[k] += Double(g[k]) }
        return features.backward(r.features, dz: dz.map { Double($0) }, carried: &carried, gradient: &gradient)
    }
}
