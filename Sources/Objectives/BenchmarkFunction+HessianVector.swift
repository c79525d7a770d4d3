import OptimusNumerics


// Notation as in BenchmarkFunction+Formulas.swift: x is 0-based, i = k + 1 is the 1-based SFU index, d = x.count.

extension BenchmarkFunction {
    /// The Hessian–vector product ∇²f(x)·v, analytically and without forming the Hessian.
    ///
    /// The same second derivatives as ``hessian(_:)`` (and its conventions at non-smooth points), applied to v using
    /// each function's structure: O(d) time and memory for every function.
    ///
    /// - Diagonal Hessians (Levy, Rastrigin, Schwefel, Rotated Hyper-Ellipsoid, Sphere, Sum of Different Powers,
    ///   Sum Squares, Michalewicz, Styblinski-Tang): (Hv)ₖ = Hₖₖ·vₖ.
    /// - Banded (Trid, Dixon-Price, Rosenbrock: tridiagonal; Powell: 4×4 blocks).
    /// - Zakharov, diagonal plus rank one: Hv = 2v + (2 + 12·s₂²)·c·(cᵀv), cₖ = i/2, s₂ = cᵀx.
    /// - Ackley, diagonal plus rank two: with r = √(Σxₖ²/d), e₁ = exp(−b·r), e₂ = exp(Σcos(c·xₖ)/d),
    ///   Hv = A·v + A′/(d·r)·x·(xᵀv) + (e₂c²/d)·cos(c·x)⊙v − (e₂c²/d²)·sin(c·x)·(sin(c·x)ᵀv) with A = a·b·e₁/(d·r)
    ///   (the radial terms dropped at the cone point r = 0, as in ``hessian(_:)``).
    /// - Griewank, with uₖ = xₖ/√i, cₖ = cos uₖ, aₖ = sin uₖ/√i and P = Πcₖ:
    ///   (Hv)ⱼ = (1/2000 + P/i)·vⱼ − aⱼ·Tⱼ, Tⱼ = Σ_{k≠j} aₖvₖ·Π_{l≠j,k} cₗ. Tⱼ is the ε-part of the dual-number
    ///   product Π_{l≠j}(cₗ + ε·aₗvₗ), taken from prefix and suffix products: no division by a cosine that may be 0.
    ///
    /// **Schwefel at xₖ = 0**, where Hₖₖ = +∞: (Hv)ₖ = +∞·vₖ (±∞) for vₖ ≠ 0 and 0 for vₖ = 0 (the direction does
    /// not move xₖ; the dense product H·v would give ∞·0 = NaN there).
    public func hessianVectorProduct(_ x: [Double], _ v: [Double]) -> [Double] {
        precondition(v.count == x.count, "\(rawValue): v has \(v.count) values, x has \(x.count)")
        let d = x.count
        let n = Double(d)
        var out = [Double](repeating: 0, count: d)
        switch self {
        case .ackley:
            let (a, b, c, r, e1, e2, _) = x.withUnsafeBufferPointer(Self.ackleyTerms)
            let (radial, radialOuter) = Self.ackleyRadialCurvature(a: a, b: b, r: r, e1: e1, n: n)
            var xv = 0.0, sv = 0.0
            for k in 0..<d {
                xv += x[k] * v[k]
                sv += sin(c * x[k]) * v[k]
            }
            let cosineWeight = e2 * c * c / n
            let sineWeight = e2 * c * c / (n * n)
            for k in 0..<d {
                let ck = c * x[k]
                out[k] = (radial + cosineWeight * cos(ck)) * v[k] + radialOuter * xv * x[k] - sineWeight * sv * sin(ck)
            }

        case .griewank:
            // Dual numbers (p, q) = p + ε·q; (p, q)·(c, e) = (p·c, p·e + q·c). prefix[k] = Π_{l<k}(c_l + ε·a_l·v_l).
            var cosines = [Double](repeating: 0, count: d)
            var weights = [Double](repeating: 0, count: d)  // a_k
            var product = 1.0
            for k in 0..<d {
                let root = Double(k + 1).squareRoot()
                cosines[k] = cos(x[k] / root)
                weights[k] = sin(x[k] / root) / root
                product *= cosines[k]
            }
            var prefix = [(p: Double, q: Double)](repeating: (1, 0), count: d + 1)
            for k in 0..<d {
                let (p, q) = prefix[k]
                prefix[k + 1] = (p * cosines[k], p * weights[k] * v[k] + q * cosines[k])
            }
            var suffix = (p: 1.0, q: 0.0)  // Π_{l>j}
            for j in stride(from: d - 1, through: 0, by: -1) {
                let (p, q) = prefix[j]
                let t = p * suffix.q + q * suffix.p  // T_j: the ε-part of prefix[j]·suffix
                out[j] = (1.0 / 2000 + product / Double(j + 1)) * v[j] - weights[j] * t
                suffix = (suffix.p * cosines[j], suffix.p * weights[j] * v[j] + suffix.q * cosines[j])
            }

        case .levy, .rastrigin, .schwefel, .rotatedHyperEllipsoid, .sphere, .sumOfDifferentPowers, .sumSquares,
             .michalewicz, .styblinskiTang:
            for k in 0..<d {
                // Schwefel at xₖ = 0: Hₖₖ = +∞, and a direction that does not move xₖ gives 0, not ∞·0 = NaN.
                let second = diagonalSecondDerivative(k, x[k], dimension: d)
                out[k] = second.isInfinite && v[k] == 0 ? 0 : second * v[k]
            }

        case .trid:
            for k in 0..<d {
                var y = 2 * v[k]
                if k > 0 { y -= v[k - 1] }
                if k < d - 1 { y -= v[k + 1] }
                out[k] = y
            }

        case .zakharov:
            var s2 = 0.0, cv = 0.0
            for k in 0..<d {
                let ck = 0.5 * Double(k + 1)
                s2 += ck * x[k]
                cv += ck * v[k]
            }
            let outer = (2 + 12 * s2 * s2) * cv
            for k in 0..<d { out[k] = 2 * v[k] + outer * 0.5 * Double(k + 1) }

        case .dixonPrice:
            // Term i·t², t = 2x_k² − x_{k−1}: H += 2i·∇t∇tᵀ + 2i·t·∇²t, ∇t = 4x_k·e_k − e_{k−1}, ∇²t = 4·e_k e_kᵀ.
            out[0] = 2 * v[0]
            for k in 1..<d {
                let i = Double(k + 1)
                let t = 2 * x[k] * x[k] - x[k - 1]
                let coupling = 8 * i * x[k]
                out[k] += (32 * i * x[k] * x[k] + 8 * i * t) * v[k] - coupling * v[k - 1]
                out[k - 1] += 2 * i * v[k - 1] - coupling * v[k]
            }

        case .rosenbrock:
            for k in 0..<(d - 1) {
                let a = x[k + 1] - x[k] * x[k]
                let coupling = 400 * x[k]
                out[k] += (800 * x[k] * x[k] - 400 * a + 2) * v[k] - coupling * v[k + 1]
                out[k + 1] += 200 * v[k + 1] - coupling * v[k]
            }

        case .powell:
            // Per block: 2·∇t₁∇t₁ᵀ + 10·∇t₂∇t₂ᵀ + 12t₃²·∇t₃∇t₃ᵀ + 120t₄²·∇t₄∇t₄ᵀ with ∇t₁ = (1, 10, 0, 0),
            // ∇t₂ = (0, 0, 1, −1), ∇t₃ = (0, 1, −2, 0), ∇t₄ = (1, 0, 0, −1).
            for block in 0..<(d / 4) {
                let j = 4 * block
                let t3 = x[j + 1] - 2 * x[j + 2], t4 = x[j] - x[j + 3]
                let p1 = 2 * (v[j] + 10 * v[j + 1])
                let p2 = 10 * (v[j + 2] - v[j + 3])
                let p3 = 12 * t3 * t3 * (v[j + 1] - 2 * v[j + 2])
                let p4 = 120 * t4 * t4 * (v[j] - v[j + 3])
                out[j] = p1 + p4
                out[j + 1] = 10 * p1 + p3
                out[j + 2] = p2 - 2 * p3
                out[j + 3] = -p2 - p4
            }
        }
        return out
    }
}

extension BenchmarkObjective {
    /// ∇²f(x)·v of the (shifted) objective, analytically in O(d): ``BenchmarkFunction/hessianVectorProduct(_:_:)``
    /// at x − offset (the shift does not change second derivatives).
    public func hessianVectorProduct(at x: [Double], direction v: [Double]) -> [Double] {
        precondition(x.count == dimension, "\(function.rawValue): x has \(x.count) values, expected \(dimension)")
        precondition(v.count == dimension, "\(function.rawValue): v has \(v.count) values, expected \(dimension)")
        guard let o = offset else { return function.hessianVectorProduct(x, v) }
        return function.hessianVectorProduct(zip(x, o).map { $0 - $1 }, v)
    }
}
