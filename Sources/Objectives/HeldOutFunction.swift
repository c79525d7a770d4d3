import OptimusNumerics


// Notation: x is 0-based in code, i = k + 1 is the 1-based index of the published formulas; d = x.count.
// Definitions, domains and minima: docs/test-functions.md, *Held-out functions*.

/// Ten standard d-dimensional test functions that are **not** in the training distribution: neither among the 15
/// paper functions of ``BenchmarkFunction`` nor Powell, and none of them a plain (rotated or axis-aligned)
/// conditioned quadratic. They measure how a learned optimizer generalizes to functions it has never seen.
///
/// Sources: Jamil & Yang, *A literature survey of benchmark functions for global optimization problems*,
/// Int. J. Math. Modelling and Numerical Optimisation 4(2), 2013 (J&Y below, with their function numbers), and
/// Moré, Garbow & Hillstrom, *Testing unconstrained optimization software*, ACM TOMS 7(1), 1981 (MGH, with their
/// problem numbers). Indices i are 1-based as in those papers.
///
/// | case | f(x) | domain | x* | f* |
/// |---|---|---|---|---|
/// | ``qing`` | Σ (xᵢ² − i)² | [−500, 500] | xᵢ = √i (any signs) | 0 |
/// | ``salomon`` | 1 − cos(2π‖x‖) + 0.1‖x‖ | [−100, 100] | 0 | 0 |
/// | ``exponential`` | −exp(−½ Σ xᵢ²) | [−1, 1] | 0 | −1 |
/// | ``brown`` | Σ_{i<d} (xᵢ²)^(xᵢ₊₁² + 1) + (xᵢ₊₁²)^(xᵢ² + 1) | [−1, 4] | 0 | 0 |
/// | ``cosineMixture`` | Σ xᵢ² − 0.1 Σ cos(5πxᵢ) | [−1, 1] | 0 | −0.1·d |
/// | ``chungReynolds`` | (Σ xᵢ²)² | [−100, 100] | 0 | 0 |
/// | ``quartic`` | Σ i·xᵢ⁴ (no noise) | [−1.28, 1.28] | 0 | 0 |
/// | ``schafferF6`` | Σ_{i<d} 0.5 + (sin²√(xᵢ² + xᵢ₊₁²) − 0.5)/(1 + 0.001(xᵢ² + xᵢ₊₁²))² | [−100, 100] | 0 | 0 |
/// | ``broydenTridiagonal`` | Σ [(3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1]², x₀ = x_{d+1} = 0 | [−2, 2] | numerical | 0 |
/// | ``trigonometric`` | Σ [d − Σⱼ cos xⱼ + i(1 − cos xᵢ) − sin xᵢ]² | [0, π] | 0 | 0 |
///
/// Every function is defined for d ≥ 2 and has an exact analytic gradient (``evaluate(_:gradient:)``). f* is the
/// global minimum over all of ℝᵈ for every function (not only on the box).
///
/// The raw value is the snake_case name used in files and on the command line (`cosine_mixture`);
/// ``init(name:)`` also accepts kebab-case and the display name.
public enum HeldOutFunction: String, CaseIterable, Codable, Sendable {
    /// Qing (J&Y F98; Qing 2006): f = Σ (xᵢ² − i)², separable and multimodal with 2ᵈ global minimizers
    /// xᵢ = ±√i, domain [−500, 500].
    case qing
    /// Salomon (J&Y F110; Salomon 1996): f = 1 − cos(2πr) + 0.1·r with r = ‖x‖₂: rotation-invariant rings of local
    /// minima around a cone point at 0; domain [−100, 100].
    case salomon
    /// Exponential (J&Y F54): f = −exp(−½ Σ xᵢ²), f* = −1 at 0 (listings that print f(x*) = 1 drop the sign; the
    /// formula gives −1); domain [−1, 1].
    case exponential
    /// Brown (J&Y F25; Begambre & Laier 2009): f = Σ_{i<d} (xᵢ²)^(xᵢ₊₁² + 1) + (xᵢ₊₁²)^(xᵢ² + 1), unimodal and
    /// non-separable, very flat near 0; domain [−1, 4].
    case brown
    /// Cosine Mixture (J&Y F38; Ali, Khompatraporn & Zabinsky 2005) in its minimization form
    /// f = Σ xᵢ² − 0.1 Σ cos(5πxᵢ), f* = −0.1·d at 0; domain [−1, 1]. Listings disagree on the signs: J&Y's
    /// f(x*) = 0.2, 0.4 at d = 2, 4 is the maximum of the maximization form 0.1 Σ cos(5πxᵢ) − Σ xᵢ² (Breiman &
    /// Cutler 1993), whose negative is used here.
    case cosineMixture = "cosine_mixture"
    /// Chung–Reynolds (J&Y F34; Chung & Reynolds 1998): f = (Σ xᵢ²)², convex and quartic (its Hessian vanishes at
    /// the minimizer); domain [−100, 100].
    case chungReynolds = "chung_reynolds"
    /// Quartic (J&Y F93, De Jong's F4) without its noise term: f = Σ i·xᵢ⁴; domain [−1.28, 1.28].
    case quartic
    /// Schaffer F6 (Schaffer, Caruana, Eshelman & Das 1989) generalized to d dimensions as a sum over consecutive
    /// pairs (the "expanded" Schaffer F6 of the CEC 2005 suite without its wrap-around pair (x_d, x₁)):
    /// f = Σ_{i<d} s(xᵢ, xᵢ₊₁), s(a, b) = 0.5 + (sin²√(a² + b²) − 0.5)/(1 + 0.001(a² + b²))²; domain [−100, 100].
    case schafferF6 = "schaffer_f6"
    /// Broyden tridiagonal (MGH problem 30, m = n) as a sum of squares: f = Σ rᵢ², rᵢ = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1
    /// with x₀ = x_{d+1} = 0. MGH give f* = 0 (the system r(x) = 0 has a root, from their standard start
    /// (−1, …, −1) Newton's method finds it) but no closed-form minimizer. MGH give no box; the domain used here,
    /// [−2, 2], contains the standard start and the root (whose coordinates lie in about [−0.71, −0.38]).
    case broydenTridiagonal = "broyden_tridiagonal"
    /// Trigonometric (MGH problem 26, m = n) as a sum of squares: f = Σ rᵢ²,
    /// rᵢ = d − Σⱼ cos xⱼ + i(1 − cos xᵢ) − sin xᵢ. MGH give f* = 0; it is attained at x = 0 (every rᵢ vanishes
    /// there), and other minimizers exist. MGH give only the standard start (1/d, …, 1/d); the domain [0, π] is the
    /// one J&Y give for their Trigonometric 1 (F152), a variant of this function. From generic starts gradient
    /// methods often stop in one of its many local minima.
    case trigonometric

