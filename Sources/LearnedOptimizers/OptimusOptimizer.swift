import NeuralNetworks
import OptimusNumerics
import Optimizers

/// An ``Optimus`` model with fixed meta-parameters, as an ordinary optimizer. One evaluation per step.
public struct OptimusOptimizer: Optimizer {
    public var name: String {
        switch model.configuration.variant {
        case .full: "optimus"
        case .noState: "optimus-no-state"
        case .noStructure: "optimus-no-structure"
        }
    }
    public let model: Optimus
    public let theta: [Float]
    public let horizon: Int?
    let decays: AdafactorFeatures.Decays

    init(model: Optimus, theta: [Float], horizon: Int?) {
        self.model = model
        self.theta = theta
        self.horizon = horizon
        decays = AdafactorFeatures.Decays(offsets: theta[model.decays.range])
    }

    /// 4·d² for B (`Float`; none for `optimus-no-structure`), 4·d² for one head's attention scores over the d
    /// coordinates (heads run one after another), and per coordinate the accumulators, a dozen vectors of Doubles and
    /// the activations of the encoder and the MLPs (``Optimizers/MemoryBudget``).
    public func memoryBytes(dimension d: Int) -> Int {
        let c = model.configuration
        let squared: Double = c.variant == .noStructure ? 4 : 8
        let activations = AdafactorFeatures.count + 2 + 8 * c.modelWidth + 2 * c.feedForwardWidth
            + 2 * c.mlpHiddenSize * c.mlpHiddenLayers + 2 * c.encoderLayers
        return MemoryBudget.bytes(squared: squared, perCoordinate: Double(8 * (7 + 12) + 4 * activations), dimension: d)
    }

    /// The state of a run: the iterate, the Adafactor accumulators and the preconditioner.
    public struct State: OptimizerState, AdafactorFeatureState, Codable {
        public internal(set) var point: [Double]
        public internal(set) var iterate: [Double]
        public internal(set) var iterateValue: Double = .nan
        public internal(set) var iterateGradient: [Double] = []
        /// The accumulators of the features.
        public internal(set) var features: AdafactorFeatures.State
        /// B (N × N, symmetric positive semi-definite, norm 1 after the first step); empty for noStructure.
        public internal(set) var preconditioner: Matrix<Float>
        /// The power-iteration vector (an estimate of B's top eigenvector), warm start for the next step.
        public internal(set) var powerVector: [Float]
        /// The last step s of the per-parameter branch and Δx (for analysis).
        public internal(set) var lastStep: [Float] = []
        public internal(set) var lastDelta: [Double] = []
    }

    public func makeState(start x0: [Double]) -> State {
        let n = x0.count
        let structured = model.configuration.variant != .noStructure
        return State(point: x0, iterate: x0, features: AdafactorFeatures.State(count: n),
                     preconditioner: structured ? .identity(n) : Matrix(rows: 0, columns: 0),
                     powerVector: [Float](repeating: 1 / Float(n).squareRoot(), count: n))
    }

    public func update(_ s: inout State, value: Double, gradient g: [Double]) -> OptimizerEvent {
        guard value.isFinite else { return .stopped(.nonFiniteObjective) }
        // L_k of the secant step, from the last secant pair (x_{k−1}, g_{k−1}) and (x_k, g_k).
        let length = model.configuration.stepScale == .secant
            ? SecantStepScale.length(point: s.point, gradient: g,
                                     previousPoint: s.iterateGradient.isEmpty ? [] : s.iterate,
                                     previousGradient: s.iterateGradient)
            : nil
        if model.configuration.curvaturePrior == .bfgs && !s.iterateGradient.isEmpty {
            // The state holds H in units of x per unit of g; its scale is set by the first secant pair.
            Self.bfgsUpdate(&s.preconditioner, step: zip(s.point, s.iterate).map { $0 - $1 },
                            gradientChange: zip(g, s.iterateGradient).map { $0 - $1 },
                            firstPair: s.features.iteration == 1)
        }
        s.enterStep(value: value, gradient: g)
        let z = AdafactorFeatures.update(&s.features, parameters: s.iterate, gradient: g, decays: decays)
        var meanMagnitude = 0.0
        var delta = step(&s, features: z, meanMagnitude: &meanMagnitude)
        if let length {
            let factor = SecantStepScale.factor(length: length, meanMagnitude: meanMagnitude,
                                                multiplier: model.configuration.lambdaB, step: delta)
            for i in delta.indices { delta[i] *= factor }
        }
        s.lastDelta = delta
        s.point = zip(s.iterate, delta).map { $0 - $1 }
        return .accepted
    }

