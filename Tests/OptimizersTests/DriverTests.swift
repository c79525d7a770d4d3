import Objectives
import OptimusNumerics
import Testing
@testable import Optimizers

@Suite struct DriverTests {
    let quadratic = Quadratic(a: [1, 2, 5, 10, 20], c: [1, -1, 0.5, 2, -3])

    @Test func askTellIsBitIdenticalToMinimize() throws {
        let objective = try BenchmarkObjective(.rosenbrock, dimension: 10)
        let x0 = [Double](repeating: -1.5, count: 10)
        for optimizer in [AnyOptimizer(LBFGS()), AnyOptimizer(BFGS()), AnyOptimizer(Adam(learningRate: 0.05))] {
            let options = MinimizationOptions(maxIterations: 60, recordTrace: true, recordIterates: true)
            let direct = try minimize(objective, from: x0, using: optimizer, options: options)
            var run = try Minimization(optimizer: optimizer, start: x0, options: options)
            while let x = run.nextPoint {
                let (f, g) = objective.valueAndGradient(at: x)
                run.tell(value: f, gradient: g)
            }
            let driven = run.result
            #expect(driven.trace == direct.trace, "\(optimizer.name)")
            #expect(driven.x == direct.x && driven.value == direct.value)
            #expect(driven.functionEvaluations == direct.functionEvaluations)
        }
    }

    @Test func iterationAndEvaluationLimitsAreExact() throws {
        let r1 = try minimize(quadratic, from: [0, 0, 0, 0, 0], using: Adam(learningRate: 0.01),
                              options: .init(maxIterations: 37, gradientTolerance: 0))
        #expect(r1.iterations == 37 && r1.functionEvaluations == 38 && r1.termination == .iterationLimit)
        let r2 = try minimize(quadratic, from: [0, 0, 0, 0, 0], using: BFGS(),
                              options: .init(maxEvaluations: 5, gradientTolerance: 0))
        #expect(r2.functionEvaluations == 5 && r2.termination == .evaluationLimit)
    }

