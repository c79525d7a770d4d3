import OptimusNumerics


// Notation: x is 0-based in code, i = k + 1 is the 1-based index of the SFU formulas; d = x.count.
// Formulas, constants and conventions: docs/test-functions.md, *Definitions* and *Conventions*.

extension BenchmarkFunction {
    /// Ackley's constants a = 20, b = 0.2, c = 2π and the terms that f, ∇f, ∇²f and ∇²f·v all start from:
    /// r = √(Σxₖ²/d), e₁ = exp(−b·r), e₂ = exp(m) with m = Σcos(c·xₖ)/d. One pass over x, sums in index order.
    @inline(__always)
    static func ackleyTerms(_ x: UnsafeBufferPointer<Double>)
        -> (a: Double, b: Double, c: Double, r: Double, e1: Double, e2: Double, meanCosine: Double)
    {
        let a = 20.0, b = 0.2, c = 2 * Double.pi
        let n = Double(x.count)
        var s1 = 0.0, s2 = 0.0
        for k in 0..<x.count {
            s1 += x[k] * x[k]
            s2 += cos(c * x[k])
        }
        let r = (s1 / n).squareRoot()
        let meanCosine = s2 / n
        return (a, b, c, r, exp(-b * r), exp(meanCosine), meanCosine)
    }

