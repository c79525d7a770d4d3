import OptimusNumerics

/// The unit a learned optimizer's step is measured in.
///
/// The network of Adafactor-MLP and Optimus sees features that are divided, channel by channel, by their root mean
/// square over the coordinates (``AdafactorFeatures``): they carry no absolute scale. With ``absolute`` steps (the
/// papers' choice) the step's length is therefore learned in absolute units of x, and no θ can serve a problem whose
/// domain is ±1 and one whose domain is ±10⁶ (Trid at d = 1000): 100 steps of the trained length never cross the
/// second. ``secant`` measures the step in a unit the optimizer reads from its own trajectory, which makes the whole
/// optimizer equivariant to rescaling x (x → a·x moves every iterate by the factor a) and invariant to rescaling f.
public enum StepScale: String, Codable, Sendable, CaseIterable {
    /// Δx is the network's output in units of x (the papers).
    case absolute
    /// The network's output gives the direction and a length multiplier; the length itself comes from the last secant
    /// pair, |Δx|·|g_k|/|Δg| (a Newton step on a quadratic whose curvature along the last step is |Δg|/|Δx|), at most
    /// 10·|Δx|; the first step's length is 1 % of |x₀| (``SecantStepScale``).
    case secant

    /// Names for error messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The step of ``StepScale/secant``: the network's step r (for Optimus B·s, for Adafactor-MLP its Δ) gives the
/// direction, a secant pair of the trajectory gives the length, and the network's mean magnitude output ā scales it:
///
///     Δx_k = L_k · exp(λ·ā) · r / |r|
///
///     L_0 = 0.01·|x_0|                                   (0.01·√N when x_0 = 0)
///     L_k = min(|Δx|·|g_k| / |Δg|, 10·|Δx|),  Δx = x_k − x_{k−1},  Δg = g_k − g_{k−1}
///
/// with λ the model's multiplier of its magnitude output (λb for Optimus, expMult for Adafactor-MLP). L_k is the
/// length of a Newton step on a quadratic whose curvature along the last step is |Δg|/|Δx| (the geometric mean of the
/// two Barzilai–Borwein lengths, positive also where the curvature is negative); on an isotropic quadratic it is the
/// distance to the minimum. L_k = 2·|Δx| when Δg = 0; L_0's rule when Δx = 0 or anything is not finite; L_k = 0 at a
/// stationary point. The cap of 10·|Δx| bounds growth on flat stretches where Δg vanishes. Everything comes from what
/// every learned optimizer's state already holds (the previous iterate and gradient), so no state is added and a
/// run's state format does not change.
public enum SecantStepScale {
    /// Fraction of |x₀| the first nominal step moves.
    public static let firstStepFraction = 0.01
    /// Largest growth of the nominal step length over the last step's length.
    public static let maximumGrowth = 10.0

    /// L_k. `previousPoint` and `previousGradient` are empty at the first step.
    public static func length(point x: [Double], gradient g: [Double], previousPoint xp: [Double],
                              previousGradient gp: [Double]) -> Double {
        let n = x.count
        func first() -> Double {
            let length = norm(x)
            return length > 0 && length.isFinite ? firstStepFraction * length
                : firstStepFraction * Double(max(n, 1)).squareRoot()
        }
        guard xp.count == n, gp.count == n, n > 0 else { return first() }
        var dx2 = 0.0, dg2 = 0.0, g2 = 0.0
        for i in 0..<n {
            let a = x[i] - xp[i], b = g[i] - gp[i]
            dx2 += a * a
            dg2 += b * b
            g2 += g[i] * g[i]
        }
        let dx = dx2.squareRoot(), dg = dg2.squareRoot(), gn = g2.squareRoot()
        guard dx > 0, dx.isFinite, dg.isFinite, gn.isFinite else { return first() }
        let length = dg > 0 ? min(dx * gn / dg, maximumGrowth * dx) : 2 * dx
        return length.isFinite ? length : first()  // 0 at a stationary point: no step
    }

    /// The factor that turns the network's step r into Δx: L·exp(λ·ā)/|r| (0 when r = 0 or the factor is not finite).
    public static func factor(length: Double, meanMagnitude: Double, multiplier: Double, step r: [Double]) -> Double {
        let rn = norm(r)
        guard rn > 0, rn.isFinite else { return 0 }
        let f = length * exp(multiplier * meanMagnitude) / rn
        return f.isFinite ? f : 0
    }

    static func norm(_ v: [Double]) -> Double {
        var s = 0.0
        for e in v { s += e * e }
        return s.squareRoot()
    }
}