    /// Looks a function up by canonical name, kebab-case name or display name (case-insensitive).
    public init?(name: String) {
        guard let f = Self.named(name, separators: ["-", " ", "–"]) else { return nil }
        self = f
    }

    /// Human-readable name, e.g. "Cosine Mixture".
    public var displayName: String {
        switch self {
        case .qing: "Qing"
        case .salomon: "Salomon"
        case .exponential: "Exponential"
        case .brown: "Brown"
        case .cosineMixture: "Cosine Mixture"
        case .chungReynolds: "Chung-Reynolds"
        case .quartic: "Quartic"
        case .schafferF6: "Schaffer F6"
        case .broydenTridiagonal: "Broyden Tridiagonal"
        case .trigonometric: "Trigonometric"
        }
    }

    /// Where the definition comes from (for listings and reports).
    public var source: String {
        switch self {
        case .qing: "Jamil & Yang 2013, F98"
        case .salomon: "Jamil & Yang 2013, F110"
        case .exponential: "Jamil & Yang 2013, F54"
        case .brown: "Jamil & Yang 2013, F25"
        case .cosineMixture: "Jamil & Yang 2013, F38 (minimization form, Ali et al. 2005)"
        case .chungReynolds: "Jamil & Yang 2013, F34"
        case .quartic: "Jamil & Yang 2013, F93 (without noise)"
        case .schafferF6: "Schaffer et al. 1989, F6; sum over consecutive pairs"
        case .broydenTridiagonal: "Moré, Garbow & Hillstrom 1981, problem 30"
        case .trigonometric: "Moré, Garbow & Hillstrom 1981, problem 26"
        }
    }

    /// The smallest valid dimension (2 for every function: Brown and Schaffer F6 sum over pairs).
    public var minimumDimension: Int { 2 }

    /// Whether `dimension` is a valid dimension (d ≥ 2).
    public func isValid(dimension: Int) -> Bool { dimension >= minimumDimension }

    /// The domain [lo, hi] applied to every coordinate (unshifted), used for random starts: the literature's box
    /// (J&Y), or for the MGH functions the box documented on the case.
    public func domain(dimension d: Int) -> ClosedRange<Double> {
        switch self {
        case .qing: -500...500
        case .salomon, .chungReynolds, .schafferF6: -100...100
        case .exponential, .cosineMixture: -1...1
        case .brown: -1...4
        case .quartic: -1.28...1.28
        case .broydenTridiagonal: -2...2
        case .trigonometric: 0...Double.pi
        }
    }

