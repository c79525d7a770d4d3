import Foundation
import OptimusNumerics
import Testing
@testable import Objectives

// The ten held-out functions (`HeldOutFunction`) against their definitions: gradients against central finite
// differences, f at the minimizer, f ≥ f* on random points, hand-computed values, and the rewritten (cancellation-
// free) forms against the literal textbook formulas of Jamil & Yang 2013 and Moré, Garbow & Hillstrom 1981.

private let dimensions = [2, 5, 50]

/// A seed per (function, dimension, purpose), so every check is reproducible and independent of the others.
private func generator(_ f: HeldOutFunction, _ d: Int, _ purpose: UInt64) -> Xoshiro256StarStar {
    let index = UInt64(HeldOutFunction.allCases.firstIndex(of: f)!)
    return Xoshiro256StarStar(seed: 0x4E1D_0000 + purpose, stream: index << 32 | UInt64(d))
}

private func randomPoint(_ f: HeldOutFunction, _ d: Int, using g: inout Xoshiro256StarStar) -> [Double] {
    let r = f.domain(dimension: d)
    return g.uniform(r.lowerBound, r.upperBound, count: d)
}

private func value(_ f: HeldOutFunction, _ x: [Double]) -> Double {
    x.withUnsafeBufferPointer { f.evaluate($0, gradient: nil) }
}

private func valueAndGradient(_ f: HeldOutFunction, _ x: [Double]) -> (Double, [Double]) {
    var g = [Double](repeating: .nan, count: x.count)
    let v = x.withUnsafeBufferPointer { xs in g.withUnsafeMutableBufferPointer { f.evaluate(xs, gradient: $0) } }
    return (v, g)
}

// MARK: - Textbook forms

/// The literal published formula (value only) and Σ|summands|, the scale of its rounding error. Written
/// independently of `HeldOutFunction.evaluate` and in the papers' form, including where that form cancels.
private func textbook(_ f: HeldOutFunction, _ x: [Double]) -> (value: Double, scale: Double) {
    let d = x.count
    let n = Double(d)
    switch f {
    case .qing:
        let terms = (1...d).map { i in pow(x[i - 1] * x[i - 1] - Double(i), 2) }
        return (terms.reduce(0, +), terms.reduce(0) { $0 + abs($1) })
    case .salomon:
        let r = x.map { $0 * $0 }.reduce(0, +).squareRoot()
        return (1 - cos(2 * Double.pi * r) + 0.1 * r, 2 + 0.1 * r)
    case .exponential:
        let v = -exp(-0.5 * x.map { $0 * $0 }.reduce(0, +))
        return (v, abs(v))
    case .brown:
        var s = 0.0
        for i in 0..<(d - 1) {
            s += pow(x[i] * x[i], x[i + 1] * x[i + 1] + 1) + pow(x[i + 1] * x[i + 1], x[i] * x[i] + 1)
        }
        return (s, s)
    case .cosineMixture:
        let squares = x.map { $0 * $0 }.reduce(0, +)
        let cosines = x.map { cos(5 * Double.pi * $0) }.reduce(0, +)
        return (squares - 0.1 * cosines, squares + 0.1 * n)
    case .chungReynolds:
        let s = x.map { $0 * $0 }.reduce(0, +)
        return (s * s, s * s)
    case .quartic:
        let s = (1...d).map { i in Double(i) * pow(x[i - 1], 4) }.reduce(0, +)
        return (s, s)
    case .schafferF6:
        var s = 0.0
        for i in 0..<(d - 1) {
            let q = x[i] * x[i] + x[i + 1] * x[i + 1]
            s += 0.5 + (pow(sin(q.squareRoot()), 2) - 0.5) / pow(1 + 0.001 * q, 2)
        }
        return (s, n)  // each term adds and subtracts numbers of size 0.5
    case .broydenTridiagonal:
        var s = 0.0, scale = 0.0
        for i in 0..<d {
            let left = i > 0 ? x[i - 1] : 0, right = i < d - 1 ? x[i + 1] : 0
            let r = (3 - 2 * x[i]) * x[i] - left - 2 * right + 1
            let size = abs(3 * x[i]) + 2 * x[i] * x[i] + abs(left) + 2 * abs(right) + 1
            s += r * r
            scale += size * size
        }
        return (s, scale)
    case .trigonometric:
        let cosines = x.map(cos).reduce(0, +)
        var s = 0.0, scale = 0.0
        for i in 1...d {
            let r = n - cosines + Double(i) * (1 - cos(x[i - 1])) - sin(x[i - 1])
            let size = 2 * n + 2 * Double(i) + 1
            s += r * r
            scale += size * size
        }
        return (s, scale)
    }
}