    /// f(x); when `gradient` is non-nil, also writes ∇f(x) into it (every element is overwritten).
    ///
    /// Single pass (two for Griewank) over the buffer, no allocation, sums in index order, Double throughout.
    public func evaluate(_ x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>?) -> Double {
        let d = x.count
        let n = Double(d)
        switch self {
        // MARK: Many local minima
        case .ackley:
            let (a, b, c, r, e1, e2, meanCosine) = Self.ackleyTerms(x)
            if let g = gradient {
                // ∂/∂x_k: a·b·e1·x_k/(d·r) + e2·c·sin(c·x_k)/d; the first term is 0 at the cone point r = 0.
                let t1 = r > 0 ? a * b * e1 / (n * r) : 0
                for k in 0..<d { g[k] = t1 * x[k] + e2 * c * sin(c * x[k]) / n }
            }
            // −a·e1 − e2 + a + e written as −a·(e1 − 1) − e·(e2/e − 1) with expm1: exactly 0 at x = 0 (the textbook
            // order leaves 4e−16 there) and accurate to relative precision near the minimum.
            return -a * expm1(-b * r) - M_E * expm1(meanCosine - 1)

        case .griewank:
            var sum = 0.0, product = 1.0
            if let g = gradient {
                // g[k] first holds the prefix product Π_{j<k} cos_j; a backward pass multiplies the suffix in,
                // so no division by a cosine that may be zero.
                for k in 0..<d {
                    let sq = Double(k + 1).squareRoot()
                    sum += x[k] * x[k]
                    g[k] = product
                    product *= cos(x[k] / sq)
                }
                var suffix = 1.0
                for k in stride(from: d - 1, through: 0, by: -1) {
                    let sq = Double(k + 1).squareRoot()
                    let ck = cos(x[k] / sq)
                    g[k] = x[k] / 2000 + g[k] * suffix * sin(x[k] / sq) / sq
                    suffix *= ck
                }
            } else {
                for k in 0..<d {
                    sum += x[k] * x[k]
                    product *= cos(x[k] / Double(k + 1).squareRoot())
                }
            }
            return sum / 4000 - product + 1

        case .levy:
            // w = 1 + (x − 1)/4, dw/dx = 1/4. SFU: sin(π·w_i + 1), i.e. (π·w_i) + 1.
            let pi = Double.pi
            let w1 = 1 + (x[0] - 1) / 4
            let s1 = sin(pi * w1)
            var f = s1 * s1
            if let g = gradient {
                for k in 0..<d { g[k] = 0 }
                g[0] = pi * sin(2 * pi * w1) / 4
            }
            for k in 0..<(d - 1) {
                let w = 1 + (x[k] - 1) / 4
                let s = sin(pi * w + 1)
                let bracket = 1 + 10 * s * s
                f += (w - 1) * (w - 1) * bracket
                if let g = gradient {
                    let dw = 2 * (w - 1) * bracket + 10 * pi * (w - 1) * (w - 1) * sin(2 * (pi * w + 1))
                    g[k] += dw / 4
                }
            }
            let wd = 1 + (x[d - 1] - 1) / 4
            let sd = sin(2 * pi * wd)
            f += (wd - 1) * (wd - 1) * (1 + sd * sd)
            if let g = gradient {
                let dw = 2 * (wd - 1) * (1 + sd * sd) + 2 * pi * (wd - 1) * (wd - 1) * sin(4 * pi * wd)
                g[d - 1] += dw / 4
            }
            return f

        case .rastrigin:
            let twoPi = 2 * Double.pi
            var f = 10 * n
            for k in 0..<d {
                f += x[k] * x[k] - 10 * cos(twoPi * x[k])
                gradient?[k] = 2 * x[k] + 10 * twoPi * sin(twoPi * x[k])
            }
            return f

        case .schwefel:
            // Summed per term, 418.9829 − x_i·sin√|x_i|: near x* each term is ~1.27e−5, so the sum keeps full
            // relative precision where 418.9829·d − Σ x_i sin√|x_i| would cancel ~4e5 down to 0.0127 at d = 1000.
            var f = 0.0
            for k in 0..<d {
                let r = abs(x[k]).squareRoot()
                let s = sin(r)
                f += 418.9829 - x[k] * s
                // d/dx [x·sin√|x|] = sin√|x| + ½√|x|·cos√|x| (continuous, 0 at x = 0).
                gradient?[k] = -(s + 0.5 * r * cos(r))
            }
            return f

        // MARK: Bowl-shaped
        case .rotatedHyperEllipsoid:
            var f = 0.0
            for k in 0..<d {
                let weight = Double(d - k)  // d − i + 1
                f += weight * x[k] * x[k]
                gradient?[k] = 2 * weight * x[k]
            }
            return f

        case .sphere:
            var f = 0.0
            for k in 0..<d {
                f += x[k] * x[k]
                gradient?[k] = 2 * x[k]
            }
            return f

        case .sumOfDifferentPowers:
            var f = 0.0
            for k in 0..<d {
                let a = abs(x[k])
                let p = pow(a, Double(k + 1))  // |x|^i
                f += p * a  // |x|^(i+1)
                if let g = gradient {
                    g[k] = x[k] == 0 ? 0 : Double(k + 2) * p * (x[k] > 0 ? 1 : -1)
                }
            }
            return f

        case .sumSquares:
            var f = 0.0
            for k in 0..<d {
                let i = Double(k + 1)
                f += i * x[k] * x[k]
                gradient?[k] = 2 * i * x[k]
            }
            return f

        case .trid:
            // Σ(x_i − 1)² − Σ_{i≥2} x_i x_{i−1} summed per term as x_i·(x_i − x_{i−1} − 2) + 1 (algebraically equal)
            // with compensated summation. Near x* (x_i = i(d+1−i), up to d²/4) the two plain sums reach ~d⁵/30 and
            // cancel to f* ~ −d³/6, losing about 1e−7 absolute at d = 100; the per-term form loses ~1e−10, so
            // quasi-Newton methods can resolve f − f* < 1e−8.
            var f = (x[0] - 1) * (x[0] - 1)
            var compensation = 0.0
            for k in 1..<d {
                let term = (1.0).addingProduct(x[k], x[k] - x[k - 1] - 2)  // one rounding (fused multiply-add)
                let t = f + term
                compensation += abs(f) >= abs(term) ? (f - t) + term : (term - t) + f
                f = t
            }
            if let g = gradient {
                for k in 0..<d {
                    var v = 2 * (x[k] - 1)
                    if k > 0 { v -= x[k - 1] }
                    if k < d - 1 { v -= x[k + 1] }
                    g[k] = v
                }
            }
            return f + compensation

        // MARK: Plate-shaped
        case .zakharov:
            var s1 = 0.0, s2 = 0.0
            for k in 0..<d {
                s1 += x[k] * x[k]
                s2 += 0.5 * Double(k + 1) * x[k]
            }
            if let g = gradient {
                let outer = 2 * s2 + 4 * s2 * s2 * s2
                for k in 0..<d { g[k] = 2 * x[k] + outer * 0.5 * Double(k + 1) }
            }
            let s2sq = s2 * s2
            return s1 + s2sq + s2sq * s2sq

        // MARK: Valley-shaped
        case .dixonPrice:
            var f = (x[0] - 1) * (x[0] - 1)
            if let g = gradient {
                for k in 0..<d { g[k] = 0 }
                g[0] = 2 * (x[0] - 1)
            }
            for k in 1..<d {
                let i = Double(k + 1)
                let t = 2 * x[k] * x[k] - x[k - 1]
                f += i * t * t
                if let g = gradient {
                    g[k] += 8 * i * t * x[k]
                    g[k - 1] -= 2 * i * t
                }
            }
            return f

        case .rosenbrock:
            var f = 0.0
            if let g = gradient { for k in 0..<d { g[k] = 0 } }
            for k in 0..<(d - 1) {
                let a = x[k + 1] - x[k] * x[k]
                let b = x[k] - 1
                f += 100 * a * a + b * b
                if let g = gradient {
                    g[k] += -400 * x[k] * a + 2 * b
                    g[k + 1] += 200 * a
                }
            }
            return f

        // MARK: Steep ridges and drops
        case .michalewicz:
            // m = 10. The term arithmetic is shared with `Michalewicz` (h, h′), so f(x*) == f*(d) bit for bit.
            var f = 0.0
            for k in 0..<d {
                let i = Double(k + 1)
                let u = i * x[k] * x[k] / Double.pi
                let (s19, s20) = Michalewicz.powers(sin(u))
                let sx = sin(x[k])
                f -= sx * s20
                gradient?[k] = -(cos(x[k]) * s20 + sx * 20 * s19 * cos(u) * 2 * i * x[k] / Double.pi)
            }
            return f

        // MARK: Other
        case .styblinskiTang:
            var f = 0.0
            for k in 0..<d {
                let v = x[k]
                let v2 = v * v
                f += v2 * v2 - 16 * v2 + 5 * v
                gradient?[k] = 2 * v2 * v - 16 * v + 2.5
            }
            return 0.5 * f

        case .powell:
            var f = 0.0
            for block in 0..<(d / 4) {
                let j = 4 * block
                let a = x[j], b = x[j + 1], c = x[j + 2], e = x[j + 3]
                let t1 = a + 10 * b, t2 = c - e, t3 = b - 2 * c, t4 = a - e
                let t3c = t3 * t3 * t3, t4c = t4 * t4 * t4
                f += t1 * t1 + 5 * t2 * t2 + t3c * t3 + 10 * t4c * t4
                if let g = gradient {
                    g[j] = 2 * t1 + 40 * t4c
                    g[j + 1] = 20 * t1 + 4 * t3c
                    g[j + 2] = 10 * t2 - 8 * t3c
                    g[j + 3] = -10 * t2 - 40 * t4c
                }
            }
            return f
        }
    }