    /// The global minimum f*(d) over ℝᵈ: −1 for Exponential, −0.1·d for Cosine Mixture, 0 for the others (for
    /// Broyden tridiagonal and Trigonometric the optimum of the least-squares form, f = Σ rᵢ² = 0 at a root).
    public func fStar(dimension d: Int) -> Double {
        switch self {
        case .exponential: -1
        case .cosineMixture: -0.1 * Double(d)
        default: 0
        }
    }

    /// A global minimizer x*, or nil where none is known in closed form (Broyden tridiagonal: its root is found
    /// numerically). Qing's is the one with positive signs, xᵢ = √i (rounded, so f(x*) ≈ 1e−30 rather than 0).
    public func minimizer(dimension d: Int) -> [Double]? {
        switch self {
        case .qing: (1...d).map { Double($0).squareRoot() }
        case .broydenTridiagonal: nil
        default: [Double](repeating: 0, count: d)
        }
    }

    /// The global minimizer x* in words, for listings; ``minimizer(dimension:)`` gives it as numbers.
    public var minimizerDescription: String {
        switch self {
        case .qing: "xᵢ = ±√i"
        case .broydenTridiagonal: "root of r(x) = 0, numerical (≈ −0.57, −0.68, −0.70, … at d = 50)"
        default: "xᵢ = 0"
        }
    }