    /// Δx for one step (in absolute units); updates B. `meanMagnitude` receives the mean over the coordinates of the
    /// magnitude output α_n.
    func step(_ s: inout State, features z: [Float], meanMagnitude: inout Double) -> [Double] {
        let n = s.iterate.count
        let c = model.configuration
        return theta.withUnsafeBufferPointer { tb -> [Double] in
            let theta = tb.baseAddress!
            // Per-parameter branch: s_n = λa·exp(λb·α_n)·d_n.
            let out = model.stepMLP.forward(z, rows: n, parameters: theta)
            let la = Float(c.lambdaA), lb = Float(c.lambdaB)
            var sVec = [Float](repeating: 0, count: n)
            for i in 0..<n { sVec[i] = la * Float.expApprox(lb * out[2 * i + 1]) * out[2 * i] }
            if c.stepScale == .secant {
                var sum = 0.0
                for i in 0..<n { sum += Double(out[2 * i + 1]) }
                meanMagnitude = n > 0 ? sum / Double(n) : 0
            }
            s.lastStep = sVec
            // Preconditioner branch.
            var input = z
            if c.variant == .noStructure {
                input = [Float](repeating: 0, count: n * (AdafactorFeatures.count + 1))
                for i in 0..<n {
                    for j in 0..<AdafactorFeatures.count {
                        input[i * (AdafactorFeatures.count + 1) + j] = z[i * AdafactorFeatures.count + j]
                    }
                    input[i * (AdafactorFeatures.count + 1) + AdafactorFeatures.count] = sVec[i]
                }
            }
            var e = model.inputProjection.forward(input, rows: n, parameters: theta)
            var us: [[Float]] = []
            for (l, encoder) in model.encoders.enumerated() {
                encoder.forward(&e, rows: n, parameters: theta)
                if c.variant != .noStructure {
                    us.append(model.heads[l].forward(e, rows: n, parameters: theta))
                }
            }
            if c.variant == .noStructure {
                let v = model.heads[0].forward(e, rows: n, parameters: theta)
                return (0..<n).map { Double(sVec[$0] + la * v[$0]) }
            }
            if c.variant == .noState { s.preconditioner = .identity(n) }
            // With the BFGS prior the state holds H = scale·B: the learned terms correct B = H/‖H‖ and the state
            // keeps the corrected B at H's scale.
            var scale: Float = 1
            if c.curvaturePrior == .bfgs {
                scale = spectralNorm(&s)
                if scale > 0 && scale.isFinite { BLAS.scale(1 / scale, &s.preconditioner.storage) } else { scale = 1 }
            }
            for u in us { BLAS.ger(1, u, u, &s.preconditioner) }
            normalize(&s)
            var dx = [Float](repeating: 0, count: n)
            BLAS.gemv(s.preconditioner, sVec, into: &dx)
            if scale != 1 { BLAS.scale(scale, &s.preconditioner.storage) }
            return dx.map(Double.init)
        }
    }

