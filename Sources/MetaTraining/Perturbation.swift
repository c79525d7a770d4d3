import Foundation
import OptimusNumerics

/// How the perturbations ε ~ N(0, σ²I) of the ES estimators are drawn (`"pes": {"perturbation": …}` in the training
/// configuration). Both draw from the same per-(seed, truncation, particle) stream; they give different numbers.
public enum PerturbationGenerator: String, Codable, CaseIterable, Equatable, Sendable {
    /// Box–Muller, one normal per two uniforms (the cosine branch of ``OptimusNumerics/Xoshiro256StarStar``'s
    /// `normal()`): the generator of every run made before the choice existed, and the default. A `log` and a `cos`
    /// per meta-parameter: at the Optimus paper preset (≈ 650k meta-parameters) it was more than half of the CPU time
    /// of PES.
    case boxMuller = "box-muller"
    /// The ziggurat method (Marsaglia & Tsang 2000, 256 layers): one 64-bit draw per normal in about 99% of cases
    /// (8 bits pick the layer, 1 the sign, 53 the position), a `log` or `exp` only in the rest. About 10× faster
    /// than Box–Muller; exact in distribution. Opt-in: it changes the perturbations, hence the trajectory of θ.
    case ziggurat
}

/// How the antithetic ES estimators (PES, truncated ES) weigh the inner steps of a trajectory in the meta-loss.
///
/// The meta-loss of a trajectory of T steps is Σ_t w_t·ℓ_t / T with ℓ_t the normalized loss at step t
/// (``MetaLossNormalizer``); the weights have mean 1 over the trajectory, so a run's reported losses stay in decades.
public enum LossWeighting: String, Codable, CaseIterable, Equatable, Sendable {
    /// w_t = 1: the mean loss over the trajectory (learned_optimization's meta-loss, and every run made before the
    /// choice existed). It rewards early progress as much as the value reached at the end.
    case uniform
    /// w_t = 2(t + 1)/(T + 1), t = 0…T−1: the last step weighs about twice the mean and the first almost nothing, for
    /// tasks where what counts is the value at the end of a fixed budget (a reconstruction window's best loss after
    /// its 50 evaluations), not the area under the curve. t counts steps as the truncation schedule does: a
    /// particle's first trajectory begins at its stagger offset.
    case linear

    /// The weight of step `t` (0-based) of a trajectory of `length` steps.
    @inlinable public func weight(step t: Int, length: Int) -> Double {
        switch self {
        case .uniform: return 1
        case .linear: return 2 * Double(t + 1) / Double(max(length, 1) + 1)
        }
    }
}

/// The 256-layer ziggurat for the standard normal (Marsaglia & Tsang 2000, with the layer index and the position
/// taken from disjoint bits of one draw, as Doornik 2005 advises).
///
/// Layer 0 is the base strip of area v (the rectangle [0, R] × [0, f(R)] and the tail beyond R, as a virtual
/// rectangle of width v/f(R)); layer i ≥ 1 is the rectangle [0, x_i] × [f(x_i), f(x_{i+1})], x_256 = 0, every layer
/// of area v. A point drawn uniformly in a layer at |x| < x_{i+1} lies under the density and is accepted at once;
/// otherwise the wedge (or, in layer 0, the tail by Marsaglia's 1964 method) decides.
enum Ziggurat {
    /// R, the start of the tail.
    static let r = 3.6541528853610088
    /// v, the area of each layer.
    static let v = 0.004928673233990491

    /// x_0 … x_256 and f(x_i) = exp(−x_i²/2).
    static let tables: (x: [Double], f: [Double]) = {
        var x = [Double](repeating: 0, count: 257)
        x[0] = v / exp(-0.5 * r * r)
        x[1] = r
        for i in 2..<256 { x[i] = (-2 * log(v / x[i - 1] + exp(-0.5 * x[i - 1] * x[i - 1]))).squareRoot() }
        x[256] = 0
        return (x, x.map { exp(-0.5 * $0 * $0) })
    }()

