import OptimusNumerics
import Testing
@testable import Objectives

/// Column j of the Hessian by Richardson-extrapolated central differences of the analytic gradient:
/// R = (4·D(h/2) − D(h))/3 with D(h) = (∇f(x + h·e_j) − ∇f(x − h·e_j))/(2h); truncation error O(h⁴). The step is
/// absolute (h = 1e−4): the oscillating functions (Ackley, Griewank, Rastrigin) vary on a unit scale wherever x is.
private func finiteDifferenceColumn(_ f: BenchmarkObjective, _ x: [Double], _ j: Int) -> [Double] {
    let h = 1e-4
    func central(_ step: Double) -> [Double] {
        var plus = x, minus = x
        plus[j] += step
        minus[j] -= step
        let gp = f.gradient(at: plus), gm = f.gradient(at: minus)
        return zip(gp, gm).map { ($0 - $1) / (2 * step) }
    }
    let coarse = central(h), fine = central(h / 2)
    return zip(fine, coarse).map { (4 * $0 - $1) / 3 }
}

@Suite struct HessianTests {
    static let cases: [(BenchmarkFunction, Int)] = BenchmarkFunction.allCases.flatMap { f in
        f == .powell ? [(f, 4), (f, 8)] : [(f, 2), (f, 3), (f, 7)]
    }

    /// Every function's Hessian against finite differences of its gradient at 5 random points of its domain (with an
    /// offset, so the shift is exercised), and exactly symmetric.
    @Test(arguments: cases)
    func hessianMatchesFiniteDifferencesOfTheGradient(function: BenchmarkFunction, dimension d: Int) throws {
        var g = Xoshiro256StarStar(seed: 0x4E55 &+ UInt64(d), stream: UInt64(BenchmarkFunction.allCases.firstIndex(of: function)!))
        let width = function.domain(dimension: d).upperBound - function.domain(dimension: d).lowerBound
        let offset = (0..<d).map { _ in g.uniform(-0.1, 0.1) * width }
        let objective = try BenchmarkObjective(function, dimension: d, offset: offset)
        var worst = 0.0
        for _ in 0..<5 {
            let x = objective.randomStart(using: &g)
            let h = objective.hessian(at: x)
            #expect(h.rows == d && h.columns == d)
            let scale = max(1, h.storage.map(abs).max() ?? 0)
            #expect(h.asymmetry! <= 1e-12 * scale, "\(function) d=\(d): Hessian not symmetric")
            for j in 0..<d {
                let column = finiteDifferenceColumn(objective, x, j)
                for i in 0..<d {
                    let error = abs(column[i] - h[i, j]) / scale
                    worst = max(worst, error)
                    #expect(error <= 1e-8, "\(function) d=\(d) H[\(i),\(j)] = \(h[i, j]), finite differences \(column[i])")
                }
            }
        }
        print("[max error] Hessian \(function.rawValue) d=\(d): \(worst)")
    }

    /// On a quadratic the Newton direction H⁻¹∇f(x) is x − x* exactly; checks the Hessian and the LU solve together.
    @Test func newtonStepOnQuadraticsLandsOnTheMinimizer() throws {
        var g = Xoshiro256StarStar(seed: 11)
        for function in [BenchmarkFunction.sphere, .sumSquares, .rotatedHyperEllipsoid, .trid] {
            let f = try BenchmarkObjective(function, dimension: 6)
            let x = f.randomStart(using: &g)
            let step = try #require(f.hessian(at: x).solve(f.gradient(at: x)))
            let landed = zip(x, step).map { $0 - $1 }
            for (a, b) in zip(landed, f.minimizer) {
                #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(function): Newton step lands at \(a), x* = \(b)")
            }
        }
    }

    @Test func solveRejectsSingularAndMismatchedSystems() {
        let singular = Matrix<Double>([[1, 2], [2, 4]])
        #expect(singular.solve([1, 1]) == nil)
        #expect(Matrix<Double>([[1, 0], [0, 1]]).solve([1, 2, 3]) == nil)
        let a = Matrix<Double>([[0, 2, 1], [1, 1, 0], [3, 0, 1]])  // needs a row exchange
        let y = a.solve([5, 3, 4])!
        for (v, e) in zip(y, [1.0, 2, 1]) { #expect(abs(v - e) < 1e-14) }
    }
}