    /// The global minimum f*(d): on the domain box for Michalewicz (computed per coordinate, see ``Michalewicz``)
    /// and Schwefel (whose SFU constant 418.9829 leaves f* = 1.2727566229386866e−5·d).
    public func fStar(dimension d: Int) -> Double {
        let n = Double(d)
        switch self {
        case .trid: return -n * (n + 4) * (n - 1) / 6
        case .styblinskiTang: return -39.16616570377142 * n
        case .schwefel: return 1.2727566229386866e-5 * n
        case .michalewicz: return Michalewicz.minimum(dimension: d)
        default: return 0
        }
    }

    /// A global minimizer x* (for Dixon-Price the one with positive signs; for Michalewicz the per-coordinate argmin
    /// on [0, π]).
    public func minimizer(dimension d: Int) -> [Double] {
        switch self {
        case .levy, .rosenbrock: return [Double](repeating: 1, count: d)
        case .schwefel: return [Double](repeating: 420.9687463599821, count: d)
        case .styblinskiTang: return [Double](repeating: -2.903534027771177, count: d)
        case .trid: return (1...d).map { i in Double(i * (d + 1 - i)) }
        case .dixonPrice:
            // x_i = 2^(−(2^i − 2)/2^i) = 2^(−1 + 2^(1−i)); in this form 2^i never overflows.
            return (1...d).map { i in pow(2, -1 + pow(2, Double(1 - i))) }
        case .michalewicz: return Michalewicz.minimizer(dimension: d)
        default: return [Double](repeating: 0, count: d)
        }
    }
}
