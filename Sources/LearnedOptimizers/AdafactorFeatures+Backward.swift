import NeuralNetworks
import OptimusNumerics


extension AdafactorFeatures {
    /// Adjoints of the accumulators m [N×3], r [N], v [N×3] (Double, like the accumulators).
    struct AccumulatorAdjoint {
        var momentum: [Double]
        var rms: [Double]
        var adafactor: [Double]

        init(count n: Int) {
            momentum = [Double](repeating: 0, count: 3 * n)
            rms = [Double](repeating: 0, count: n)
            adafactor = [Double](repeating: 0, count: 3 * n)
        }
    }

    /// The backward pass of ``update(_:parameters:gradient:decays:)``.
    ///
    /// Given the state *before* the update (`old`), the step's p and g, the decay offsets φ and the adjoints of the
    /// features (`dz`, [N × 39]; the time features are constants) and of the updated accumulators (`carried`, from
    /// later steps), returns ∂/∂p, ∂/∂g and ∂/∂φ, and replaces `carried` by the adjoints of the accumulators before the
    /// update. The forward quantities are recomputed from `old` in the forward pass's order. The channel
    /// normalization z_ic = raw_ic·s_c, s_c = (10⁻⁵ + mean_i raw_ic²)^−½ couples the coordinates:
    /// ∂L/∂raw_ic = dz_ic·s_c − s_c³·raw_ic/N·Σ_j dz_jc·raw_jc. The clipped RMS and Adafactor decays have zero
    /// derivative where the clip is active; max(v + 10⁻⁹, 10⁻⁹) has derivative 1 (v > 0 after the first update).
    static func backward(
        old: State, parameters p: [Double], gradient g: [Double], offsets phi: [Double], dz: [Double],
        carried: inout AccumulatorAdjoint
    ) -> (parameters: [Double], gradient: [Double], offsets: [Double]) {
        let n = p.count
        let decays = Decays(offsets: phi)
        // The unclipped decays and their φ-derivatives dβ/dφ = −10·(1 − β₀)·e^{10φ} (0 where clipped).
        func derivative(_ base: Double, _ offset: Double, clipped: Bool) -> Double {
            let e = (1 - base) * exp(10 * offset)
            if clipped && !(0...1).contains(1 - e) { return 0 }
            return -10 * e
        }
        let momentumDerivative = (0..<3).map { derivative(baseMomentumDecays[$0], phi[$0], clipped: false) }
        let rmsDerivative = derivative(baseRMSDecays[0], phi[3], clipped: true)
        let adafactorDerivative = (0..<3).map { derivative(baseAdafactorDecays[$0], phi[4 + $0], clipped: true) }
        // Recompute the updated accumulators and the raw features.
        var m = old.momentum, r = old.rms, v = old.adafactor
        var raw = [Double](repeating: 0, count: n * normalizedCount)
        for i in 0..<n {
            let gi = g[i], g2 = gi * gi
            for k in 0..<3 {
                m[3 * i + k] = decays.momentum[k] * m[3 * i + k] + (1 - decays.momentum[k]) * gi
                v[3 * i + k] = decays.adafactor[k] * v[3 * i + k] + (1 - decays.adafactor[k]) * (g2 + 1e-30)
            }
            r[i] = decays.rms * r[i] + (1 - decays.rms) * g2
            let invRMS = 1 / (r[i] + 1e-6).squareRoot()
            var f = i * normalizedCount
            raw[f] = gi; f += 1
            raw[f] = p[i]; f += 1
            for k in 0..<3 { raw[f] = m[3 * i + k]; f += 1 }
            raw[f] = r[i]; f += 1
            for k in 0..<3 { raw[f] = m[3 * i + k] * invRMS; f += 1 }
            raw[f] = invRMS; f += 1
            for k in 0..<3 { raw[f] = gi / max(v[3 * i + k] + 1e-9, 1e-9).squareRoot(); f += 1 }
            for _ in 0..<2 { for k in 0..<3 { raw[f] = v[3 * i + k]; f += 1 } }
            for _ in 0..<2 { for k in 0..<3 { raw[f] = 1 / (v[3 * i + k] + 1e-8).squareRoot(); f += 1 } }
            for k in 0..<3 { raw[f] = m[3 * i + k] / (v[3 * i + k] + 1e-6).squareRoot(); f += 1 }
        }
        var meanSquare = [Double](repeating: 0, count: normalizedCount)
        var dot = [Double](repeating: 0, count: normalizedCount)
        for i in 0..<n {
            for c in 0..<normalizedCount {
                let x = raw[i * normalizedCount + c]
                meanSquare[c] += x * x
                dot[c] += dz[i * count + c] * x
            }
        }
        let scale = meanSquare.map { 1 / (1e-5 + $0 / Double(n)).squareRoot() }
        var dp = [Double](repeating: 0, count: n), dg = [Double](repeating: 0, count: n)
        var dPhi = [Double](repeating: 0, count: 7)
        var d = [Double](repeating: 0, count: normalizedCount)
        for i in 0..<n {
            for c in 0..<normalizedCount {
                let s = scale[c]
                d[c] = dz[i * count + c] * s - s * s * s * raw[i * normalizedCount + c] / Double(n) * dot[c]
            }
            let gi = g[i], g2 = gi * gi
            let invRMS = 1 / (r[i] + 1e-6).squareRoot()
            dg[i] += d[0]
            dp[i] += d[1]
            var dInvRMS = d[9]
            var dr = carried.rms[i] + d[5]
            for k in 0..<3 {
                let mk = m[3 * i + k], vk = v[3 * i + k]
                let s6 = (vk + 1e-6).squareRoot()
                var dm = carried.momentum[3 * i + k] + d[2 + k] + d[6 + k] * invRMS + d[25 + k] / s6
                dInvRMS += d[6 + k] * mk
                let s9 = max(vk + 1e-9, 1e-9).squareRoot()
                let s8 = (vk + 1e-8).squareRoot()
                var dv = carried.adafactor[3 * i + k] + d[13 + k] + d[16 + k]
                dv += d[10 + k] * gi * -0.5 / (s9 * s9 * s9)
                dv += (d[19 + k] + d[22 + k]) * -0.5 / (s8 * s8 * s8)
                dv += d[25 + k] * mk * -0.5 / (s6 * s6 * s6)
                dg[i] += d[10 + k] / s9
                // m′ = β·m + (1 − β)·g,  v′ = β·v + (1 − β)·(g² + 10⁻³⁰)
                let bm = decays.momentum[k], ba = decays.adafactor[k]
                dg[i] += dm * (1 - bm)
                dPhi[k] += dm * (old.momentum[3 * i + k] - gi) * momentumDerivative[k]
                dg[i] += dv * (1 - ba) * 2 * gi
                dPhi[4 + k] += dv * (old.adafactor[3 * i + k] - g2 - 1e-30) * adafactorDerivative[k]
                dm *= bm
                dv *= ba
                carried.momentum[3 * i + k] = dm
                carried.adafactor[3 * i + k] = dv
            }
            dr += dInvRMS * -0.5 * invRMS * invRMS * invRMS
            dg[i] += dr * (1 - decays.rms) * 2 * gi
            dPhi[3] += dr * (old.rms[i] - g2) * rmsDerivative
            carried.rms[i] = dr * decays.rms
        }
        return (dp, dg, dPhi)
    }
}