    /// The BFGS update of the inverse-Hessian estimate H that ``Optimus/CurvaturePrior/bfgs`` keeps in the state, with
    /// the secant pair (s, y) = (x_k − x_{k−1}, g_k − g_{k−1}):
    ///
    ///     H ← (I − ρ·s·yᵀ)·H·(I − ρ·y·sᵀ) + ρ·s·sᵀ,   ρ = 1/sᵀy.
    ///
    /// H starts as the identity in no unit; at the first pair it is multiplied by |s|/|y| (the initial scaling of
    /// L-BFGS, in its always-positive geometric form), so from then on it is in units of x per unit of g and the
    /// optimizer stays equivariant to rescaling x and f. Written with the unit vectors ŝ, ŷ, ŵ = H·ŷ and
    /// ρ̂ = 1/(ŝᵀŷ) the update is H − ρ̂·(ŝ·ŵᵀ + ŵ·ŝᵀ) + (ρ̂²·ŷᵀŵ + ρ̂·|s|/|y|)·ŝ·ŝᵀ, which keeps every factor of
    /// order one in Float. Skipped where the curvature along the step is not clearly positive
    /// (ŝᵀŷ ≤ ``minimumCosine``), which keeps H positive definite.
    static func bfgsUpdate(_ h: inout Matrix<Float>, step sDouble: [Double], gradientChange yDouble: [Double],
                           firstPair: Bool) {
        let n = sDouble.count
        guard n == h.rows, n > 0 else { return }
        var sNorm = 0.0, yNorm = 0.0
        for i in 0..<n {
            sNorm += sDouble[i] * sDouble[i]
            yNorm += yDouble[i] * yDouble[i]
        }
        sNorm = sNorm.squareRoot()
        yNorm = yNorm.squareRoot()
        guard sNorm > 0, yNorm > 0, sNorm.isFinite, yNorm.isFinite else { return }
        let ratio = sNorm / yNorm
        if firstPair { BLAS.scale(Float(ratio), &h.storage) }
        let s = sDouble.map { Float($0 / sNorm) }, y = yDouble.map { Float($0 / yNorm) }
        var sy = 0.0
        for i in 0..<n { sy += Double(s[i]) * Double(y[i]) }
        guard sy > minimumCosine else { return }
        let rho = 1 / sy
        var w = [Float](repeating: 0, count: n)
        BLAS.gemv(h, y, into: &w)
        var yw = 0.0
        for i in 0..<n { yw += Double(y[i]) * Double(w[i]) }
        BLAS.ger(Float(-rho), s, w, &h)
        BLAS.ger(Float(-rho), w, s, &h)
        BLAS.ger(Float(rho * rho * yw + rho * ratio), s, s, &h)
    }

    /// Smallest cos(s, y) at which ``bfgsUpdate(_:step:gradientChange:firstPair:)`` updates H: the update grows H
    /// along s by up to 1/cos², which Float keeps to about 10⁶ (cos ≥ 10⁻³) before other directions lose their digits.
    static let minimumCosine = 1e-3

    /// The spectral norm of the state's matrix by the warm-started power iteration (the warm vector is kept).
    func spectralNorm(_ s: inout State) -> Float {
        var v = s.powerVector
        var w = [Float](repeating: 0, count: v.count)
        var lambda: Float = 0
        for _ in 0..<max(1, model.configuration.powerIterations) {
            BLAS.gemv(s.preconditioner, v, into: &w)
            lambda = w.norm
            guard lambda > 0 && lambda.isFinite else { break }
            for i in v.indices { v[i] = w[i] / lambda }
        }
        if lambda > 0 && lambda.isFinite { s.powerVector = v }
        return lambda
    }

    /// B ← B̃/‖B̃‖.
    func normalize(_ s: inout State) {
        let norm: Float
        switch model.configuration.norm {
        case .frobenius:
            norm = s.preconditioner.frobeniusNorm
        case .spectral:
            norm = spectralNorm(&s)
        }
        guard norm > 0 && norm.isFinite else { return }
        BLAS.scale(1 / norm, &s.preconditioner.storage)
    }
}
