import OptimusNumerics


/// The per-parameter input features of the Adafactor-MLP learned optimizer (Metz et al. 2022,
/// `learned_optimization/learned_optimizers/adafac_mlp_lopt.py`), for a flat parameter vector.
///
/// Exactly as `docs/adafactor-mlp-and-pes.md`, *State and update order* to *Normalization*: three momentum EMAs m
/// (decays 0.9, 0.99, 0.999), one RMS EMA r (0.999), three "Adafactor" EMAs v (0.9, 0.99, 0.999; diagonal for
/// vectors), no bias correction; 28 features per coordinate, each channel divided by √(1e−5 + mean over coordinates
/// of its square); then 11 unnormalized time features tanh(t/T_j − 1). Decays are meta-learned through offsets φ:
/// β = 1 − (1 − β₀)·exp(10φ); RMS and Adafactor decays are clipped to [0, 1], momentum decays are not.
///
/// Accumulators are kept in Double (they are state, not network activations); the features are handed to the
/// network as Float.
public enum AdafactorFeatures {
    /// Number of normalized per-coordinate features.
    public static let normalizedCount = 28
    /// Number of time features.
    public static let timeCount = 11
    /// Total inputs per coordinate (39).
    public static let count = normalizedCount + timeCount
    /// T_j of the time features.
    public static let timescales: [Double] = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000]
    /// Base decays of the momentum, RMS and Adafactor EMAs.
    public static let baseMomentumDecays: [Double] = [0.9, 0.99, 0.999]
    public static let baseRMSDecays: [Double] = [0.999]
    public static let baseAdafactorDecays: [Double] = [0.9, 0.99, 0.999]

    /// Effective decays from the 7 offsets φ (momentum ×3, RMS ×1, Adafactor ×3).
    public struct Decays: Sendable, Equatable {
        public var momentum: [Double]
        public var rms: Double
        public var adafactor: [Double]

        public init(offsets phi: some Collection<Float>) {
            self.init(offsets: phi.map(Double.init))
        }

        /// The decays from offsets held in Double (the reference path of the meta-gradient checks).
        public init(offsets p: [Double]) {
            precondition(p.count == 7, "Adafactor decays need 7 offsets, got \(p.count)")
            func decay(_ base: Double, _ offset: Double) -> Double { 1 - (1 - base) * exp(10 * offset) }
            momentum = (0..<3).map { decay(baseMomentumDecays[$0], p[$0]) }
            rms = min(max(decay(baseRMSDecays[0], p[3]), 0), 1)
            adafactor = (0..<3).map { min(max(decay(baseAdafactorDecays[$0], p[4 + $0]), 0), 1) }
        }
    }

    /// Accumulators for N coordinates.
    public struct State: Sendable, Equatable, Codable {
        /// m, [N × 3] row-major.
        public internal(set) var momentum: [Double]
        /// r, [N].
        public internal(set) var rms: [Double]
        /// v, [N × 3].
        public internal(set) var adafactor: [Double]
        /// Updates so far (t).
        public internal(set) var iteration = 0

        public init(count n: Int) {
            momentum = [Double](repeating: 0, count: 3 * n)
            rms = [Double](repeating: 0, count: n)
            adafactor = [Double](repeating: 0, count: 3 * n)
        }
    }

    /// Updates the accumulators with gradient `g` and returns the [N × 39] feature matrix (Float, row-major) for
    /// parameters `p` (pre-update). Increments `state.iteration`.
    public static func update(_ s: inout State, parameters p: [Double], gradient g: [Double], decays: Decays) -> [Float] {
        let n = p.count
        return normalized(&s, parameters: p, gradient: g, decays: decays) { raw, scale, time in
            [Float](unsafeUninitializedCapacity: n * count) { out, written in
                for i in 0..<n {
                    let row = out.baseAddress! + i * count, r = raw + i * normalizedCount
                    for c in 0..<normalizedCount { row[c] = Float(r[c] * scale[c]) }
                    for j in 0..<timeCount { row[normalizedCount + j] = Float(time[j]) }
                }
                written = n * count
            }
        }
    }

    /// ``update(_:parameters:gradient:decays:)`` before the features are rounded to Float.
    static func updateInDouble(_ s: inout State, parameters p: [Double], gradient g: [Double], decays: Decays) -> [Double] {
        let n = p.count
        return normalized(&s, parameters: p, gradient: g, decays: decays) { raw, scale, time in
            var features = [Double](repeating: 0, count: n * count)
            for i in 0..<n {
                for c in 0..<normalizedCount { features[i * count + c] = raw[i * normalizedCount + c] * scale[c] }
                for j in 0..<timeCount { features[i * count + normalizedCount + j] = time[j] }
            }
            return features
        }
    }

    /// Updates the accumulators, writes the 28 raw features of every coordinate and hands them, the per-channel
    /// scale 1/√(1e−5 + mean square) and the 11 time features to `finish`.
    private static func normalized<R>(
        _ s: inout State, parameters p: [Double], gradient g: [Double], decays: Decays,
        finish: (UnsafePointer<Double>, [Double], [Double]) -> R
    ) -> R {
        let n = p.count
        let t = Double(s.iteration)
        let raw = UnsafeMutablePointer<Double>.allocate(capacity: n * normalizedCount)
        defer { raw.deallocate() }
        let (b0, b1, b2) = (decays.momentum[0], decays.momentum[1], decays.momentum[2])
        let (a0, a1, a2) = (decays.adafactor[0], decays.adafactor[1], decays.adafactor[2])
        let rho = decays.rms
        s.momentum.withUnsafeMutableBufferPointer { mb in
            s.adafactor.withUnsafeMutableBufferPointer { vb in
                s.rms.withUnsafeMutableBufferPointer { rb in
                    p.withUnsafeBufferPointer { pb in
                        g.withUnsafeBufferPointer { gb in
                            let m = mb.baseAddress!, v = vb.baseAddress!
                            for i in 0..<n {
                                let gi = gb[i], g2 = gi * gi
                                let mi = m + 3 * i, vi = v + 3 * i
                                mi[0] = b0 * mi[0] + (1 - b0) * gi
                                vi[0] = a0 * vi[0] + (1 - a0) * (g2 + 1e-30)
                                mi[1] = b1 * mi[1] + (1 - b1) * gi
                                vi[1] = a1 * vi[1] + (1 - a1) * (g2 + 1e-30)
                                mi[2] = b2 * mi[2] + (1 - b2) * gi
                                vi[2] = a2 * vi[2] + (1 - a2) * (g2 + 1e-30)
                                rb[i] = rho * rb[i] + (1 - rho) * g2
                                let r = rb[i]
                                let invRMS = 1 / (r + 1e-6).squareRoot()
                                let f = raw + i * normalizedCount
                                f[0] = gi
                                f[1] = pb[i]
                                for k in 0..<3 { f[2 + k] = mi[k] }
                                f[5] = r
                                for k in 0..<3 { f[6 + k] = mi[k] * invRMS }
                                f[9] = invRMS
                                for k in 0..<3 { f[10 + k] = gi / max(vi[k] + 1e-9, 1e-9).squareRoot() }
                                for k in 0..<3 {
                                    f[13 + k] = vi[k]
                                    f[16 + k] = vi[k]
                                }
                                for k in 0..<3 {
                                    let inv = 1 / (vi[k] + 1e-8).squareRoot()
                                    f[19 + k] = inv
                                    f[22 + k] = inv
                                }
                                for k in 0..<3 { f[25 + k] = mi[k] / (vi[k] + 1e-6).squareRoot() }
                            }
                        }
                    }
                }
            }
        }
        // Second-moment normalization of each channel across the coordinates.
        var meanSquare = [Double](repeating: 0, count: normalizedCount)
        for i in 0..<n {
            let f = raw + i * normalizedCount
            for c in 0..<normalizedCount { meanSquare[c] += f[c] * f[c] }
        }
        let scale = meanSquare.map { 1 / (1e-5 + $0 / Double(n)).squareRoot() }
        let time = timescales.map { tanh(t / $0 - 1) }
        s.iteration += 1
        return finish(raw, scale, time)
    }
}

/// The state of a learned optimizer whose network reads ``AdafactorFeatures`` (both models' optimizer states): the
/// iterate with its value and gradient, and the accumulators.
protocol AdafactorFeatureState {
    var point: [Double] { get }
    var iterate: [Double] { get set }
    var iterateValue: Double { get set }
    var iterateGradient: [Double] { get set }
    var features: AdafactorFeatures.State { get set }
}

extension AdafactorFeatureState {
    /// Makes the point this step's iterate x_k with f_k and g_k (the next step reads its secant pair from them).
    mutating func enterStep(value: Double, gradient g: [Double]) {
        iterate = point
        iterateValue = value
        iterateGradient = g
    }
}