    /// f(x); when `gradient` is non-nil, also writes ∇f(x) into it (every element is overwritten).
    ///
    /// O(d) time, no allocation, Double throughout. Where the textbook form cancels near the minimum it is rewritten
    /// exactly (Salomon's 1 − cos(2πr) = 2 sin²(πr), Schaffer's 0.5 + (sin² − 0.5)/D² as a sum of non-negative
    /// terms, the trigonometric residual's d − Σ cos xⱼ = Σ 2 sin²(xⱼ/2)), so values near f* keep relative precision.
    /// `x.count` must be at least 2.
    public func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        let d = x.count
        switch self {
        case .qing:
            // ∂f/∂x_i = 4·x_i·(x_i² − i).
            var f = 0.0
            for k in 0..<d {
                let t = x[k] * x[k] - Double(k + 1)
                f += t * t
                gradient?[k] = 4 * x[k] * t
            }
            return f

        case .salomon:
            // r = ‖x‖; f = 2 sin²(πr) + 0.1 r (= 1 − cos 2πr + 0.1 r); ∇f = (2π sin(2πr) + 0.1)·x/r for r > 0.
            // At r = 0 (a cone point, like Ackley's) the gradient returned is 0, the minimal-norm subgradient.
            var s = 0.0
            for k in 0..<d { s += x[k] * x[k] }
            let r = s.squareRoot()
            let sp = sin(Double.pi * r)
            if let g = gradient {
                let scale = r > 0 ? (2 * Double.pi * sin(2 * Double.pi * r) + 0.1) / r : 0
                for k in 0..<d { g[k] = scale * x[k] }
            }
            return 2 * sp * sp + 0.1 * r

        case .exponential:
            // f = −e with e = exp(−½ Σ x²); ∂f/∂x_i = e·x_i.
            var s = 0.0
            for k in 0..<d { s += x[k] * x[k] }
            let e = exp(-0.5 * s)
            if let g = gradient { for k in 0..<d { g[k] = e * x[k] } }
            return -e

        case .brown:
            // Pair (a, b) = (x_i², x_{i+1}²): p = a^(b+1), q = b^(a+1).
            // ∂p/∂x_i = 2x_i·(b+1)·a^b, ∂p/∂x_{i+1} = 2x_{i+1}·p·ln a (→ 0 as a → 0, set to 0 at a = 0);
            // ∂q/∂x_{i+1} = 2x_{i+1}·(a+1)·b^a, ∂q/∂x_i = 2x_i·q·ln b (0 at b = 0).
            var f = 0.0
            if let g = gradient { for k in 0..<d { g[k] = 0 } }
            for k in 0..<(d - 1) {
                let u = x[k], v = x[k + 1]
                let a = u * u, b = v * v
                let p = pow(a, b + 1), q = pow(b, a + 1)
                f += p + q
                if let g = gradient {
                    let lnA = a > 0 ? log(a) : 0, lnB = b > 0 ? log(b) : 0
                    g[k] += 2 * u * ((b + 1) * pow(a, b) + q * lnB)
                    g[k + 1] += 2 * v * ((a + 1) * pow(b, a) + p * lnA)
                }
            }
            return f

        case .cosineMixture:
            // Summed per term x_i² − 0.1 cos(5πx_i); ∂f/∂x_i = 2x_i + 0.5π·sin(5πx_i).
            let w = 5 * Double.pi
            var f = 0.0
            for k in 0..<d {
                f += x[k] * x[k] - 0.1 * cos(w * x[k])
                gradient?[k] = 2 * x[k] + 0.1 * w * sin(w * x[k])
            }
            return f

        case .chungReynolds:
            // f = s², s = Σ x²; ∂f/∂x_i = 4·s·x_i.
            var s = 0.0
            for k in 0..<d { s += x[k] * x[k] }
            if let g = gradient { for k in 0..<d { g[k] = 4 * s * x[k] } }
            return s * s

        case .quartic:
            // ∂f/∂x_i = 4·i·x_i³.
            var f = 0.0
            for k in 0..<d {
                let i = Double(k + 1)
                let x2 = x[k] * x[k]
                f += i * x2 * x2
                gradient?[k] = 4 * i * x2 * x[k]
            }
            return f

        case .schafferF6:
            // Per pair, with s = a² + b², r = √s, D = 1 + 0.001 s:
            //   0.5 + (sin² r − 0.5)/D² = N/D²,  N = sin² r + 0.5(D² − 1) = sin² r + 0.001 s + 5e−7 s²
            // (no cancellation: the textbook form subtracts two numbers near 0.5 and loses everything below 1e−16).
            //   d/ds (N/D²) = (N′ − 0.002·N/D)/D²,  N′ = sin(2r)/(2r) + 0.001 + 1e−6 s  (sin(2r)/(2r) → 1 at r = 0);
            //   ∂/∂a = 2a·d/ds, ∂/∂b = 2b·d/ds.
            var f = 0.0
            if let g = gradient { for k in 0..<d { g[k] = 0 } }
            for k in 0..<(d - 1) {
                let a = x[k], b = x[k + 1]
                let s = a * a + b * b
                let r = s.squareRoot()
                let sr = sin(r)
                let denominator = 1 + 0.001 * s
                let numerator = sr * sr + 0.001 * s + 5e-7 * s * s
                f += numerator / (denominator * denominator)
                if let g = gradient {
                    let sinc = r > 0 ? sin(2 * r) / (2 * r) : 1
                    let dN = sinc + 0.001 + 1e-6 * s
                    let dS = (dN - 0.002 * numerator / denominator) / (denominator * denominator)
                    g[k] += 2 * a * dS
                    g[k + 1] += 2 * b * dS
                }
            }
            return f

        case .broydenTridiagonal:
            // r_i = (3 − 2x_i)x_i − x_{i−1} − 2x_{i+1} + 1 (x₀ = x_{d+1} = 0); ∂r_i/∂x_i = 3 − 4x_i,
            // ∂r_{i+1}/∂x_i = −1, ∂r_{i−1}/∂x_i = −2, so ∂f/∂x_i = 2r_i(3 − 4x_i) − 2r_{i+1} − 4r_{i−1}
            // (r₀ = r_{d+1} = 0). One pass keeping the residuals r_{i−1} and r_i.
            func residual(_ k: Int) -> Double {
                let left = k > 0 ? x[k - 1] : 0, right = k < d - 1 ? x[k + 1] : 0
                return (3 - 2 * x[k]) * x[k] - left - 2 * right + 1
            }
            var f = 0.0
            var previous = 0.0  // r_{k−1}
            var current = residual(0)
            for k in 0..<d {
                let next = k < d - 1 ? residual(k + 1) : 0
                f += current * current
                gradient?[k] = 2 * current * (3 - 4 * x[k]) - 2 * next - 4 * previous
                previous = current
                current = next
            }
            return f

        case .trigonometric:
            // r_i = C + i·h_i − sin x_i with h_j = 1 − cos x_j = 2 sin²(x_j/2) and C = Σ h_j (= d − Σ cos x_j).
            // ∂r_i/∂x_j = sin x_j + δ_ij·(i·sin x_i − cos x_i), so with R = Σ r_i:
            //   ∂f/∂x_j = 2 sin x_j·R + 2 r_j·(j·sin x_j − cos x_j).
            // Two passes: C first, then the residuals (the gradient needs R, so a third pass writes it).
            var c = 0.0
            for k in 0..<d {
                let h = sin(0.5 * x[k])
                c += 2 * h * h
            }
            var f = 0.0, sumR = 0.0
            for k in 0..<d {
                let hs = sin(0.5 * x[k])
                let r = c + Double(k + 1) * 2 * hs * hs - sin(x[k])
                f += r * r
                sumR += r
                if let g = gradient { g[k] = r }  // r_k, replaced below
            }
            if let g = gradient {
                for k in 0..<d {
                    let sk = sin(x[k]), ck = cos(x[k])
                    g[k] = 2 * sk * sumR + 2 * g[k] * (Double(k + 1) * sk - ck)
                }
            }
            return f
        }
    }
}
