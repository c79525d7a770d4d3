import OptimusNumerics
import Testing
@testable import Objectives

/// H·v with the dense Hessian, and |H|·|v| (the scale of the rounding error of any way of computing H·v).
private func denseProduct(_ h: Matrix<Double>, _ v: [Double]) -> (product: [Double], magnitude: [Double]) {
    var product = [Double](repeating: 0, count: h.rows)
    var magnitude = [Double](repeating: 0, count: h.rows)
    for i in 0..<h.rows {
        for j in 0..<h.columns {
            product[i] += h[i, j] * v[j]
            magnitude[i] += abs(h[i, j] * v[j])
        }
    }
    return (product, magnitude)
}

private func maxNorm(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

/// ∇²f(x)·v by Richardson-extrapolated central differences of `objective`'s own gradient along v:
/// R = (4·D(h/2) − D(h))/3 with D(h) = (∇f(x + h·v) − ∇f(x − h·v))/(2h); truncation error O(h⁴). Independent of
/// the library's fallback (other step, other scheme), with the absolute step of `HessianTests` (v has unit length).
private func richardsonProduct(_ objective: some Objective, _ x: [Double], _ v: [Double]) -> [Double] {
    let h = 1e-4
    func central(_ step: Double) -> [Double] {
        let gp = objective.gradient(at: zip(x, v).map { $0 + step * $1 })
        let gm = objective.gradient(at: zip(x, v).map { $0 - step * $1 })
        return zip(gp, gm).map { ($0 - $1) / (2 * step) }
    }
    let coarse = central(h), fine = central(h / 2)
    return zip(fine, coarse).map { (4 * $0 - $1) / 3 }
}

private func unitDirection<G: RandomNumberGenerator>(_ d: Int, using g: inout G) -> [Double] {
    let v = g.normal(count: d)
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return v.map { $0 / norm }
}

/// An objective that only has a gradient, so ``Objective/hessianVectorProduct(at:direction:)`` is the generic fallback.
private func gradientOnly(_ function: BenchmarkFunction, dimension d: Int) -> ClosureObjective {
    ClosureObjective(dimension: d) { x, g in
        x.withUnsafeBufferPointer { xs in g.withUnsafeMutableBufferPointer { function.evaluate(xs, gradient: $0) } }
    }
}

@Suite struct HessianVectorTests {
    /// Every function at a small and a larger valid dimension.
    static let cases: [(BenchmarkFunction, Int)] = BenchmarkFunction.allCases.flatMap { f in
        f == .powell ? [(f, 4), (f, 40)] : [(f, 5), (f, 40)]
    }

    private static func generator(_ function: BenchmarkFunction, _ d: Int, salt: UInt64) -> Xoshiro256StarStar {
        Xoshiro256StarStar(seed: salt &+ UInt64(d), stream: UInt64(BenchmarkFunction.allCases.firstIndex(of: function) ?? 0))
    }

    /// The analytic product equals the dense Hessian times v at 4 random points of the domain and random directions
    /// (of random length). Tolerance 1e−10 relative to ‖|H|·|v|‖∞: both sides are the same exact expression
    /// evaluated in a different order (factored rank-one/rank-two terms, dual-number products for Griewank), so
    /// they differ by rounding only, a few ε·d times |H|·|v|; a wrong coefficient or a missing term is O(1) there.
    @Test(arguments: cases)
    func analyticProductMatchesTheDenseHessian(function: BenchmarkFunction, dimension d: Int) throws {
        var g = Self.generator(function, d, salt: 0x4856)
        let objective = try BenchmarkObjective(function, dimension: d)
        var worst = 0.0
        for _ in 0..<4 {
            let x = objective.randomStart(using: &g)
            let v = unitDirection(d, using: &g).map { $0 * g.uniform(0.1, 10) }
            let product = function.hessianVectorProduct(x, v)
            let (expected, magnitude) = denseProduct(function.hessian(x), v)
            let scale = maxNorm(magnitude)
            #expect(scale > 0)
            #expect(product.count == d)
            for i in 0..<d {
                let error = abs(product[i] - expected[i]) / scale
                worst = max(worst, error)
                #expect(error <= 1e-10, "\(function) d=\(d) (Hv)[\(i)] = \(product[i]), dense \(expected[i])")
            }
            // Dynamic dispatch through `any Objective` reaches the analytic override (the fallback is not bitwise equal).
            let erased: any Objective = objective
            #expect(erased.hessianVectorProduct(at: x, direction: v) == product, "\(function) d=\(d): not dispatched")
        }
        print("[max error] Hessian-vector \(function.rawValue) d=\(d): \(worst)")
    }

    /// The generic finite-difference fallback (on an objective that has only a gradient) equals the dense H·v to the
    /// documented accuracy: 1e−5 relative to max(1, ‖Hv‖∞).
    @Test(arguments: cases)
    func fallbackMatchesTheDenseHessianToTheDocumentedAccuracy(function: BenchmarkFunction, dimension d: Int) throws {
        var g = Self.generator(function, d, salt: 0xFD)
        let objective = try BenchmarkObjective(function, dimension: d)
        let closure = gradientOnly(function, dimension: d)
        var worst = 0.0
        for _ in 0..<4 {
            let x = objective.randomStart(using: &g)
            let v = unitDirection(d, using: &g).map { $0 * g.uniform(0.1, 10) }
            let product = closure.hessianVectorProduct(at: x, direction: v)
            let expected = denseProduct(function.hessian(x), v).product
            let scale = max(1, maxNorm(expected))
            for i in 0..<d {
                let error = abs(product[i] - expected[i]) / scale
                worst = max(worst, error)
                #expect(error <= 1e-5, "\(function) d=\(d) fallback (Hv)[\(i)] = \(product[i]), dense \(expected[i])")
            }
        }
        print("[max error] fallback Hessian-vector \(function.rawValue) d=\(d): \(worst)")
    }

    /// A shifted `BenchmarkObjective` and a `ScaledObjective` around it agree with Richardson finite differences of
    /// their own gradients (tolerance 1e−7 relative to max(1, ‖Hv‖∞), the accuracy of the O(h⁴) scheme with
    /// h = 1e−4 on these functions, as in `HessianTests`). Catches an ignored offset and a wrong chain rule.
    @Test(arguments: cases)
    func shiftedAndScaledObjectivesMatchFiniteDifferencesOfTheirGradients(
        function: BenchmarkFunction, dimension d: Int
    ) throws {
        var g = Self.generator(function, d, salt: 0x5C)
        let width = function.domain(dimension: d).upperBound - function.domain(dimension: d).lowerBound
        let offset = (0..<d).map { _ in g.uniform(-0.1, 0.1) * width }
        let shifted = try BenchmarkObjective(function, dimension: d, offset: offset)
        let scales = (0..<d).map { _ in g.uniform(0.25, 2) }
        let scaled = ScaledObjective(shifted, scales: scales)
        for _ in 0..<3 {
            let x = shifted.randomStart(using: &g)
            let v = unitDirection(d, using: &g)
            for (name, objective, point) in [("shifted", shifted as any Objective, x), ("scaled", scaled, scaled.scale(x))] {
                let product = objective.hessianVectorProduct(at: point, direction: v)
                let expected = richardsonProduct(objective, point, v)
                let scale = max(1, maxNorm(expected))
                for i in 0..<d {
                    #expect(abs(product[i] - expected[i]) <= 1e-7 * scale,
                            "\(function) d=\(d) \(name) (Hv)[\(i)] = \(product[i]), finite differences \(expected[i])")
                }
            }
        }
    }

    /// `ScaledObjective` and `CountingObjective` reach the base's analytic product through `any Objective`
    /// (bitwise: the fallback would differ), and the product is not counted as an evaluation.
    @Test func wrappersForwardTheAnalyticProduct() throws {
        var g = Xoshiro256StarStar(seed: 0xC0)
        let base = try BenchmarkObjective(.rosenbrock, dimension: 6, offset: g.uniform(-1, 1, count: 6))
        let scales = g.uniform(0.5, 3, count: 6)
        let counting = CountingObjective(base)
        let x = base.randomStart(using: &g), v = g.normal(count: 6)
        let erasedCounting: any Objective = counting
        #expect(erasedCounting.hessianVectorProduct(at: x, direction: v) == base.hessianVectorProduct(at: x, direction: v))
        #expect(counting.totalEvaluations == 0)

        let scaled: any Objective = ScaledObjective(counting, scales: scales)
        let y = zip(x, scales).map { $0 / $1 }
        let inner = base.hessianVectorProduct(at: zip(y, scales).map { $0 * $1 }, direction: zip(v, scales).map { $0 * $1 })
        #expect(scaled.hessianVectorProduct(at: y, direction: v) == zip(inner, scales).map { $0 * $1 })
        #expect(counting.totalEvaluations == 0)
    }

    /// v = 0 gives exactly 0, analytic and fallback; the fallback is linear in the length of v.
    @Test func zeroAndScaledDirections() throws {
        var g = Xoshiro256StarStar(seed: 0x0)
        let objective = try BenchmarkObjective(.levy, dimension: 7)
        let closure = gradientOnly(.levy, dimension: 7)
        let x = objective.randomStart(using: &g)
        let zero = [Double](repeating: 0, count: 7)
        #expect(objective.hessianVectorProduct(at: x, direction: zero) == zero)
        #expect(closure.hessianVectorProduct(at: x, direction: zero) == zero)
        let v = unitDirection(7, using: &g)
        let once = closure.hessianVectorProduct(at: x, direction: v)
        let thousand = closure.hessianVectorProduct(at: x, direction: v.map { 1000 * $0 })
        for (a, b) in zip(once, thousand) { #expect(abs(1000 * a - b) <= 1e-12 * max(1, abs(b))) }
    }

    /// Schwefel at xₖ = 0 (Hₖₖ = +∞): the product is ±∞ where vₖ ≠ 0 and 0 where vₖ = 0, finite elsewhere.
    @Test func schwefelAtAZeroCoordinate() {
        let x = [0.0, 3, -7]
        let moving = BenchmarkFunction.schwefel.hessianVectorProduct(x, [-1, 1, 1])
        #expect(moving[0] == -.infinity && moving[1].isFinite && moving[2].isFinite)
        let still = BenchmarkFunction.schwefel.hessianVectorProduct(x, [0, 1, 1])
        #expect(still[0] == 0 && still[1] == moving[1] && still[2] == moving[2])
    }
}
