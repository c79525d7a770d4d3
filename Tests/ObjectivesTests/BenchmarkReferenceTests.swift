import OptimusNumerics
import Testing
@testable import Objectives

@Suite struct BenchmarkReferenceTests {
    /// All 180 records: value and every gradient element to relative 1e−10 (absolute 1e−12 near zero).
    @Test(arguments: ReferenceFile.shared.records + ReferenceFile.shared.alternate_records)
    func reproducesReferenceValueAndGradient(_ r: ReferenceFile.Record) throws {
        let objective = try BenchmarkObjective(.reference(r.function), dimension: r.d)
        let (f, g) = objective.valueAndGradient(at: r.x)
        if r.function == "schwefel" && r.point == "xstar" {
            // Documented exception: the reference evaluates 418.9829·d − Σ xᵢ sin√|xᵢ|, which cancels ~419·d down to
            // 1.27e−5·d and carries a rounding error of order ε·419·d (8.6e−12 at d = 1000, relative 7e−10). We sum per
            // term and get f* = 1.2727566229386866e−5·d exactly; assert both facts.
            #expect(abs(f - r.f) <= 1e-14 * 418.9829 * Double(r.d), "\(r): f = \(f), reference \(r.f)")
            #expect(close(f, objective.fStar, relative: 1e-13, absolute: 0), "\(r): f = \(f), f* = \(objective.fStar)")
        } else {
            #expect(close(f, r.f, relative: 1e-10, absolute: 1e-12), "\(r): f = \(f), reference \(r.f)")
        }
        var worst = 0.0, worstIndex = 0
        for k in 0..<r.d where !close(g[k], r.grad[k], relative: 1e-10, absolute: 1e-12) {
            let e = abs(g[k] - r.grad[k])
            if e > worst { worst = e; worstIndex = k }
        }
        #expect(worst == 0, "\(r): gradient[\(worstIndex)] = \(g[worstIndex]), reference \(r.grad[worstIndex])")
        // The value-only path agrees with the value-and-gradient path bit for bit.
        #expect(objective.value(at: r.x) == f)
    }

    @Test func recordCountsMatchTheSchema() {
        #expect(ReferenceFile.shared.records.count == 180)
        #expect(ReferenceFile.shared.alternate_records.count == 8)
        #expect(ReferenceFile.shared.spot_values.values.count == 60)
    }

    /// f*(d) for d ∈ {2, 10, 100, 250, 500, 1000}: identical to the reference table (Michalewicz, computed by a
    /// different 1-D method, to 1e−12 relative).
    @Test(arguments: BenchmarkFunction.paperSuite)
    func fStarTableMatches(_ function: BenchmarkFunction) throws {
        let table = try #require(ReferenceFile.shared.meta.fstar[function.rawValue])
        #expect(table.count == 6)
        for (key, expected) in table {
            let d = try #require(Int(key))
            let actual = function.fStar(dimension: d)
            if function == .michalewicz {
                #expect(close(actual, expected, relative: 1e-12, absolute: 0), "d=\(d): \(actual) vs \(expected)")
            } else {
                #expect(close(actual, expected, relative: 1e-15, absolute: 0), "d=\(d): \(actual) vs \(expected)")
            }
        }
    }

    /// Appendix A: x_i = ((i mod 7) − 3)·0.3 + 0.05 (Michalewicz + 1.5).
    @Test(arguments: ReferenceFile.shared.spot_values.values)
    func spotValues(_ s: ReferenceFile.Spot) throws {
        let function = BenchmarkFunction.reference(s.function)
        let objective = try BenchmarkObjective(function, dimension: s.d)
        let shift: Double = function == .michalewicz ? 1.5 : 0
        let x: [Double] = (1...s.d).map { (i: Int) -> Double in Double((i % 7) - 3) * 0.3 + 0.05 + shift }
        let (f, g) = objective.valueAndGradient(at: x)
        #expect(close(f, s.f, relative: 1e-10, absolute: 1e-12), "\(s): f = \(f) vs \(s.f)")
        #expect(close(g.norm, s.grad_l2, relative: 1e-10, absolute: 1e-12), "\(s): ‖g‖ = \(g.norm) vs \(s.grad_l2)")
        for (k, v) in s.grad_first3.enumerated() {
            #expect(close(g[k], v, relative: 1e-10, absolute: 1e-12), "\(s): g[\(k)] = \(g[k]) vs \(v)")
        }
        #expect(close(g[s.d - 1], s.grad_last, relative: 1e-10, absolute: 1e-12), "\(s): g[d] = \(g[s.d - 1])")
    }

    /// f(x*) = f* and ∇f(x*) ≈ 0 at the stored minimizer, for d ∈ {2, 5, 37, 100} (Powell: 4, 12, 100).
    @Test(arguments: BenchmarkFunction.allCases)
    func minimizerAttainsFStar(_ function: BenchmarkFunction) throws {
        for d in function == .powell ? [4, 12, 100] : [2, 5, 37, 100] {
            let objective = try BenchmarkObjective(function, dimension: d)
            let (f, g) = objective.valueAndGradient(at: objective.minimizer)
            #expect(close(f, objective.fStar, relative: 1e-9, absolute: 1e-12), "d=\(d): f(x*) = \(f) vs \(objective.fStar)")
            let tolerance = function == .michalewicz ? 1e-6 : (function == .schwefel ? 1e-9 : 1e-12)
            #expect(g.infinityNorm <= tolerance * max(1, abs(f)), "d=\(d): ‖∇f(x*)‖∞ = \(g.infinityNorm)")
        }
    }

