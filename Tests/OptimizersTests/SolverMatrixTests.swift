import Objectives
import OptimusNumerics
import Testing
@testable import Optimizers

/// A solver × problem matrix in the style of Optim.jl: every quasi-Newton solver on every benchmark function, with
/// an explicit expectation per cell and a reason for every cell that is not "reaches f* to 1e−8".
enum Expectation: Sendable, CustomStringConvertible {
    /// f − f* < tolerance.
    case solves(Double)
    /// Monotone descent from x₀ to a point with a lower value, but no global minimum (the reason says why).
    case descends(reason: String)

    var description: String {
        switch self {
        case .solves(let t): "solves to \(t)"
        case .descends(let r): "descends (\(r))"
        }
    }
}

let multimodal = "multimodal: a local method stops in the nearest basin"

/// The expectation for a quasi-Newton method started uniformly in the domain, 1000 iterations.
func expectation(_ f: BenchmarkFunction, dimension d: Int) -> Expectation {
    switch f {
    case .sphere, .sumSquares, .rotatedHyperEllipsoid, .zakharov, .trid, .powell: .solves(1e-8)
    case .sumOfDifferentPowers: .solves(1e-6)  // f ~ |x|^(d+1) is flat near 0: the gradient test fires at f ≈ 1e−7
    case .rosenbrock: d <= 3 ? .solves(1e-8) : .descends(reason: "second local minimum near (−1, 1, …, 1) for d ≥ 4")
    case .dixonPrice: .descends(reason: "local minimum f = 2/3 attracts most starts (L-BFGS-B finds it too)")
    case .griewank: d >= 100 ? .solves(1e-8) : .descends(reason: multimodal)
    case .ackley, .levy, .rastrigin, .schwefel, .michalewicz, .styblinskiTang: .descends(reason: multimodal)
    }
}

struct MatrixCase: Sendable, CustomTestStringConvertible {
    let solver: String
    let function: BenchmarkFunction
    let dimension: Int
    var testDescription: String { "\(solver) on \(function.rawValue) d=\(dimension)" }
}

let matrixCases: [MatrixCase] = ["bfgs", "lbfgs"].flatMap { s in
    BenchmarkFunction.allCases.flatMap { f in
        (f == .powell ? [4, 12] : [2, 10]).map { MatrixCase(solver: s, function: f, dimension: $0) }
    }
}

@Suite struct SolverMatrixTests {
    @Test(arguments: matrixCases)
    func quasiNewtonOnBenchmark(_ c: MatrixCase) throws {
        let objective = try BenchmarkObjective(c.function, dimension: c.dimension)
        var generator = Xoshiro256StarStar(seed: 1234 + UInt64(c.dimension))
        let x0 = objective.randomStart(using: &generator)
        let optimizer = try OptimizerCatalog.classical(named: c.solver)
        let r = try minimize(objective, from: x0, using: optimizer,
                             options: .init(maxIterations: 1000, recordTrace: true))
        // Invariants that hold everywhere: line-search methods decrease monotonically and keep the best point.
        let values = try #require(r.trace).map(\.value)
        for k in 1..<values.count { #expect(values[k] <= values[k - 1], "iteration \(k) increased f") }
        #expect(r.value <= r.initialValue)
        #expect(r.value == values.min())
        switch expectation(c.function, dimension: c.dimension) {
        case .solves(let tolerance):
            #expect(r.value - objective.fStar < tolerance, "f − f* = \(r.value - objective.fStar), \(r.termination)")
        case .descends:
            #expect(r.value < r.initialValue || r.initialValue == objective.fStar)
        }
    }

    /// The acceptance cells: BFGS and L-BFGS at d = 100 on the five convex functions.
    @Test(arguments: ["bfgs", "lbfgs"], [BenchmarkFunction.sphere, .sumSquares, .rotatedHyperEllipsoid, .zakharov, .trid])
    func convexAtDimension100(solver: String, function: BenchmarkFunction) throws {
        let objective = try BenchmarkObjective(function, dimension: 100)
        var generator = Xoshiro256StarStar(seed: 42)
        let x0 = objective.randomStart(using: &generator)
        let r = try minimize(objective, from: x0, using: try OptimizerCatalog.classical(named: solver),
                             options: .init(maxIterations: 2000))
        #expect(r.value - objective.fStar < 1e-8,
                "\(solver) \(function.rawValue): f − f* = \(r.value - objective.fStar) after \(r.iterations) it, \(r.termination)")
    }

    @Test func lbfgsSolvesRosenbrock10() throws {
        let objective = try BenchmarkObjective(.rosenbrock, dimension: 10)
        // From the classical start (−1.2, 1, −1.2, 1, …) and from 4 uniform starts in [−2.048, 2.048].
        var starts = [(0..<10).map { $0 % 2 == 0 ? -1.2 : 1.0 }]
        var generator = Xoshiro256StarStar(seed: 7)
        for _ in 0..<4 { starts.append(generator.uniform(-2.048, 2.048, count: 10)) }
        var solved = 0
        for x0 in starts {
            let r = try minimize(objective, from: x0, using: LBFGS(), options: .init(maxIterations: 1000))
            if r.value < 1e-8 { solved += 1 }
        }
        // The second local minimum near (−1, 1, …, 1) can attract a start; the classical one must be solved.
        let classical = try minimize(objective, from: starts[0], using: LBFGS(), options: .init(maxIterations: 1000))
        #expect(classical.value < 1e-8, "f = \(classical.value)")
        #expect(solved >= 4)
    }
}
