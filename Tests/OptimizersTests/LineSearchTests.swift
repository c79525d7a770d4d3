import Foundation
import Testing
@testable import Optimizers

/// Drives a line search on a 1-D function until it finishes.
func runLineSearch<L: LineSearch>(_ search: L, _ f: LineFunction, initialStep: Double) -> (LineSearchOutcome, Int) {
    let (phi0, dphi0) = f.phi(0)
    var state = search.start(value0: phi0, derivative0: dphi0, initialStep: initialStep)
    while true {
        let (p, d) = f.phi(state.step)
        let outcome = search.update(&state, phi: p, derivative: d)
        if outcome != .evaluate { return (outcome, state.evaluations) }
    }
}

// Test functions of Moré & Thuente (1994), Table 1 and 2: φ₁(α) = −α/(α² + β), β = 2;
// φ₂(α) = (α + β)⁵ − 2(α + β)⁴, β = 0.004; plus a steep quadratic and one that is NaN beyond α = 0.3.
let lineFunctions: [LineFunction] = [
    LineFunction(name: "more-thuente-1") { a in (-a / (a * a + 2), (a * a - 2) / ((a * a + 2) * (a * a + 2))) },
    LineFunction(name: "more-thuente-2") { a in
        let t = a + 0.004
        return (pow(t, 5) - 2 * pow(t, 4), 5 * pow(t, 4) - 8 * pow(t, 3))
    },
    LineFunction(name: "steep-quadratic") { a in (1e4 * (a - 1e-3) * (a - 1e-3), 2e4 * (a - 1e-3)) },
    LineFunction(name: "nan-beyond-0.3") { a in a > 0.3 ? (.nan, .nan) : ((a - 0.2) * (a - 0.2), 2 * (a - 0.2)) },
]

@Suite struct StrongWolfeTests {
    @Test(arguments: lineFunctions, [1e-3, 0.1, 1, 10, 1000])
    func acceptedStepSatisfiesStrongWolfe(f: LineFunction, initialStep: Double) {
        let search = StrongWolfeLineSearch(c1: 1e-4, c2: 0.1, maxEvaluations: 60)
        let (outcome, evaluations) = runLineSearch(search, f, initialStep: initialStep)
        guard case .done(let step) = outcome else {
            Issue.record("\(f.name) from α₀ = \(initialStep): \(outcome)")
            return
        }
        let (phi0, dphi0) = f.phi(0)
        let (p, d) = f.phi(step)
        #expect(p <= phi0 + 1e-4 * step * dphi0, "sufficient decrease, \(f.name) α₀=\(initialStep)")
        #expect(abs(d) <= 0.1 * abs(dphi0), "curvature, \(f.name) α₀=\(initialStep) α=\(step) φ'=\(d)")
        #expect(evaluations <= 25, "\(f.name) α₀=\(initialStep) took \(evaluations) evaluations")
    }

    @Test func failsWhenNoDecreaseExists() {
        // φ'(0) claims descent but φ only grows: no step has sufficient decrease.
        let liar = LineFunction(name: "liar") { a in (a, -1) }
        let (outcome, evaluations) = runLineSearch(StrongWolfeLineSearch(maxEvaluations: 20), liar, initialStep: 1)
        #expect(outcome == .failed)
        #expect(evaluations <= 20)
    }
}

@Suite struct BacktrackingTests {
    @Test(arguments: lineFunctions)
    func acceptedStepHasSufficientDecrease(f: LineFunction) {
        let (outcome, _) = runLineSearch(BacktrackingLineSearch(), f, initialStep: 1)
        guard case .done(let step) = outcome else {
            Issue.record("\(f.name): \(outcome)")
            return
        }
        let (phi0, dphi0) = f.phi(0)
        #expect(f.phi(step).0 <= phi0 + 1e-4 * step * dphi0)
    }

    @Test func interpolationIsExactOnAQuadratic() {
        // φ(α) = (α − 0.25)²: from α = 1 the safeguarded quadratic step lands on the minimizer 0.25 exactly.
        var state = BacktrackingLineSearch().start(value0: 0.0625, derivative0: -0.5, initialStep: 1)
        let outcome = BacktrackingLineSearch().update(&state, phi: 0.5625, derivative: 1.5)
        #expect(outcome == .evaluate)
        #expect(state.step == 0.25)
    }
}

@Suite struct InterpolationTests {
    @Test func cubicMinimizerRecoversACubicsMinimum() {
        // p(t) = t³ − 3t has its local minimum at t = 1.
        let p = { (t: Double) in t * t * t - 3 * t }
        let dp = { (t: Double) in 3 * t * t - 3 }
        let m = cubicMinimizer(0, p(0), dp(0), 2, p(2), dp(2))
        #expect(m != nil)
        #expect(abs(m! - 1) < 1e-12)
    }
}
