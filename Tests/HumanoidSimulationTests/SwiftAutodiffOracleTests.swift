import _Differentiation
import Foundation
import OptimusNumerics
import Testing
@testable import HumanoidSimulation

/// The simulator and its hand-made adjoint against Swift's `_Differentiation` applied to an independent
/// implementation of the same step (`SwiftADReferenceStep`: mass matrix by Newton–Euler and an LU solve instead of
/// the articulated-body algorithm), on a short horizon with ground contact and PD control active.
@Suite struct SwiftAutodiffOracleTests {
    static let horizon = 20

    /// The same contact state as the step-adjoint tests: feet in the ground, every joint moving.
    static func setUp() throws -> (Simulator, SwiftADReferenceStep, [Double], [Double]) {
        let (sim, x, u) = try StepAdjointTests.contactState()
        return (sim, SwiftADReferenceStep(sim), x, u)
    }

    @Test func linearSolvePullbackMatchesFiniteDifferences() {
        var g = Xoshiro256StarStar(seed: 4)
        let n = 5
        var a = (0..<(n * n)).map { _ in g.normal() }
        for k in 0..<n { a[k * n + k] += 4 }
        let b = (0..<n).map { _ in g.normal() }
        let weights = (0..<n).map { _ in g.normal() }
        func f(_ a: [Double], _ b: [Double]) -> Double {
            zip(solveColumnMajorValue(a, b), weights).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let (ga, gb) = gradient(at: a, b) { a, b -> Double in
            let y = solveColumnMajor(a, b)
            var s = 0.0
            for k in 0..<n { s += y[k] * weights[k] }
            return s
        }
        // A y = b column-major: check the value itself, then both pullbacks against central differences.
        let y = solveColumnMajorValue(a, b)
        for row in 0..<n {
            var s = 0.0
            for column in 0..<n { s += a[column * n + row] * y[column] }
            #expect(abs(s - b[row]) < 1e-12)
        }
        let h = 1e-6
        for k in [0, 7, 13, 24] {
            var p = a, m = a
            p[k] += h
            m[k] -= h
            let fd = (f(p, b) - f(m, b)) / (2 * h)
            #expect(abs(ga.base[k] - fd) < 1e-8, "∂/∂a[\(k)]")
        }
        for k in 0..<n {
            var p = b, m = b
            p[k] += h
            m[k] -= h
            let fd = (f(a, p) - f(a, m)) / (2 * h)
            #expect(abs(gb.base[k] - fd) < 1e-8, "∂/∂b[\(k)]")
        }
    }

    /// Two implementations of the dynamics (articulated-body algorithm vs. mass matrix + LU) give the same rollout.
    @Test func referenceStepReproducesTheSimulator() throws {
        let (sim, reference, x0, u) = try Self.setUp()
        var a = x0, b = x0
        var worst = 0.0
        for _ in 0..<Self.horizon {
            a = sim.step(a, target: u)
            b = reference.step(b, u)
            for (p, q) in zip(a, b) { worst = max(worst, abs(p - q) / max(1, abs(p))) }
        }
        print("[swift AD oracle] \(Self.horizon)-step rollout, simulator vs reference: worst difference \(worst)")
        #expect(worst < 1e-10)
        #expect(a.count == x0.count && a != x0)
    }

    /// Gradient of a scalar of the state after `horizon` steps with respect to the initial state and the PD target:
    /// Swift autodiff through the reference equals the simulator's step adjoint chained over the rollout.
    @Test func swiftAutodiffGradientEqualsTheStepAdjoint() throws {
        let (sim, reference, x0, u) = try Self.setUp()
        var g = Xoshiro256StarStar(seed: 21)
        let weights = (0..<x0.count).map { _ in g.normal() }
        let count = x0.count
        let horizon = Self.horizon
        let (gx, gu) = gradient(at: x0, u) { x0, u -> Double in
            var x = x0
            for _ in 0..<horizon { x = reference.step(x, u) }
            var s = 0.0
            for k in 0..<count { s += x[k] * weights[k] }
            return s
        }
        // The simulator's adjoint: states forward, step adjoints backward, target cotangents summed over steps.
        var states = [x0]
        for _ in 0..<horizon { states.append(sim.step(states.last!, target: u)) }
        let tape = Tape()
        var cotangent = weights
        var targetCotangent = [Double](repeating: 0, count: u.count)
        for k in stride(from: horizon - 1, through: 0, by: -1) {
            let (xb, ub) = sim.stepAdjoint(states[k], target: u, cotangent: cotangent, tape: tape)
            cotangent = xb
            for j in u.indices { targetCotangent[j] += ub![j] }
        }
        func relative(_ a: [Double], _ b: [Double]) -> Double {
            let scale = b.map(abs).max()!
            return zip(a, b).map { abs($0 - $1) }.max()! / scale
        }
        let errorState = relative(cotangent, gx.base), errorTarget = relative(targetCotangent, gu.base)
        print("[swift AD oracle] \(horizon) steps: ∂/∂x₀ relative error \(errorState), ∂/∂u \(errorTarget)")
        #expect(gx.base.count == x0.count && gu.base.count == u.count)
        #expect(errorState < 1e-8)
        #expect(errorTarget < 1e-8)
    }
}
