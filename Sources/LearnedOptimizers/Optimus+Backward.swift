import NeuralNetworks
import Objectives
import OptimusNumerics
import Optimizers

extension Optimus: TapedLearnedOptimizer {
    var exactGradientLimitation: String? {
        guard !configuration.isDifferentiable else { return nil }
        return "the exact meta-gradient covers absolute steps without a curvature prior; train others with an ES estimator"
    }

    /// B and the power vector run in T inside the unroll and are rounded to Float when the state is written back.
    func unroll<T: NetworkScalar>(
        theta: [T], state: inout OptimusOptimizer.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient {
        var inner = OptimusTape<T>.State(optimizer: state)
        let result = differentiateUnroll(OptimusTape<T>(model: self, theta: theta), state: &inner,
                                         point: \.optimizer.point, objective: objective, steps: steps, loss: loss,
                                         parameterCount: layout.count)
        state = inner.written()
        return result
    }
}

/// The Optimus step in precision T, recorded (``Optimus`` documents the maths; the operations and their order are
/// those of ``OptimusOptimizer``'s step, so with T = Float the trajectory is the optimizer's, bit for bit).
struct OptimusTape<T: NetworkScalar>: StepTape {
    let model: Optimus
    let theta: [T]
    let features: AdafactorFeatures.Tape

    init(model: Optimus, theta: [T]) {
        self.model = model
        self.theta = theta
        features = AdafactorFeatures.Tape(theta: theta, spec: model.decays)
    }

    /// The optimizer's state with B and the power vector held in T.
    struct State {
        var optimizer: OptimusOptimizer.State
        var preconditioner: [T]
        var powerVector: [T]

        init(optimizer: OptimusOptimizer.State) {
            self.optimizer = optimizer
            preconditioner = optimizer.preconditioner.storage.map { T($0) }
            powerVector = optimizer.powerVector.map { T($0) }
        }

        func written() -> OptimusOptimizer.State {
            var s = optimizer
            if !s.preconditioner.storage.isEmpty {
                s.preconditioner.storage = preconditioner.map { Float($0) }
            }
            s.powerVector = powerVector.map { Float($0) }
            return s
        }
    }

    struct Record {
        var features: AdafactorFeatures.Tape.Record
        var mlp = MLP.Record<T>()
        var out: [T] = []
        var exponentials: [T] = []
        var step: [T] = []
        var input: [T] = []
        var encoders: [TransformerEncoderLayer.Record<T>] = []
        /// E^l after encoder l.
        var embeddings: [[T]] = []
        var us: [[T]] = []
        /// B̃ = B + Σ u uᵀ before normalization.
        var tilde: [T] = []
        /// B after normalization.
        var normalized: [T] = []
        /// v_0 … v_k of the power iteration and ‖w_k‖.
        var powerVectors: [[T]] = []
        var lambdas: [T] = []
        /// The norm B̃ was divided by (0: not divided).
        var norm: T = 0
        /// Whether the power vector was replaced.
        var powerVectorUpdated = false
    }

    struct Carried {
        var accumulators: AdafactorFeatures.AccumulatorAdjoint
        var preconditioner: [T]
        var powerVector: [T]
        /// ∂L/∂θ of the network's weights, summed over the unroll's steps in T by the products themselves (β = 1):
        /// a per-step buffer added into the Double total would cost two passes over all of θ per step, which for
        /// the paper preset (650k values) was most of a differentiated step at small N. ``finish(_:gradient:)``
        /// adds it to the total once.
        var theta: [T]
    }

    func zeroCarried(dimension n: Int) -> Carried {
        Carried(accumulators: .init(count: n),
                preconditioner: [T](repeating: 0, count: model.configuration.variant == .noStructure ? 0 : n * n),
                powerVector: [T](repeating: 0, count: n), theta: [T](repeating: 0, count: theta.count))
    }

    func finish(_ carried: Carried, gradient: inout [Double]) {
        for k in carried.theta.indices { gradient[k] += Double(carried.theta[k]) }
    }

