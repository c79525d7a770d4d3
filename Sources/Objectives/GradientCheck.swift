/// Central finite differences with one Richardson extrapolation step, to check analytic gradients.
///
/// For coordinate k with step h = `relativeStep`·max(1, |x_k|):
///
///     D(h) = (f(x + h e_k) − f(x − h e_k)) / 2h
///     g_k ≈ (4·D(h/2) − D(h)) / 3          (error O(h⁴))
///
/// This is the check behind the `fd_check` entries of the benchmark reference file (h = 1e−5·max(1, |x_k|);
/// `docs/reference-data.md`, *Gradient check*).
public enum GradientCheck {
    /// The finite-difference gradient of `objective` at `x` for the given coordinates (all by default).
    /// Entries of coordinates not listed are 0. Costs 4 evaluations per coordinate.
    public static func finiteDifferenceGradient(
        of objective: some Objective, at x: [Double], coordinates: [Int]? = nil, relativeStep: Double = 1e-5
    ) -> [Double] {
        var g = [Double](repeating: 0, count: x.count)
        var probe = x
        for k in coordinates ?? Array(x.indices) {
            let h = relativeStep * max(1, abs(x[k]))
            func central(_ step: Double) -> Double {
                probe[k] = x[k] + step
                let fp = objective.value(at: probe)
                probe[k] = x[k] - step
                let fm = objective.value(at: probe)
                probe[k] = x[k]
                return (fp - fm) / (2 * step)
            }
            let dh = central(h)
            let dh2 = central(h / 2)
            g[k] = (4 * dh2 - dh) / 3
        }
        return g
    }

    /// The result of comparing an analytic gradient with finite differences.
    public struct Report: Sendable, Equatable {
        /// max over checked k of |g_k − g_FD,k| / max(1, max_k |g_k|): the scale-aware error of the reference file.
        public var scaledError: Double
        /// The coordinate with the largest absolute difference.
        public var worstCoordinate: Int
        /// The analytic gradient.
        public var analytic: [Double]
        /// The finite-difference gradient (0 at unchecked coordinates).
        public var finiteDifference: [Double]
    }

    /// Compares `objective`'s gradient at `x` with finite differences.
    public static func check(
        _ objective: some Objective, at x: [Double], coordinates: [Int]? = nil, relativeStep: Double = 1e-5
    ) -> Report {
        let analytic = objective.gradient(at: x)
        let fd = finiteDifferenceGradient(of: objective, at: x, coordinates: coordinates, relativeStep: relativeStep)
        let ks = coordinates ?? Array(x.indices)
        let scale = max(1, analytic.map(abs).max() ?? 0)
        var worst = 0.0
        var worstK = ks.first ?? 0
        for k in ks {
            let e = abs(analytic[k] - fd[k])
            if !(e <= worst) { worst = e; worstK = k }
        }
        return Report(scaledError: worst / scale, worstCoordinate: worstK, analytic: analytic, finiteDifference: fd)
    }
}
