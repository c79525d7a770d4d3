import NeuralNetworks
import Objectives
import Optimizers
import OptimusNumerics

extension AdafactorMLP: DifferentiableLearnedOptimizer {
    public func unrollGradient(
        theta: [Float], state: inout AdafactorMLPOptimizer.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient {
        unrollGradient(theta: theta, state: &state, objective: objective, steps: steps, loss: loss, precision: .single)
    }

    /// ``unrollGradient(theta:state:objective:steps:loss:)`` with the MLP in the given precision (`.single`: the
    /// optimizer's own trajectory, bit for bit).
    public func unrollGradient(
        theta: [Float], state: inout AdafactorMLPOptimizer.State, objective: any Objective, steps: Int,
        loss: StepLoss, precision: GradientPrecision
    ) -> UnrollGradient {
        precondition(theta.count == layout.count, "θ has \(theta.count) values, the layout \(layout.count)")
        precondition(configuration.stepScale == .absolute,
                     "the exact meta-gradient differentiates absolute steps only; train secant steps with an ES estimator")
        switch precision {
        case .single:
            return differentiateUnroll(AdafactorMLPTape<Float>(model: self, theta: theta), state: &state,
                                       point: \.point, objective: objective, steps: steps, loss: loss,
                                       parameterCount: layout.count)
        case .double:
            return unrollGradient(theta: theta.map(Double.init), state: &state, objective: objective, steps: steps,
                                  loss: loss)
        }
    }

    /// The Double reference path with θ itself in Double.
    func unrollGradient(
        theta: [Double], state: inout AdafactorMLPOptimizer.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient {
        differentiateUnroll(AdafactorMLPTape<Double>(model: self, theta: theta), state: &state, point: \.point,
                            objective: objective, steps: steps, loss: loss, parameterCount: layout.count)
    }
}

/// The Adafactor-MLP step Δ_i = d_i·exp(expMult·a_i)·stepMult in precision T, recorded.
struct AdafactorMLPTape<T: NetworkScalar>: StepTape {
    let model: AdafactorMLP
    let theta: [T]
    let offsets: [Double]
    let decays: AdafactorFeatures.Decays

    init(model: AdafactorMLP, theta: [T]) {
        self.model = model
        self.theta = theta
        offsets = theta[model.decays.offset..<(model.decays.offset + 7)].map { Double($0) }
        decays = AdafactorFeatures.Decays(offsets: offsets)
    }

    struct Record {
        var features: AdafactorFeatures.State
        var point: [Double]
        var gradient: [Double]
        var mlp = MLP.Record<T>()
        var out: [T] = []
    }

    func zeroCarried(dimension n: Int) -> AdafactorFeatures.AccumulatorAdjoint { .init(count: n) }

    func forward(_ s: inout AdafactorMLPOptimizer.State, value: Double, gradient g: [Double]) -> Record {
        let n = g.count
        s.iterate = s.point
        s.iterateValue = value
        s.iterateGradient = g
        var r = Record(features: s.features, point: s.iterate, gradient: g)
        let z = AdafactorFeatures.updateInDouble(&s.features, parameters: s.iterate, gradient: g, decays: decays)
            .map { T($0) }
        r.out = theta.withUnsafeBufferPointer { model.mlp.forward(z, rows: n, parameters: $0.baseAddress!, record: &r.mlp) }
        let c = model.configuration
        let delta = (0..<n).map { i in Double(r.out[2 * i]) * exp(c.expMult * Double(r.out[2 * i + 1])) * c.stepMult }
        s.point = zip(s.iterate, delta).map { $0 - $1 }
        return r
    }

    func backward(_ r: Record, delta: [Double], carried: inout AdafactorFeatures.AccumulatorAdjoint,
                  gradient: inout [Double]) -> (point: [Double], gradient: [Double]) {
        let n = r.point.count
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
        let (dp, dg, dPhi) = AdafactorFeatures.backward(
            old: r.features, parameters: r.point, gradient: r.gradient, offsets: offsets, dz: dz.map { Double($0) },
            carried: &carried)
        for k in 0..<7 { gradient[model.decays.offset + k] += dPhi[k] }
        return (dp, dg)
    }
}