@Suite struct HeldOutFunctionTests {
    @Test func theSetIsTenFunctionsDisjointFromTraining() {
        #expect(HeldOutFunction.allCases.count == 10)
        let training = Set(BenchmarkFunction.allCases.map(\.rawValue))
        for f in HeldOutFunction.allCases {
            #expect(!training.contains(f.rawValue), "\(f) is a training function")
            #expect(HeldOutFunction(name: f.rawValue) == f && HeldOutFunction(name: f.displayName) == f)
            #expect(HeldOutFunction(name: f.rawValue.replacingOccurrences(of: "_", with: "-")) == f)
            #expect(!f.isValid(dimension: 1) && f.isValid(dimension: 2))
        }
        #expect(HeldOutFunction(name: "rosenbrock") == nil)
    }

    /// Central differences D_k = (f(x + h e_k) − f(x − h e_k))/2h with h = 1e−5·max(1, |x_k|), at 10 seeded points
    /// of the domain per function and dimension.
    ///
    /// Tolerance, per coordinate: |D_k − g_k| ≤ 1e−6·|g_k| + T_k + R_k, where
    /// - T_k = |D_k(h) − D_k(2h)| bounds the truncation error of D_k(h) (the central difference's error is
    ///   c·h² + O(h⁴), so D(2h) − D(h) ≈ 3c·h², three times D(h)'s own error);
    /// - R_k = 16·ε·(Σ|summands| + 1)/h bounds the round-off: f(x ± h e_k) are sums whose rounding is a few
    ///   ε·Σ|summands| (Σ|summands| from the textbook form below), divided by 2h. Measured: the error stays below
    ///   1·ε·(Σ|summands| + 1)/h + T_k + 1e−6·|g_k| at every checked coordinate, so 16 is the margin.
    /// A wrong gradient component is off by about |g_k| (a sign, a factor, a missing term), far above these bounds
    /// except where g_k itself is at round-off level; the check reports the largest ratio error/tolerance (≤ 0.41
    /// here, Salomon) and the largest relative error (large only where g_k ≈ 0, e.g. Brown's flat region).
    @Test(arguments: HeldOutFunction.allCases)
    func gradientMatchesCentralDifferences(_ f: HeldOutFunction) {
        var worstRatio = 0.0
        var worstRelative = 0.0
        for d in dimensions {
            var g = generator(f, d, 1)
            for _ in 0..<10 {
                let x = randomPoint(f, d, using: &g)
                let (_, analytic) = valueAndGradient(f, x)
                let scale = textbook(f, x).scale
                var probe = x
                for k in 0..<d {
                    func central(_ h: Double) -> Double {
                        probe[k] = x[k] + h
                        let plus = value(f, probe)
                        probe[k] = x[k] - h
                        let minus = value(f, probe)
                        probe[k] = x[k]
                        return (plus - minus) / (2 * h)
                    }
                    let h = 1e-5 * max(1, abs(x[k]))
                    let dh = central(h), d2h = central(2 * h)
                    let truncation = abs(dh - d2h)
                    let rounding = 16 * Double.ulpOfOne * (scale + 1) / h
                    let error = abs(dh - analytic[k])
                    let tolerance = 1e-6 * abs(analytic[k]) + truncation + rounding
                    #expect(error <= tolerance,
                            "\(f) d=\(d) k=\(k): analytic \(analytic[k]), central \(dh), x_k = \(x[k]), tol \(tolerance)")
                    worstRatio = max(worstRatio, error / tolerance)
                    worstRelative = max(worstRelative, error / max(abs(analytic[k]), 1e-300))
                }
            }
        }
        print("[max error] \(f.rawValue) gradient: error/tolerance \(worstRatio), relative \(worstRelative)")
    }

    /// f(x*) = f*: to 1e−12 relative where f* ≠ 0, 1e−12 absolute where f* = 0; the gradient vanishes there too.
    @Test(arguments: HeldOutFunction.allCases)
    func minimizerAttainsFStar(_ f: HeldOutFunction) throws {
        for d in dimensions {
            guard let xStar = f.minimizer(dimension: d) else {
                #expect(f == .broydenTridiagonal)
                continue
            }
            #expect(xStar.count == d)
            let fStar = f.fStar(dimension: d)
            let (v, gradient) = valueAndGradient(f, xStar)
            if fStar == 0 {
                #expect(abs(v) <= 1e-12, "\(f) d=\(d): f(x*) = \(v)")
            } else {
                #expect(abs(v - fStar) <= 1e-12 * abs(fStar), "\(f) d=\(d): f(x*) = \(v), f* = \(fStar)")
            }
            // Qing's x* = √i is rounded: ∂f/∂x_i = 4x_i(x_i² − i) is then of order 4·√i·i·ε ≤ 5e−11 at d = 50.
            let worst = gradient.map(abs).max()!
            #expect(worst <= 1e-9, "\(f) d=\(d): ‖∇f(x*)‖∞ = \(worst)")
        }
    }

    /// Broyden tridiagonal has no closed-form minimizer; f* = 0 holds because r(x) = 0 has a root. Newton's method
    /// on the residuals (written here independently, with their tridiagonal Jacobian) from the MGH standard start
    /// (−1, …, −1) finds it, and the objective is ≈ 0 with a vanishing gradient there.
    @Test(arguments: dimensions)
    func broydenTridiagonalReachesFStarZero(_ d: Int) {
        var x = [Double](repeating: -1, count: d)
        func residuals(_ x: [Double]) -> [Double] {
            (0..<d).map { (i: Int) -> Double in
                let left: Double = i > 0 ? x[i - 1] : 0
                let right: Double = i < d - 1 ? x[i + 1] : 0
                return (3 - 2 * x[i]) * x[i] - left - 2 * right + 1
            }
        }
        for _ in 0..<30 {
            // Thomas algorithm for J·δ = r: sub-diagonal −1, diagonal 3 − 4x_i, super-diagonal −2.
            let r = residuals(x)
            var c = [Double](repeating: 0, count: d), rhs = r
            var diagonal = 3 - 4 * x[0]
            c[0] = -2 / diagonal
            rhs[0] /= diagonal
            for i in 1..<d {
                diagonal = (3 - 4 * x[i]) - (-1) * c[i - 1]
                c[i] = -2 / diagonal
                rhs[i] = (r[i] - (-1) * rhs[i - 1]) / diagonal
            }
            for i in stride(from: d - 2, through: 0, by: -1) { rhs[i] -= c[i] * rhs[i + 1] }
            for i in 0..<d { x[i] -= rhs[i] }
        }
        let (v, gradient) = valueAndGradient(.broydenTridiagonal, x)
        #expect(v <= 1e-24, "d=\(d): f = \(v) at the Newton root")
        #expect(gradient.map(abs).max()! <= 1e-11)
        #expect(HeldOutFunction.broydenTridiagonal.domain(dimension: d).contains(x.min()!))
        #expect(HeldOutFunction.broydenTridiagonal.domain(dimension: d).contains(x.max()!))
    }

    /// f ≥ f* at 1000 seeded random points of the domain (f* is the global minimum of every function).
    @Test(arguments: HeldOutFunction.allCases)
    func valuesAreNeverBelowFStar(_ f: HeldOutFunction) {
        for d in dimensions {
            var g = generator(f, d, 2)
            let fStar = f.fStar(dimension: d)
            var lowest = Double.infinity
            for _ in 0..<1000 {
                let v = value(f, randomPoint(f, d, using: &g))
                #expect(v >= fStar, "\(f) d=\(d): f = \(v) < f* = \(fStar)")
                lowest = min(lowest, v)
            }
            #expect(lowest > fStar, "\(f) d=\(d): a random point hit f* exactly")
        }
    }

    /// The value at one point per function, computed by hand from the published formula (the papers give values
    /// only at the minimum).
    @Test(arguments: dimensions)
    func handComputedValues(_ d: Int) {
        func point(_ head: [Double]) -> [Double] { head + [Double](repeating: 0, count: d - head.count) }
        let n = Double(d)
        let cases: [(HeldOutFunction, [Double], Double)] = [
            // Qing at 0: Σ (0 − i)² = Σ i² = d(d + 1)(2d + 1)/6 (5, 55, 42925).
            (.qing, point([]), n * (n + 1) * (2 * n + 1) / 6),
            // Salomon at (3, 4, 0, …): r = 5, 1 − cos(10π) + 0.1·5 = 0.5.
            (.salomon, point([3, 4]), 0.5),
            // Exponential at (1, 1, 0, …): −exp(−½·2) = −e⁻¹.
            (.exponential, point([1, 1]), -0.36787944117144233),
            // Brown at (1, 2, 0, …): pair (1, 2): 1^(4+1) + 4^(1+1) = 17; pair (2, 0): 4^(0+1) + 0^(4+1) = 4;
            // pairs (0, 0): 0 + 0.
            (.brown, point([1, 2]), d == 2 ? 17 : 21),
            // Cosine Mixture at (0.5, 1, 0, …): 0.25 + 1 − 0.1·(cos 2.5π + cos 5π) − 0.1·(d − 2)
            //   = 1.25 − 0.1·(0 − 1) − 0.1·(d − 2) = 1.35 − 0.1·(d − 2).
            (.cosineMixture, point([0.5, 1]), 1.35 - 0.1 * (n - 2)),
            // Chung–Reynolds at (1, 2, 0, …): (1 + 4)² = 25.
            (.chungReynolds, point([1, 2]), 25),
            // Quartic at (1, 2, 0, …): 1·1⁴ + 2·2⁴ = 33.
            (.quartic, point([1, 2]), 33),
            // Schaffer F6 at (3, 4, 3, 4, …): every pair has s = 9 + 16 = 25, r = 5, and the term
            // 0.5 + (sin²5 − 0.5)/(1 + 0.025)² = 0.8993201804052123 (see `handComputedValuesAtDimensionTwo`).
            (.schafferF6, (0..<d).map { $0 % 2 == 0 ? 3 : 4 }, (n - 1) * 0.8993201804052123),
            // Broyden tridiagonal at the MGH start (−1, …, −1): r₁ = 5·(−1) + 2 + 1 = −2, r_d = −5 + 1 + 1 = −3,
            // interior r_i = −5 + 1 + 2 + 1 = −1, so f = 4 + 9 + (d − 2) = d + 11.
            (.broydenTridiagonal, [Double](repeating: -1, count: d), n + 11),
            // Trigonometric at (π/2, …, π/2): cos = 0, sin = 1, so r_i = d − 0 + i·1 − 1 = d + i − 1 and
            // f = Σ_{i=1}^{d} (d + i − 1)² (13 at d = 2, 255 at d = 5).
            (.trigonometric, [Double](repeating: Double.pi / 2, count: d),
             (1...d).map { i in Double((d + i - 1) * (d + i - 1)) }.reduce(0, +)),
        ]
        for (f, x, expected) in cases {
            let v = value(f, x)
            #expect(abs(v - expected) <= 1e-12 * max(1, abs(expected)), "\(f) d=\(d): \(v), expected \(expected)")
        }
    }

    /// Values at d = 2 that need a sine or cosine, from the published formula by hand.
    @Test func handComputedValuesAtDimensionTwo() {
        // Schaffer F6 at (3, 4): s = 25, sin²(5) = 0.9195357645382262, (1 + 0.025)² = 1.050625:
        // 0.5 + (0.9195357645382262 − 0.5)/1.050625 = 0.5 + 0.3993201804052123 = 0.8993201804052123.
        #expect(abs(value(.schafferF6, [3, 4]) - 0.8993201804052123) <= 1e-15)
        // MGH trigonometric at the MGH standard start (½, ½): with c = cos ½ = 0.8775825618903728 and
        // s = sin ½ = 0.479425538604203, r₁ = 2 − 2c + (1 − c) − s = 3(1 − c) − s = −0.11217322427532124,
        // r₂ = 4(1 − c) − s = 0.010244213834306... and f = r₁² + r₂² = 0.012687776161404513.
        #expect(abs(value(.trigonometric, [0.5, 0.5]) - 0.012687776161404513) <= 1e-15)
        // Salomon at (0.25, 0): 1 − cos(π/2) + 0.025 = 1.025.
        #expect(abs(value(.salomon, [0.25, 0]) - 1.025) <= 1e-15)
        // Exponential at the box corner (1, 1) equals −e⁻¹ as above; at (−1, 1) too (even function).
        #expect(value(.exponential, [-1, 1]) == value(.exponential, [1, 1]))
    }

    /// The rewritten forms of `evaluate` equal the literal textbook formulas at 50 random domain points per function
    /// and dimension, within 1e−13 of the textbook form's own round-off scale Σ|summands| (which for Schaffer F6,
    /// Salomon and the trigonometric function is far above the value near the minimum).
    @Test(arguments: HeldOutFunction.allCases)
    func valuesMatchTheTextbookFormulas(_ f: HeldOutFunction) {
        var worst = 0.0
        for d in dimensions {
            var g = generator(f, d, 3)
            for _ in 0..<50 {
                let x = randomPoint(f, d, using: &g)
                let (reference, scale) = textbook(f, x)
                let v = value(f, x)
                let error = abs(v - reference) / max(scale, 1e-300)
                worst = max(worst, error)
                #expect(error <= 1e-13 * Double(d), "\(f) d=\(d): \(v) vs textbook \(reference)")
                // The value-only and value-with-gradient paths agree bit for bit.
                #expect(valueAndGradient(f, x).0 == v)
            }
        }
        print("[max error] \(f.rawValue) vs textbook: \(worst) of Σ|summands|")
    }

    @Test func objectiveShiftsByTheOffsetAndDrawsStartsInTheDomain() throws {
        var g = Xoshiro256StarStar(seed: 77)
        for f in HeldOutFunction.allCases {
            let d = 5
            let r = f.domain(dimension: d)
            let offset = g.uniform(-0.1, 0.1, count: d).map { $0 * (r.upperBound - r.lowerBound) }
            let shifted = try HeldOutObjective(f, dimension: d, offset: offset)
            let plain = try HeldOutObjective(f, dimension: d)
            let x = randomPoint(f, d, using: &g)
            let moved = zip(x, offset).map { $0 + $1 }
            let (v1, g1) = shifted.valueAndGradient(at: moved)
            let (v2, g2) = plain.valueAndGradient(at: zip(moved, offset).map { $0 - $1 })
            #expect(v1 == v2 && g1 == g2)
            #expect(shifted.fStar == f.fStar(dimension: d))
            if let m = shifted.minimizer {
                #expect(abs(shifted.value(at: m) - shifted.fStar) <= 1e-12 * max(1, abs(shifted.fStar)))
            }
            for _ in 0..<20 {
                let start = shifted.randomStart(using: &g)
                #expect(shifted.isInDomain(start) && start.count == d)
            }
            // The finite-difference Hessian–vector fallback is available (and finite) on every function.
            let hv = shifted.hessianVectorProduct(at: moved, direction: [1, 0, 0, 0, 1])
            #expect(hv.allSatisfy { $0.isFinite })
        }
        #expect(throws: HeldOutObjectiveError.invalidDimension(function: .qing, dimension: 1)) {
            try HeldOutObjective(.qing, dimension: 1)
        }
        #expect(throws: HeldOutObjectiveError.invalidOffset(.wrongLength(field: "offset", expected: 3, actual: 2))) {
            try HeldOutObjective(.brown, dimension: 3, offset: [0, 0])
        }
        #expect(throws: HeldOutObjectiveError.unknownFunction("sphere")) {
            try HeldOutObjective(name: "sphere", dimension: 3)
        }
        let byName = try HeldOutObjective(name: "Chung-Reynolds", dimension: 3)
        #expect(byName.function == .chungReynolds)
    }
}
