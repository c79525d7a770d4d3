import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The minimum of the Michalewicz function (m = 10) on the box [0, π]ᵈ, for any d.
///
/// The function is separable, f(x) = Σᵢ hᵢ(xᵢ) with hᵢ(t) = −sin t·sin²⁰(i t²/π), so f*(d) = Σ_{i≤d} min hᵢ.
/// Each 1-D minimum is found without a dense grid: sin²⁰(u) is sharply peaked at u = π/2 + kπ, so every local
/// minimum of hᵢ lies in one of the i "lobes" between consecutive zeros of sin(i t²/π), t = π√(k/i), k = 0…i. Each
/// lobe's value at its peak screens the candidates, and every lobe within 0.02 of the best is minimized by golden
/// section to full precision. Refining several lobes matters: for i ≳ 40 neighbouring lobes differ by less than
/// 1e−4 (`shared/specs/test-functions.md` §2.3). Results agree with the certified minima of Vanaret et al. (2020)
/// and the reference f*(1000) = −999.6161052093414.
///
/// Off the box the infimum is lower (it tends to −d), so an unconstrained optimizer can end below this f*.
///
/// Per-coordinate minima are computed once and cached (thread-safe): f*(1000) costs about 5·10⁵ evaluations of hᵢ.
public enum Michalewicz {
    /// f*(d) on [0, π]ᵈ.
    public static func minimum(dimension d: Int) -> Double {
        let table = coordinates(upTo: d)
        var sum = 0.0
        for k in 0..<d { sum += table[k].value }
        return sum
    }

    /// The per-coordinate argmin on [0, π] for coordinates 1…d.
    public static func minimizer(dimension d: Int) -> [Double] {
        Array(coordinates(upTo: d)[0..<d].map(\.argmin))
    }

    /// min hᵢ and its argmin for 1-based coordinate i.
    public static func coordinateMinimum(_ i: Int) -> (argmin: Double, value: Double) {
        coordinates(upTo: i)[i - 1]
    }

    private static let cache = Mutex<[(argmin: Double, value: Double)]>([])

    private static func coordinates(upTo d: Int) -> [(argmin: Double, value: Double)] {
        cache.withLock { table in
            while table.count < d { table.append(solve(table.count + 1)) }
            return table
        }
    }

    @inline(__always)
    static func h(_ t: Double, _ i: Double) -> Double {
        let s = sin(i * t * t / Double.pi)
        let s2 = s * s, s4 = s2 * s2, s8 = s4 * s4, s16 = s8 * s8
        return -sin(t) * s16 * s4
    }

    /// Minimizes hᵢ on [0, π].
    static func solve(_ index: Int) -> (argmin: Double, value: Double) {
        let i = Double(index)
        let pi = Double.pi
        // Lobe k spans t ∈ [π√(k/i), π√((k+1)/i)] ∩ [0, π]; its peak is at u = π/2 + kπ.
        var screen: [(k: Int, value: Double)] = []
        screen.reserveCapacity(index)
        for k in 0..<index {
            let peak = pi * ((Double(k) + 0.5) / i).squareRoot()
            if peak <= pi { screen.append((k, h(peak, i))) }
        }
        let bestScreen = screen.map(\.value).min() ?? 0
        var best = (argmin: pi / 2, value: 0.0)
        for (k, v) in screen where v <= bestScreen + 0.02 {
            let lo = pi * (Double(k) / i).squareRoot()
            let hi = min(pi, pi * ((Double(k) + 1) / i).squareRoot())
            let m = goldenSection(lo, hi) { h($0, i) }
            if m.value < best.value { best = m }
        }
        return best
    }

    /// Golden-section search for the minimum of a unimodal f on [a, b], to the resolution of Double.
    static func goldenSection(_ a0: Double, _ b0: Double, _ f: (Double) -> Double) -> (argmin: Double, value: Double) {
        let r = (5.0.squareRoot() - 1) / 2
        var a = a0, b = b0
        var c = b - r * (b - a), d = a + r * (b - a)
        var fc = f(c), fd = f(d)
        for _ in 0..<200 {
            if b - a <= 4 * Double.ulpOfOne * max(1, abs(a)) { break }
            if fc < fd {
                b = d; d = c; fd = fc
                c = b - r * (b - a); fc = f(c)
            } else {
                a = c; c = d; fc = fd
                d = a + r * (b - a); fd = f(d)
            }
        }
        return fc < fd ? (c, fc) : (d, fd)
    }
}