    /// Certified Michalewicz minima of Vanaret, Gotteland, Durand & Alliot (2020), to their printed digits.
    @Test func michalewiczCertifiedMinima() {
        let certified: [(Int, Double)] = [(20, -19.6370136), (30, -29.6308839), (50, -49.6248323), (75, -74.6218112)]
        for (d, value) in certified {
            #expect(abs(Michalewicz.minimum(dimension: d) - value) < 6e-8, "d=\(d): \(Michalewicz.minimum(dimension: d))")
        }
        // And the 1-D minima are true minima: no point of a fine grid on [0, π] is lower.
        for i in [1, 2, 7, 40, 333] {
            let m = Michalewicz.coordinateMinimum(i)
            let n = 200 * i + 20_001
            var gridBest = 0.0
            for k in 0...n { gridBest = min(gridBest, Michalewicz.h(Double.pi * Double(k) / Double(n), Double(i))) }
            #expect(m.value <= gridBest, "coordinate \(i): \(m.value) vs grid \(gridBest)")
        }
    }
}

@Suite struct BenchmarkGradientTests {
    /// Analytic gradients agree with central differences (one Richardson step) at random points.
    @Test(arguments: BenchmarkFunction.allCases)
    func gradientMatchesFiniteDifferences(_ function: BenchmarkFunction) throws {
        var generator = Xoshiro256StarStar(seed: 99)
        for d in function == .powell ? [4, 8, 40] : [2, 7, 40] {
            let objective = try BenchmarkObjective(function, dimension: d)
            let boxPoint = function == .michalewicz ? generator.uniform(0.5, 2.5, count: d) : generator.uniform(-1, 1, count: d)
            for x in [objective.randomStart(using: &generator), boxPoint] {
                let report = GradientCheck.check(objective, at: x)
                // Sum of Different Powers has |x|^(d+1) terms whose FD error is relative to tiny values; Zakharov's
                // quartic term makes values of 1e7 at domain points, where FD loses ~1e−6 relative.
                #expect(report.scaledError <= 1e-5, "d=\(d) coordinate \(report.worstCoordinate): \(report.scaledError)")
            }
        }
    }

    /// With offset o: f_o(x* + o) = f*, and ∇f_o(x) = ∇f(x − o).
    @Test(arguments: BenchmarkFunction.paperSuite)
    func offsetsMoveTheMinimizerNotTheMinimum(_ function: BenchmarkFunction) throws {
        var generator = Xoshiro256StarStar(seed: 5)
        let d = 9
        let o = generator.uniform(-1, 1, count: d)
        let shifted = try BenchmarkObjective(function, dimension: d, offset: o)
        let plain = try BenchmarkObjective(function, dimension: d)
        #expect(close(shifted.value(at: shifted.minimizer), plain.fStar, relative: 1e-9, absolute: 1e-9))
        let x = shifted.randomStart(using: &generator)
        #expect(shifted.isInDomain(x))
        let (f1, g1) = shifted.valueAndGradient(at: x)
        let (f2, g2) = plain.valueAndGradient(at: zip(x, o).map { $0 - $1 })
        #expect(f1 == f2 && g1 == g2)
    }

    @Test func badInputIsRejectedNamingTheField() {
        #expect(throws: ObjectiveError.invalidDimension(function: .powell, dimension: 6)) {
            try BenchmarkObjective(.powell, dimension: 6)
        }
        #expect(throws: ObjectiveError.invalidDimension(function: .sphere, dimension: 1)) {
            try BenchmarkObjective(.sphere, dimension: 1)
        }
        #expect(throws: ObjectiveError.wrongLength(field: "offset", expected: 3, actual: 2)) {
            try BenchmarkObjective(.sphere, dimension: 3, offset: [1, 2])
        }
        #expect(throws: ObjectiveError.nonFinite(field: "offset")) {
            try BenchmarkObjective(.sphere, dimension: 2, offset: [1, .infinity])
        }
        #expect(ObjectiveError.invalidDimension(function: .sphere, dimension: 1).description.hasPrefix("dimension:"))
        #expect(ObjectiveError.unknownFunction("foo").description.contains("styblinski_tang"))
        #expect(BenchmarkFunction(name: "Rotated Hyper-Ellipsoid") == .rotatedHyperEllipsoid)
        #expect(BenchmarkFunction(name: "sum-squares") == .sumSquares)
    }
}

@Suite struct AdapterTests {
    @Test func differentiableObjectiveMatchesTheAnalyticGradient() throws {
        let auto = DifferentiableObjective(dimension: 6, rosenbrockForAutodiff)
        let analytic = try BenchmarkObjective(.rosenbrock, dimension: 6)
        let x = [-1.2, 1, 0.3, -0.7, 2, 0.5]
        let (fa, ga) = auto.valueAndGradient(at: x)
        let (fb, gb) = analytic.valueAndGradient(at: x)
        #expect(close(fa, fb, relative: 1e-14, absolute: 0))
        for k in 0..<6 { #expect(close(ga[k], gb[k], relative: 1e-13, absolute: 1e-13)) }
        // A constant function has a zero (possibly empty) tangent: the adapter returns d zeros.
        let constant = DifferentiableObjective(dimension: 3) { _ in 4 }
        #expect(constant.valueAndGradient(at: [1, 2, 3]).gradient == [0, 0, 0])
    }

    @Test func countingObjectiveCountsConcurrentCalls() async throws {
        let counted = CountingObjective(try BenchmarkObjective(.sphere, dimension: 3))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { for _ in 0..<250 { _ = counted.valueAndGradient(at: [1, 2, 3]) } } }
        }
        #expect(counted.gradientEvaluations == 2000 && counted.valueEvaluations == 0)
        _ = counted.value(at: [0, 0, 0])
        #expect(counted.totalEvaluations == 2001)
    }
}