extension AdafactorFeatures {
    /// The features inside a differentiated step, the part both learned optimizers' tapes share: the decays from θ's
    /// offsets φ, the forward update in Double and the backward pass that adds ∂L/∂φ into θ's gradient.
    struct Tape {
        /// Where φ sits in θ.
        let spec: TensorSpec
        /// φ in Double.
        let offsets: [Double]
        let decays: Decays

        init<T: NetworkScalar>(theta: [T], spec: TensorSpec) {
            self.spec = spec
            offsets = theta[spec.range].map { Double($0) }
            decays = Decays(offsets: offsets)
        }

        /// What the backward pass needs of one step's features: the accumulators before the update, p and g.
        struct Record {
            var old: State
            var point: [Double]
            var gradient: [Double]
        }

        /// The step's start as the optimizers' `update` has it (``AdafactorFeatureState/enterStep(value:gradient:)``)
        /// and ``AdafactorFeatures/updateInDouble(_:parameters:gradient:decays:)`` with the features in T, recorded.
        func forward<S: AdafactorFeatureState, T: NetworkScalar>(
            _ s: inout S, value: Double, gradient g: [Double], in _: T.Type
        ) -> (record: Record, features: [T]) {
            s.enterStep(value: value, gradient: g)
            let record = Record(old: s.features, point: s.iterate, gradient: g)
            let z = AdafactorFeatures.updateInDouble(&s.features, parameters: s.iterate, gradient: g, decays: decays)
            return (record, z.map { T($0) })
        }

        /// ``AdafactorFeatures/backward(old:parameters:gradient:offsets:dz:carried:)`` of a recorded step; adds ∂L/∂φ
        /// to `gradient` (∂L/∂θ) and returns ∂L/∂p and ∂L/∂g.
        func backward(_ r: Record, dz: [Double], carried: inout AccumulatorAdjoint, gradient: inout [Double])
            -> (point: [Double], gradient: [Double])
        {
            let (dp, dg, dPhi) = AdafactorFeatures.backward(
                old: r.old, parameters: r.point, gradient: r.gradient, offsets: offsets, dz: dz, carried: &carried)
            for k in 0..<7 { gradient[spec.offset + k] += dPhi[k] }
            return (dp, dg)
        }
    }
}