    /// `count` standard normal draws (times `scale`) into `out`, from `generator`.
    static func fill(_ out: UnsafeMutablePointer<Double>, count: Int, scale: Double,
                     generator: inout Xoshiro256StarStar) {
        let (xs, fs) = tables
        xs.withUnsafeBufferPointer { xb in
            fs.withUnsafeBufferPointer { fb in
                let x = xb.baseAddress!, f = fb.baseAddress!
                var g = generator
                for j in 0..<count {
                    // The fast path, kept free of calls so the generator's state stays in registers.
                    let bits = g.next()
                    let i = Int(truncatingIfNeeded: bits & 0xFF)
                    let z = Double(bits >> 11) * 0x1.0p-53 * x[i]
                    let sign: Double = bits & 0x100 != 0 ? -1 : 1
                    out[j] = scale * (z < x[i + 1] ? sign * z : rejected(&g, layer: i, z: z, sign: sign, x: x, f: f))
                }
                generator = g
            }
        }
    }

    /// The draws not accepted at once: the tail of layer 0, or the wedge test of layer i, then new draws until one is
    /// accepted.
    @inline(never)
    static func rejected(_ g: inout Xoshiro256StarStar, layer: Int, z: Double, sign: Double,
                         x: UnsafePointer<Double>, f: UnsafePointer<Double>) -> Double {
        var i = layer, z = z, sign = sign
        while true {
            if i == 0 {
                var a = 0.0, b = 0.0
                repeat {
                    a = -log(1 - g.nextUnit()) / r
                    b = -log(1 - g.nextUnit())
                } while b + b < a * a
                return sign * (r + a)
            }
            if f[i] + g.nextUnit() * (f[i + 1] - f[i]) < exp(-0.5 * z * z) { return sign * z }
            let bits = g.next()
            i = Int(truncatingIfNeeded: bits & 0xFF)
            z = Double(bits >> 11) * 0x1.0p-53 * x[i]
            sign = bits & 0x100 != 0 ? -1 : 1
            if z < x[i + 1] { return sign * z }
        }
    }
}

/// The stream of particle `index`'s perturbation for truncation number `truncation`.
func perturbationStream(_ c: PESConfiguration, truncation: Int, index: Int) -> Xoshiro256StarStar {
    Xoshiro256StarStar(seed: c.seed ^ 0x5EED_0F_E951_0000, stream: UInt64(truncation) &* 65_536 &+ UInt64(index))
}

/// Particle `index`'s perturbation ε ~ N(0, σ²I) for truncation number `truncation`, from its own stream
/// (``perturbationStream(_:truncation:index:)``) with the configuration's generator, and the antithetic
/// meta-parameters θ ± ε (rounded to Float, as the learned optimizers take them).
///
/// With ``PerturbationGenerator/boxMuller`` every value is bit for bit what the former
/// `(0..<P).map { _ in σ·generator.normal() }` gave (the same uniforms, the same `log`, `cos` and operations, in one
/// pass without intermediate arrays); `PerturbationTests` checks it against that code.
func antitheticPerturbation(_ c: PESConfiguration, theta: [Float], truncation: Int, index: Int)
    -> (epsilon: [Double], plus: [Float], minus: [Float])
{
    var eg = perturbationStream(c, truncation: truncation, index: index)
    let sigma = c.sigma
    let n = theta.count
    guard n > 0 else { return ([], [], []) }
    var epsilon = [Double](unsafeUninitializedCapacity: n) { _, count in count = n }
    var plus = [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
    var minus = [Float](unsafeUninitializedCapacity: n) { _, count in count = n }
    theta.withUnsafeBufferPointer { tb in
        epsilon.withUnsafeMutableBufferPointer { eb in
            plus.withUnsafeMutableBufferPointer { pb in
                minus.withUnsafeMutableBufferPointer { mb in
                    let t = tb.baseAddress, e = eb.baseAddress!, p = pb.baseAddress, m = mb.baseAddress
                    switch c.perturbation {
                    case .boxMuller:
                        var g = eg
                        for j in 0..<n {
                            // RandomNumberGenerator.normal(), spelled out: the same draws and operations.
                            var u1 = g.nextUnit()
                            while u1 == 0 { u1 = g.nextUnit() }
                            let u2 = g.nextUnit()
                            e[j] = sigma * ((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
                        }
                        eg = g
                    case .ziggurat:
                        Ziggurat.fill(e, count: n, scale: sigma, generator: &eg)
                    }
                    guard let t, let p, let m else { return }
                    for j in 0..<n {
                        let theta = Double(t[j]), epsilon = e[j]
                        p[j] = Float(theta + epsilon)
                        m[j] = Float(theta - epsilon)
                    }
                }
            }
        }
    }
    return (epsilon, plus, minus)
}