    func forward(_ s: inout State, value: Double, gradient g: [Double]) -> Record {
        let n = g.count
        let c = model.configuration
        var o = s.optimizer
        let (featureRecord, z) = features.forward(&o, value: value, gradient: g, in: T.self)
        var r = Record(features: featureRecord)
        let delta: [Double] = theta.withUnsafeBufferPointer { tb in
            let theta = tb.baseAddress!
            let out = model.stepMLP.forward(z, rows: n, parameters: theta, record: &r.mlp)
            let la = T(Float(c.lambdaA)), lb = T(Float(c.lambdaB))
            var sVec = [T](repeating: 0, count: n)
            var e = [T](repeating: 0, count: n)
            for i in 0..<n {
                e[i] = T.networkExp(lb * out[2 * i + 1])
                sVec[i] = la * e[i] * out[2 * i]
            }
            r.out = out
            r.exponentials = e
            r.step = sVec
            o.lastStep = sVec.map { Float($0) }
            var input = z
            if c.variant == .noStructure {
                let w = AdafactorFeatures.count
                input = [T](repeating: 0, count: n * (w + 1))
                for i in 0..<n {
                    for j in 0..<w { input[i * (w + 1) + j] = z[i * w + j] }
                    input[i * (w + 1) + w] = sVec[i]
                }
            }
            r.input = input
            var emb = model.inputProjection.forward(input, rows: n, parameters: theta)
            for (l, encoder) in model.encoders.enumerated() {
                var rec = TransformerEncoderLayer.Record<T>()
                encoder.forward(&emb, rows: n, parameters: theta, record: &rec)
                r.encoders.append(rec)
                r.embeddings.append(emb)
                if c.variant != .noStructure { r.us.append(model.heads[l].forward(emb, rows: n, parameters: theta)) }
            }
            if c.variant == .noStructure {
                let v = model.heads[0].forward(emb, rows: n, parameters: theta)
                return (0..<n).map { Double(sVec[$0] + la * v[$0]) }
            }
            var b = c.variant == .noState ? identity(n) : s.preconditioner
            b.withUnsafeMutableBufferPointer { bb in
                for u in r.us { u.withUnsafeBufferPointer { T._ger(n, n, 1, $0.baseAddress!, $0.baseAddress!, bb.baseAddress!, n) } }
            }
            r.tilde = b
            normalize(&b, &s.powerVector, &r)
            r.normalized = b
            s.preconditioner = b
            var dx = [T](repeating: 0, count: n)
            gemv(b, sVec, &dx, n, transposed: false)
            return dx.map { Double($0) }
        }
        o.lastDelta = delta
        o.point = zip(o.iterate, delta).map { $0 - $1 }
        s.optimizer = o
        return r
    }

    func identity(_ n: Int) -> [T] {
        var b = [T](repeating: 0, count: n * n)
        for i in 0..<n { b[i * n + i] = 1 }
        return b
    }

    /// y = A·x or Aᵀ·x for a row-major n × n A (the call `BLAS.gemv` makes).
    func gemv(_ a: [T], _ x: [T], _ y: inout [T], _ n: Int, transposed: Bool) {
        T._gemv(transposed, n, n, 1, a, n, x, 0, &y)
    }

    /// B ← B̃/‖B̃‖ as ``OptimusOptimizer``'s normalize, recording the power iteration.
    func normalize(_ b: inout [T], _ powerVector: inout [T], _ r: inout Record) {
        let n = powerVector.count
        let norm: T
        switch model.configuration.norm {
        case .frobenius:
            norm = b.withUnsafeBufferPointer { T._nrm2(b.count, $0.baseAddress!) }
        case .spectral:
            var v = powerVector
            var w = [T](repeating: 0, count: n)
            var lambda: T = 0
            r.powerVectors = [v]
            for _ in 0..<max(1, model.configuration.powerIterations) {
                gemv(b, v, &w, n, transposed: false)
                lambda = w.withUnsafeBufferPointer { T._nrm2(n, $0.baseAddress!) }
                guard lambda > 0 && lambda.isFinite else { break }
                for i in v.indices { v[i] = w[i] / lambda }
                r.powerVectors.append(v)
                r.lambdas.append(lambda)
            }
            if lambda > 0 && lambda.isFinite {
                powerVector = v
                r.powerVectorUpdated = true
            }
            norm = lambda
        }
        guard norm > 0 && norm.isFinite else { return }
        r.norm = norm
        b.withUnsafeMutableBufferPointer { T._scal($0.count, 1 / norm, $0.baseAddress!) }
    }

