import OptimusNumerics

// Notation as in BenchmarkFunction+Formulas.swift: x is 0-based, i = k + 1 is the 1-based SFU index, d = x.count.

extension BenchmarkFunction {
    /// Ackley's radial part g_k = A(r)·x_k with A = a·b·e1/(n·r): ∂/∂x_j = A·δ_jk + x_k·A′(r)·x_j/(n·r),
    /// A′(r) = −a·b·e1·(b·r + 1)/(n·r²). Returns A and A′(r)/(n·r), both 0 at the cone point r = 0 (n = d; the
    /// other terms from ``ackleyTerms(_:)``).
    static func ackleyRadialCurvature(a: Double, b: Double, r: Double, e1: Double, n: Double)
        -> (radial: Double, radialOuter: Double)
    {
        (r > 0 ? a * b * e1 / (n * r) : 0, r > 0 ? -a * b * e1 * (b * r + 1) / (n * r * r) / (n * r) : 0)
    }

    /// The Hessian ∇²f(x) as a dense, symmetric d×d matrix.
    ///
    /// Analytic second derivatives of the formulas in ``evaluate(_:gradient:)``, for Newton directions and curvature
    /// diagnostics (the report's step-direction analysis). Dense storage, O(d²) memory and time: meant for d up to a
    /// few thousand. Where f is not twice differentiable the value follows the one-sided limit used by the gradient:
    /// Ackley at its cone point r = 0 drops the unbounded radial term; Schwefel at xᵢ = 0, where the second derivative
    /// is unbounded, gives +∞ on that diagonal element; Sum of Different Powers at xᵢ = 0 gives the limit (2 for
    /// i = 1, else 0).
    public func hessian(_ x: [Double]) -> Matrix<Double> {
        let d = x.count
        let n = Double(d)
        var h = Matrix<Double>(rows: d, columns: d)
        switch self {
        case .ackley:
            let (a, b, c, r, e1, e2, _) = x.withUnsafeBufferPointer(Self.ackleyTerms)
            let (radial, radialOuter) = Self.ackleyRadialCurvature(a: a, b: b, r: r, e1: e1, n: n)
            for j in 0..<d {
                let sj = sin(c * x[j])
                for k in 0..<d {
                    var v = radialOuter * x[j] * x[k] - e2 * c * c * sj * sin(c * x[k]) / (n * n)
                    if j == k { v += radial + e2 * c * c * cos(c * x[k]) / n }
                    h[j, k] = v
                }
            }

        case .griewank:
            // f = Σx²/4000 − P + 1 with P = Π cos(u_k), u_k = x_k/√i. H_kk = 1/2000 + P/i;
            // H_jk = −(Π_{l≠j,k} cos u_l)·sin u_j·sin u_k/√(i_j·i_k). The products leave out cosines by prefix/suffix
            // products (no division by a cosine that may be zero).
            let roots = (0..<d).map { Double($0 + 1).squareRoot() }
            let cosines = (0..<d).map { cos(x[$0] / roots[$0]) }
            let sines = (0..<d).map { sin(x[$0] / roots[$0]) }
            let product = cosines.reduce(1, *)
            var prefix = [Double](repeating: 1, count: d + 1)
            var suffix = [Double](repeating: 1, count: d + 1)
            for j in 0..<d {
                // Products of the cosines without cos u_j: prefix[k] = Π_{l<k, l≠j}, suffix[k] = Π_{l≥k, l≠j}.
                for k in 0..<d { prefix[k + 1] = prefix[k] * (k == j ? 1 : cosines[k]) }
                suffix[d] = 1
                for k in stride(from: d - 1, through: 0, by: -1) { suffix[k] = suffix[k + 1] * (k == j ? 1 : cosines[k]) }
                for k in 0..<d where k != j {
                    let without = prefix[k] * suffix[k + 1]
                    h[j, k] = -without * sines[j] * sines[k] / (roots[j] * roots[k])
                }
                h[j, j] = 1.0 / 2000 + product / Double(j + 1)
            }

        case .levy, .rastrigin, .schwefel, .rotatedHyperEllipsoid, .sphere, .sumOfDifferentPowers, .sumSquares,
             .michalewicz, .styblinskiTang:
            for k in 0..<d { h[k, k] = diagonalSecondDerivative(k, x[k], dimension: d) }

        case .trid:
            for k in 0..<d {
                h[k, k] = 2
                if k > 0 { h[k, k - 1] = -1 }
                if k < d - 1 { h[k, k + 1] = -1 }
            }

        case .zakharov:
            // g = 2x + (2·s₂ + 4·s₂³)·c with c_k = i/2, s₂ = cᵀx: H = 2I + (2 + 12·s₂²)·c·cᵀ.
            var s2 = 0.0
            for k in 0..<d { s2 += 0.5 * Double(k + 1) * x[k] }
            let scale = 2 + 12 * s2 * s2
            for j in 0..<d {
                for k in 0..<d {
                    h[j, k] = scale * 0.5 * Double(j + 1) * 0.5 * Double(k + 1) + (j == k ? 2 : 0)
                }
            }

        case .dixonPrice:
            // (x₁ − 1)² + Σ_{i≥2} i·t², t = 2x_k² − x_{k−1}: each term adds 2i·∇t∇tᵀ + 2i·t·∇²t.
            h[0, 0] = 2
            for k in 1..<d {
                let i = Double(k + 1)
                let t = 2 * x[k] * x[k] - x[k - 1]
                h[k, k] += 32 * i * x[k] * x[k] + 8 * i * t
                h[k - 1, k - 1] += 2 * i
                h[k, k - 1] -= 8 * i * x[k]
                h[k - 1, k] -= 8 * i * x[k]
            }

        case .rosenbrock:
            for k in 0..<(d - 1) {
                let a = x[k + 1] - x[k] * x[k]
                h[k, k] += 800 * x[k] * x[k] - 400 * a + 2
                h[k + 1, k + 1] += 200
                h[k, k + 1] -= 400 * x[k]
                h[k + 1, k] -= 400 * x[k]
            }

        case .powell:
            // Per block: 2·∇t₁∇t₁ᵀ + 10·∇t₂∇t₂ᵀ + 12t₃²·∇t₃∇t₃ᵀ + 120t₄²·∇t₄∇t₄ᵀ.
            for block in 0..<(d / 4) {
                let j = 4 * block
                let t3 = x[j + 1] - 2 * x[j + 2], t4 = x[j] - x[j + 3]
                let terms: [(Double, [Double])] = [
                    (2, [1, 10, 0, 0]), (10, [0, 0, 1, -1]), (12 * t3 * t3, [0, 1, -2, 0]), (120 * t4 * t4, [1, 0, 0, -1]),
                ]
                for (weight, v) in terms {
                    for p in 0..<4 { for q in 0..<4 { h[j + p, j + q] += weight * v[p] * v[q] } }
                }
            }
        }
        return h
    }
}

