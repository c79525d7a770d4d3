import Foundation

/// The meta-loss normalizer: makes per-step losses of functions with wildly different scales comparable.
///
///     ℓ_t = clip( log₁₀( (max(f(x_t) − f*, 0) + ε) / (f(x₀) − f* + ε) ),  [−12, 2] ),   ε = 1e−12·(f(x₀) − f*) + 1e−300
///
/// i.e. decades of progress relative to the start: 0 at the start, −1 per decade gained, at most +2 (a run that
/// made things 100× worse, or NaN/∞, gets the clip value 2). Michalewicz and Schwefel can go below their on-box f*
/// off the box; max(·, 0) counts that as reaching f*. Scale-free, so Trid (f ~ 1e8) and Ackley (f ~ 20) weigh the
/// same; clipped, so one diverging task cannot dominate the PES estimate.
public struct MetaLossNormalizer: Codable, Equatable, Sendable {
    public var lowerClip: Double = -12
    public var upperClip: Double = 2
    public init() {}

    public func loss(value f: Double, start f0: Double, fStar: Double) -> Double {
        guard f.isFinite else { return upperClip }
        let initial = max(f0 - fStar, 0)
        let eps = 1e-12 * initial + 1e-300
        let r = log10((max(f - fStar, 0) + eps) / (initial + eps))
        return min(max(r, lowerClip), upperClip)
    }

    /// ``loss(value:start:fStar:)`` and its derivative in f: 1/((f − f* + ε)·ln 10) inside the clip range and
    /// above f*, 0 where the loss is clipped, f < f* or f is not finite.
    public func lossAndDerivative(value f: Double, start f0: Double, fStar: Double) -> (loss: Double, derivative: Double) {
        guard f.isFinite else { return (upperClip, 0) }
        let initial = max(f0 - fStar, 0)
        let eps = 1e-12 * initial + 1e-300
        let gap = f - fStar
        let r = log10((max(gap, 0) + eps) / (initial + eps))
        guard r > lowerClip, r < upperClip, gap > 0 else { return (min(max(r, lowerClip), upperClip), 0) }
        return (r, 1 / ((gap + eps) * 2.302_585_092_994_046))
    }
}
