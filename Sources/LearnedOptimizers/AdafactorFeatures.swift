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
        updateInDouble(&s, parameters: p, gradient: g, decays: decays).map { Float($0) }
    }

    /// ``update(_:parameters:gradient:decays:)`` before the features are rounded to Float.
    static func updateInDouble(_ s: inout State, parameters p: [Double], gradient g: [Double], decays: Decays) -> [Double] {
        let n = p.count
        let t = Double(s.iteration)
        var raw = [Double](repeating: 0, count: n * normalizedCount)
        for i in 0..<n {
            let gi = g[i], g2 = gi * gi
            for k in 0..<3 {
                s.momentum[3 * i + k] = decays.momentum[k] * s.momentum[3 * i + k] + (1 - decays.momentum[k]) * gi
                s.adafactor[3 * i + k] = decays.adafactor[k] * s.adafactor[3 * i + k]
                    + (1 - decays.adafactor[k]) * (g2 + 1e-30)
            }
            s.rms[i] = decays.rms * s.rms[i] + (1 - decays.rms) * g2
            let r = s.rms[i]
            let invRMS = 1 / (r + 1e-6).squareRoot()
            var f = i * normalizedCount
            raw[f] = gi; f += 1
            raw[f] = p[i]; f += 1
            for k in 0..<3 { raw[f] = s.momentum[3 * i + k]; f += 1 }
            raw[f] = r; f += 1
            for k in 0..<3 { raw[f] = s.momentum[3 * i + k] * invRMS; f += 1 }
            raw[f] = invRMS; f += 1
            for k in 0..<3 { raw[f] = gi / max(s.adafactor[3 * i + k] + 1e-9, 1e-9).squareRoot(); f += 1 }
            for _ in 0..<2 { for k in 0..<3 { raw[f] = s.adafactor[3 * i + k]; f += 1 } }
            for _ in 0..<2 { for k in 0..<3 { raw[f] = 1 / (s.adafactor[3 * i + k] + 1e-8).squareRoot(); f += 1 } }
            for k in 0..<3 { raw[f] = s.momentum[3 * i + k] / (s.adafactor[3 * i + k] + 1e-6).squareRoot(); f += 1 }
        }
        // Second-moment normalization of each channel across the coordinates.
        var meanSquare = [Double](repeating: 0, count: normalizedCount)
        for i in 0..<n { for c in 0..<normalizedCount { meanSquare[c] += raw[i * normalizedCount + c] * raw[i * normalizedCount + c] } }
        let scale = meanSquare.map { 1 / (1e-5 + $0 / Double(n)).squareRoot() }
        let time = timescales.map { tanh(t / $0 - 1) }
        var features = [Double](repeating: 0, count: n * count)
        for i in 0..<n {
            for c in 0..<normalizedCount { features[i * count + c] = raw[i * normalizedCount + c] * scale[c] }
            for j in 0..<timeCount { features[i * count + normalizedCount + j] = time[j] }
        }
        s.iteration += 1
        return features
    }
}