    @Test func gradientToleranceStopsAtTheMinimum() throws {
        let r = try minimize(quadratic, from: [0, 0, 0, 0, 0], using: LBFGS(), options: .init(gradientTolerance: 1e-10))
        #expect(r.termination == .gradientTolerance)
        #expect(r.finalGradientNorm <= 1e-10)
        for i in 0..<5 { #expect(abs(r.x[i] - quadratic.c[i]) < 1e-10) }
    }

    @Test func stoppingRuleFiresWhenValueExceedsTheWindowMean() {
        let rule = StoppingRule(window: 5)
        #expect(!rule.fires(current: 10, previous: [1, 2, 3, 4]))  // fewer than N values: never
        #expect(!rule.fires(current: 3, previous: [1, 2, 3, 4, 5]))  // 3 = mean: not above
        #expect(rule.fires(current: 3.0000001, previous: [1, 2, 3, 4, 5]))
        #expect(!StoppingRule(window: 5, beta: 1, epsilon: 0.5).fires(current: 3.4, previous: [1, 2, 3, 4, 5]))
        #expect(StoppingRule(window: 2, beta: 2).fires(current: 9.5, previous: [100, 4, 5]))  // 2·(4+5)/2 = 9
    }

    @Test func stoppingRuleEndsAnOscillatingRun() throws {
        // GD with lr beyond 2/a_max oscillates with growing amplitude: f rises, and the rule fires at iteration 5.
        let r = try minimize(quadratic, from: [0, 0, 0, 0, 0], using: GradientDescent(learningRate: 0.11),
                             options: .init(maxIterations: 100, stoppingRule: .paper, recordTrace: true))
        #expect(r.termination == .stoppingRule)
        #expect(r.iterations == 5)
        let values = try #require(r.trace).map(\.value)
        #expect(values[5] > values[0..<5].reduce(0, +) / 5)
    }

    @Test func nonFiniteValuesAreAReportedOutcome() throws {
        // Adam walks out of the evaluable region: the run ends, the best finite point is returned.
        let far = Quadratic(a: [1, 1], c: [100, 100])
        let guarded = NaNOutside(base: far, radius: 3)
        let r = try minimize(guarded, from: [0, 0], using: Adam(learningRate: 0.5), options: .init(maxIterations: 500))
        #expect(r.termination == .nonFiniteObjective)
        #expect(r.value.isFinite && r.x.allSatisfy { abs($0) <= 3 })
        #expect(r.value == guarded.value(at: r.x))
        // BFGS backs off from NaN trial points and converges to the boundary region's best.
        let b = try minimize(NaNOutside(base: quadratic, radius: 50), from: [40, 40, 40, 40, 40], using: BFGS())
        #expect(b.termination == .gradientTolerance)
        #expect(b.value < 1e-12)
        // A start where f is NaN ends at once, without a crash or a loop.
        let n = try minimize(NaNOutside(base: quadratic, radius: 1), from: [5, 5, 5, 5, 5], using: LBFGS())
        #expect(n.termination == .nonFiniteObjective && n.functionEvaluations == 1 && n.value.isNaN)
    }

    @Test func badInputThrowsNamingTheField() {
        #expect(throws: OptimizationError.wrongLength(field: "x0", expected: 5, actual: 2)) {
            try minimize(quadratic, from: [0, 0], using: BFGS())
        }
        #expect(throws: OptimizationError.nonFiniteStart(field: "x0")) {
            try minimize(quadratic, from: [0, .nan, 0, 0, 0], using: BFGS())
        }
        do {
            _ = try minimize(quadratic, from: [0, 0, 0, 0, 0], using: BFGS(), options: .init(maxIterations: -1))
            Issue.record("negative budget accepted")
        } catch {
            #expect(error.description.hasPrefix("maxIterations:"))
        }
        #expect(throws: OptimizationError.self) {
            try OptimizerCatalog.classical(named: "adam", learningRate: -1)
        }
        do {
            _ = try OptimizerCatalog.classical(named: "newton")
        } catch {
            #expect(error.description.contains("gd, momentum, adam, bfgs, lbfgs"))
        }
    }

    @Test func countingObjectiveAgreesWithTheDriver() throws {
        let counted = CountingObjective(quadratic)
        let r = try minimize(counted, from: [3, 3, 3, 3, 3], using: BFGS())
        #expect(counted.gradientEvaluations == r.functionEvaluations)
        #expect(counted.valueEvaluations == 0)
    }

    @Test func callbackCanStopTheRun() throws {
        let r = try minimize(quadratic, from: [0, 0, 0, 0, 0], using: Adam(), options: .init(maxIterations: 100)) {
            $0.iteration >= 7
        }
        #expect(r.termination == .callback && r.iterations == 7)
    }
}

@Suite struct QuasiNewtonInvariantTests {
    @Test func bfgsInverseHessianStaysSymmetricPositiveDefinite() throws {
        let objective = try BenchmarkObjective(.rosenbrock, dimension: 6)
        var run = try Minimization(optimizer: BFGS(), start: [Double](repeating: -1, count: 6),
                                   options: .init(maxIterations: 40))
        while let x = run.nextPoint {
            let (f, g) = objective.valueAndGradient(at: x)
            run.tell(value: f, gradient: g)
            let h = run.state.model.matrix
            #expect(h.asymmetry! <= 1e-10 * h.frobeniusNorm)
        }
        // Positive definite: Cholesky succeeds.
        let h = run.state.model.matrix
        var l = [Double](repeating: 0, count: 36)
        for i in 0..<6 {
            for j in 0...i {
                var s = h[i, j]
                for k in 0..<j { s -= l[i * 6 + k] * l[j * 6 + k] }
                if i == j {
                    #expect(s > 0, "pivot \(i) = \(s)")
                    l[i * 6 + i] = s.squareRoot()
                } else {
                    l[i * 6 + j] = s / l[j * 6 + j]
                }
            }
        }
    }