    func backward(_ r: Record, delta: [Double], carried: inout Carried, gradient: inout [Double])
        -> (point: [Double], gradient: [Double])
    {
        let n = r.features.point.count
        let c = model.configuration
        let la = T(Float(c.lambdaA)), lb = T(Float(c.lambdaB))
        let dDelta = delta.map { T($0) }
        var ds = [T](repeating: 0, count: n)
        var dEmbedding = [T](repeating: 0, count: n * c.modelWidth)
        var featureGradient: [Double] = []
        theta.withUnsafeBufferPointer { tb in
            carried.theta.withUnsafeMutableBufferPointer { gb in
                let theta = tb.baseAddress!, grad = gb.baseAddress!
                if c.variant == .noStructure {
                    // Δ = s + λa·v,  v = head(E^L)
                    let dv = dDelta.map { la * $0 }
                    for i in 0..<n { ds[i] = dDelta[i] }
                    let last = r.embeddings[r.embeddings.count - 1]
                    last.withUnsafeBufferPointer { eb in dv.withUnsafeBufferPointer { db in
                        dEmbedding.withUnsafeMutableBufferPointer {
                            model.heads[0].backward(eb.baseAddress!, rows: n, dy: db.baseAddress!, parameters: theta,
                                                    gradient: grad, dx: $0.baseAddress!, accumulate: true)
                        }
                    } }
                    carried.powerVector = [T](repeating: 0, count: n)
                } else {
                    // Δ = B′·s:  ds = B′ᵀ·dΔ,  dB′ += dΔ·sᵀ
                    gemv(r.normalized, dDelta, &ds, n, transposed: true)
                    var dB = carried.preconditioner
                    dB.withUnsafeMutableBufferPointer { db in dDelta.withUnsafeBufferPointer { dd in
                        r.step.withUnsafeBufferPointer { T._ger(n, n, 1, dd.baseAddress!, $0.baseAddress!, db.baseAddress!, n) }
                    } }
                    // B′ = B̃/λ:  dB̃ = dB′/λ,  dλ = −⟨dB′, B̃⟩/λ²
                    var dTilde = dB
                    var dLambda: T = 0
                    if r.norm > 0 {
                        var inner: T = 0
                        for k in 0..<(n * n) { inner += dB[k] * r.tilde[k] }
                        dLambda = -inner / (r.norm * r.norm)
                        for k in 0..<(n * n) { dTilde[k] = dB[k] / r.norm }
                    }
                    var dPower = carried.powerVector
                    switch c.norm {
                    case .frobenius:
                        if r.norm > 0 { for k in 0..<(n * n) { dTilde[k] += dLambda * r.tilde[k] / r.norm } }
                    case .spectral:
                        // v_k = w_k/λ_k, λ_k = ‖w_k‖, w_k = B̃·v_{k−1}; λ = λ_K is the norm, v_K the next power vector.
                        var dv = r.powerVectorUpdated ? dPower : [T](repeating: 0, count: n)
                        let iterations = r.lambdas.count
                        for k in stride(from: iterations, through: 1, by: -1) {
                            let v = r.powerVectors[k], lambda = r.lambdas[k - 1]
                            var dot: T = 0
                            for i in 0..<n { dot += dv[i] * v[i] }
                            let dl: T = (k == iterations && r.norm > 0) ? dLambda : 0
                            var dw = [T](repeating: 0, count: n)
                            for i in 0..<n { dw[i] = dl * v[i] + (dv[i] - dot * v[i]) / lambda }
                            dTilde.withUnsafeMutableBufferPointer { dt in dw.withUnsafeBufferPointer { dwb in
                                r.powerVectors[k - 1].withUnsafeBufferPointer {
                                    T._ger(n, n, 1, dwb.baseAddress!, $0.baseAddress!, dt.baseAddress!, n)
                                }
                            } }
                            gemv(r.tilde, dw, &dv, n, transposed: true)
                        }
                        dPower = r.powerVectorUpdated ? dv : dPower
                    }
                    carried.powerVector = dPower
                    // B̃ = B + Σ_l u_l u_lᵀ:  du_l = (dB̃ + dB̃ᵀ)·u_l,  dB = dB̃ (noState: B = I, no adjoint).
                    var symmetric = dTilde
                    for i in 0..<n { for j in 0..<n { symmetric[i * n + j] = dTilde[i * n + j] + dTilde[j * n + i] } }
                    carried.preconditioner = c.variant == .noState ? [T](repeating: 0, count: n * n) : dTilde
                    var dus: [[T]] = []
                    for u in r.us {
                        var du = [T](repeating: 0, count: n)
                        gemv(symmetric, u, &du, n, transposed: false)
                        dus.append(du)
                    }
                    // Heads and encoders, last layer first; the head of layer l feeds dE^l.
                    for l in stride(from: model.encoders.count - 1, through: 0, by: -1) {
                        r.embeddings[l].withUnsafeBufferPointer { eb in dus[l].withUnsafeBufferPointer { db in
                            dEmbedding.withUnsafeMutableBufferPointer {
                                model.heads[l].backward(eb.baseAddress!, rows: n, dy: db.baseAddress!, parameters: theta,
                                                        gradient: grad, dx: $0.baseAddress!, accumulate: true)
                            }
                        } }
                        dEmbedding = model.encoders[l].backward(r.encoders[l], rows: n, dy: dEmbedding,
                                                                parameters: theta, gradient: grad)
                    }
                }
                if c.variant == .noStructure {
                    for l in stride(from: model.encoders.count - 1, through: 0, by: -1) {
                        dEmbedding = model.encoders[l].backward(r.encoders[l], rows: n, dy: dEmbedding,
                                                                parameters: theta, gradient: grad)
                    }
                }
                // E⁰ = input·W_in + b_in
                let width = model.inputProjection.inputs
                var dInput = [T](repeating: 0, count: n * width)
                r.input.withUnsafeBufferPointer { ib in dEmbedding.withUnsafeBufferPointer { db in
                    dInput.withUnsafeMutableBufferPointer {
                        model.inputProjection.backward(ib.baseAddress!, rows: n, dy: db.baseAddress!, parameters: theta,
                                                       gradient: grad, dx: $0.baseAddress!)
                    }
                } }
                var dz = [T](repeating: 0, count: n * AdafactorFeatures.count)
                for i in 0..<n {
                    for j in 0..<AdafactorFeatures.count { dz[i * AdafactorFeatures.count + j] = dInput[i * width + j] }
                    if c.variant == .noStructure { ds[i] += dInput[i * width + AdafactorFeatures.count] }
                }
                // s_i = (λa·e_i)·d_i, e_i = exp(λb·α_i)
                var dOut = [T](repeating: 0, count: 2 * n)
                for i in 0..<n {
                    dOut[2 * i] = ds[i] * la * r.exponentials[i]
                    dOut[2 * i + 1] = ds[i] * la * r.exponentials[i] * r.out[2 * i] * lb
                }
                let dzMLP = model.stepMLP.backward(r.mlp, rows: n, dy: dOut, parameters: theta, gradient: grad)
                for k in dz.indices { dz[k] += dzMLP[k] }
                featureGradient = dz.map { Double($0) }
            }
        }
        return features.backward(r.features, dz: featureGradient, carried: &carried.accumulators, gradient: &gradient)
    }
}