extension BenchmarkObjective {
    /// ∇²f(x) of the (shifted) objective; see ``BenchmarkFunction/hessian(_:)``.
    public func hessian(at x: [Double]) -> Matrix<Double> {
        precondition(x.count == dimension, "\(function.rawValue): x has \(x.count) values, expected \(dimension)")
        guard let o = offset else { return function.hessian(x) }
        return function.hessian(zip(x, o).map { $0 - $1 })
    }
}

extension BenchmarkFunction {
    /// Hₖₖ at coordinate k (0-based, value t = xₖ) of a function whose Hessian is diagonal (Levy, Rastrigin,
    /// Schwefel, Rotated Hyper-Ellipsoid, Sphere, Sum of Different Powers, Sum Squares, Michalewicz, Styblinski-Tang):
    /// the one place for these second derivatives, used by ``hessian(_:)`` and ``hessianVectorProduct(_:_:)``.
    func diagonalSecondDerivative(_ k: Int, _ t: Double, dimension d: Int) -> Double {
        switch self {
        case .levy:
            // Each term depends on one w_k = 1 + (x_k − 1)/4; d²/dx² = (1/16)·d²/dw².
            let pi = Double.pi
            let w = 1 + (t - 1) / 4
            var second = 0.0
            if k == 0 { second += 2 * pi * pi * cos(2 * pi * w) }
            if k < d - 1 {
                let theta = pi * w + 1, s = sin(theta)
                second += 2 * (1 + 10 * s * s) + 40 * pi * (w - 1) * sin(2 * theta)
                    + 20 * pi * pi * (w - 1) * (w - 1) * cos(2 * theta)
            } else {
                let s = sin(2 * pi * w)
                second += 2 * (1 + s * s) + 8 * pi * (w - 1) * sin(4 * pi * w)
                    + 8 * pi * pi * (w - 1) * (w - 1) * cos(4 * pi * w)
            }
            return second / 16
        case .rastrigin:
            let twoPi = 2 * Double.pi
            return 2 + 10 * twoPi * twoPi * cos(twoPi * t)
        case .schwefel:
            // −d²/dx² [x·sin√|x|] = −sign(x)/(2√|x|)·(1.5·cos√|x| − 0.5·√|x|·sin√|x|); unbounded at x = 0.
            let r = abs(t).squareRoot()
            guard r > 0 else { return .infinity }
            return -(t > 0 ? 1 : -1) / (2 * r) * (1.5 * cos(r) - 0.5 * r * sin(r))
        case .rotatedHyperEllipsoid:
            return 2 * Double(d - k)
        case .sphere:
            return 2
        case .sumOfDifferentPowers:
            return Double((k + 2) * (k + 1)) * pow(abs(t), Double(k))
        case .sumSquares:
            return 2 * Double(k + 1)
        case .michalewicz:
            // Term −sin(x)·s²⁰ with s = sin u, u = i·x²/π (u′ = 2ix/π, u″ = 2i/π). With q(x) = s²⁰:
            // q′ = 20s¹⁹cos(u)u′, q″ = 20·[19s¹⁸cos²(u)u′² − s²⁰u′² + s¹⁹cos(u)u″];
            // (sin x·q)″ = −sin x·q + 2cos x·q′ + sin x·q″.
            let i = Double(k + 1)
            let u = i * t * t / Double.pi
            let du = 2 * i * t / Double.pi, ddu = 2 * i / Double.pi
            let s = sin(u), cu = cos(u)
            var s18 = 1.0
            for _ in 0..<18 { s18 *= s }
            let s19 = s18 * s, s20 = s19 * s
            let q1 = 20 * s19 * cu * du
            let q2 = 20 * (19 * s18 * cu * cu * du * du - s20 * du * du + s19 * cu * ddu)
            return -(-sin(t) * s20 + 2 * cos(t) * q1 + sin(t) * q2)
        case .styblinskiTang:
            return 6 * t * t - 16
        default:
            preconditionFailure("\(rawValue) has no diagonal Hessian")
        }
    }
}