    @Test func lbfgsTwoLoopEqualsExplicitBFGSProduct() {
        // With m ≥ k pairs, the two-loop recursion equals k BFGS updates of H₀ = γI applied as matrices.
        var generator = Xoshiro256StarStar(seed: 3)
        let n = 7
        var model = LimitedMemoryInverseHessian(memory: 5)
        var pairs: [([Double], [Double])] = []
        let spd = Quadratic(a: (0..<n).map { Double($0) + 1 }, c: [Double](repeating: 0, count: n))
        for _ in 0..<4 {
            let s = generator.uniform(-1, 1, count: n)
            let y = spd.gradient(at: s)  // y = A s for a quadratic: curvature always positive
            let accepted = model.update(step: s, gradientChange: y)
            #expect(accepted)
            pairs.append((s, y))
        }
        let last = pairs.last!
        let gamma = last.0.dot(last.1) / last.1.dot(last.1)
        var h = Matrix<Double>.identity(n, scaledBy: gamma)
        for (s, y) in pairs {
            let rho = 1 / s.dot(y)
            let hy = BLAS.gemv(h, y)
            let yhy = y.dot(hy)
            BLAS.ger(-rho, hy, s, &h)
            BLAS.ger(-rho, s, hy, &h)
            BLAS.ger(rho * rho * yhy + rho, s, s, &h)
        }
        let g = generator.uniform(-1, 1, count: n)
        let expected = BLAS.gemv(h, g).scaled(by: -1)
        let actual = model.direction(for: g)
        for i in 0..<n { #expect(abs(actual[i] - expected[i]) <= 1e-12 * max(1, abs(expected[i]))) }
    }
}

@Suite struct LearningRateSearchTests {
    @Test func gdOnSpherePicksTheRateClosestToOneHalf() throws {
        // GD on Σxᵢ² contracts by |1 − 2·lr| per step: lr = 1/2 is exact, and logspace(−6, 0, 100)[94] = 10^(−0.303)
        // ≈ 0.4977 is the grid rate closest to it in |1 − 2·lr|.
        let sphere = try BenchmarkObjective(.sphere, dimension: 4)
        var generator = Xoshiro256StarStar(seed: 11)
        let starts = (0..<3).map { _ in sphere.randomStart(using: &generator) }
        let result = try LearningRateSearch(options: .init(maxIterations: 20, gradientTolerance: 0))
            .tune(sphere, starts: starts) { GradientDescent(learningRate: $0) }
        #expect(result.bestRate == Statistics.logspace(-6, 0, count: 100)[94])
        #expect(!result.allDiverged && !result.atGridEdge)
        // Rates above 1 diverge on this problem: lr = 1 gives |1 − 2| = 1, a bounded oscillation, not a NaN.
        #expect(result.meanFinalValues.last!.isFinite)
    }

