/// The few statistics the project needs: means, medians, quantiles, spread, and grids.
public enum Statistics {
    /// Arithmetic mean; NaN for an empty sample. Summed in index order (deterministic).
    public static func mean(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return .nan }
        var s = 0.0
        for v in x { s += v }
        return s / Double(x.count)
    }

    /// Sample variance with Bessel's correction (n − 1); NaN for fewer than two values. Two-pass algorithm.
    public static func variance(_ x: [Double]) -> Double {
        guard x.count > 1 else { return .nan }
        let m = mean(x)
        var s = 0.0
        for v in x { s += (v - m) * (v - m) }
        return s / Double(x.count - 1)
    }

    /// Sample standard deviation √variance.
    public static func standardDeviation(_ x: [Double]) -> Double { variance(x).squareRoot() }

    /// The q-quantile, 0 ≤ q ≤ 1, by linear interpolation between order statistics (NumPy's default "linear",
    /// Hyndman–Fan type 7). NaN for an empty sample; NaN values sort last.
    public static func quantile(_ x: [Double], _ q: Double) -> Double {
        precondition((0...1).contains(q), "quantile: q = \(q) is outside [0, 1]")
        guard !x.isEmpty else { return .nan }
        let s = x.sorted { a, b in a.isNaN ? false : (b.isNaN ? true : a < b) }
        let h = Double(s.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, s.count - 1)
        let w = h - Double(lo)
        return w == 0 ? s[lo] : s[lo] + w * (s[hi] - s[lo])
    }

    /// The median (the 0.5-quantile).
    public static func median(_ x: [Double]) -> Double { quantile(x, 0.5) }

    /// `count` points from `start` to `end` inclusive, evenly spaced.
    public static func linspace(_ start: Double, _ end: Double, count: Int) -> [Double] {
        precondition(count >= 1, "linspace: count must be at least 1")
        if count == 1 { return [start] }
        let step = (end - start) / Double(count - 1)
        return (0..<count).map { i in i == count - 1 ? end : start + Double(i) * step }
    }

    /// `count` points from 10^startExponent to 10^endExponent inclusive, log-spaced (NumPy's `logspace`).
    public static func logspace(_ startExponent: Double, _ endExponent: Double, count: Int) -> [Double] {
        linspace(startExponent, endExponent, count: count).map { pow10($0) }
    }

    private static func pow10(_ e: Double) -> Double { _exp10(e) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@usableFromInline func _exp10(_ e: Double) -> Double { pow(10.0, e) }