    @Test func divergingRatesGetInfiniteMeans() throws {
        // On Zakharov d = 10 from domain starts GD-momentum overflows for every rate (scipy-baselines.md): all +∞.
        let zakharov = try BenchmarkObjective(.zakharov, dimension: 10)
        var generator = Xoshiro256StarStar(seed: 5)
        let starts = (0..<2).map { _ in zakharov.randomStart(using: &generator) }
        let result = try LearningRateSearch(rates: [1e-6, 1e-3, 1], options: .init(maxIterations: 100, gradientTolerance: 0))
            .tune(zakharov, starts: starts) { Momentum(learningRate: $0) }
        #expect(result.allDiverged)
        #expect(result.meanFinalValues.allSatisfy { $0 == .infinity })
        #expect(result.bestRate == 1e-6)
    }
}

@Suite struct BasinHoppingTests {
    @Test func hoppingFindsALowerMinimumThanOneLocalSearch() throws {
        let rastrigin = try BenchmarkObjective(.rastrigin, dimension: 2)
        let x0 = [3.3, -2.7]
        let local = try minimize(rastrigin, from: x0, using: LBFGS(), options: .init(maxIterations: 400))
        let hopping = BasinHopping(local: LBFGS(), localIterations: 20, stepSize: 1.0, temperature: 1, seed: 9)
        let global = try minimize(rastrigin, from: x0, using: hopping, options: .init(maxIterations: 400))
        #expect(local.value > 10)  // the nearest basin: f ≈ 2·9 = 18
        #expect(global.value < local.value - 5)
        #expect(global.iterations == 400 && global.termination == .iterationLimit)
        // Same seed, same result.
        let again = try minimize(rastrigin, from: x0, using: hopping, options: .init(maxIterations: 400))
        #expect(again.value == global.value && again.x == global.x)
    }
}

@Suite struct RestartOnIncreaseTests {
    let quadratic = Quadratic(a: [1, 100], c: [0, 0])

    /// Where the method's values never rise above the margin, the wrapper changes nothing: the same iterates, values
    /// and evaluation counts.
    @Test func transparentWhileTheMethodDescends() throws {
        let options = MinimizationOptions(maxIterations: 60, recordTrace: true, recordIterates: true)
        let plain = try minimize(quadratic, from: [1, 1], using: GradientDescent(learningRate: 0.0199), options: options)
        let guarded = try minimize(quadratic, from: [1, 1],
                                   using: RestartOnIncrease(local: GradientDescent(learningRate: 0.0199), margin: 0.25),
                                   options: options)
        #expect(guarded.trace == plain.trace)
        #expect(guarded.functionEvaluations == plain.functionEvaluations)
    }

    /// A step that overshoots (gradient descent past 2/L on the stiff coordinate: f grows by 1.21 per step once that
    /// coordinate dominates) is undone: no recorded iterate is worse than (1 + margin) × the best so far, a restart
    /// costs no evaluation, and the run ends at the best point the plain method ever reached instead of diverging.
    @Test func overshootIsUndoneWithoutExtraEvaluations() throws {
        let options = MinimizationOptions(maxIterations: 80, recordTrace: true)
        let method = GradientDescent(learningRate: 0.021)
        let plain = try minimize(quadratic, from: [1, 0.01], using: method, options: options)
        let guarded = try minimize(quadratic, from: [1, 0.01], using: RestartOnIncrease(local: method, margin: 0.25),
                                   options: options)
        let trace = try #require(guarded.trace), plainTrace = try #require(plain.trace)
        #expect(plainTrace.last!.value > 10 * plainTrace.map(\.value).min()!, "the plain run should diverge")
        var best = Double.infinity
        for entry in trace {
            #expect(entry.value <= 1.25 * best || best == .infinity, "iteration \(entry.iteration): \(entry.value)")
            best = min(best, entry.value)
        }
        #expect(guarded.functionEvaluations == guarded.iterations + 1)
        #expect(guarded.value == plainTrace.map(\.value).min())
    }

    /// A step into a region where the objective is not finite ends the plain run; the wrapper restarts from the best
    /// point and runs to its budget with a finite result.
    @Test func nonFiniteStepRestartsInsteadOfStopping() throws {
        let walled = NaNOutside(base: quadratic, radius: 2)
        let method = GradientDescent(learningRate: 0.021)
        let plain = try minimize(walled, from: [1, 0.01], using: method, options: .init(maxIterations: 200))
        let guarded = try minimize(walled, from: [1, 0.01], using: RestartOnIncrease(local: method, margin: 0.25),
                                   options: .init(maxIterations: 200))
        #expect(plain.termination == .nonFiniteObjective)
        #expect(guarded.termination == .iterationLimit)
        #expect(guarded.value.isFinite && guarded.value <= plain.value)
    }
}
