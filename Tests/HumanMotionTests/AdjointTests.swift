import Foundation
import OptimusNumerics
import Testing
@testable import HumanMotion

@Suite struct StepAdjointTests {
    /// A state in ground contact with every joint moving, and a PD target from another frame.
    static func contactState() throws -> (Simulator, [Double], [Double]) {
        let sim = Simulator(humanoid: TestData.humanoid)
        let walk = try TestData.clip("walk")
        var g = Xoshiro256StarStar(seed: 17)
        var s = SimulationState(resting: walk.poses[2])
        s.pose.rootPosition.y -= 0.01  // feet slightly in the ground: contact forces active
        for i in s.velocities.indices { s.velocities[i] = Vec3(g.uniform(-1, 1), g.uniform(-1, 1), g.uniform(-1, 1)) }
        s.rootLinearVelocity = Vec3(0.8, -0.1, 0.05)
        return (sim, sim.flatten(s), sim.flattenTarget(walk.poses[8]))
    }

    @Test func adjointEqualsTangentAndFiniteDifferences() throws {
        let (sim, x, u) = try Self.contactState()
        var g = Xoshiro256StarStar(seed: 3)
        let tape = Tape()
        for trial in 0..<3 {
            let bar = (0..<x.count).map { _ in g.normal() }
            let dx = (0..<x.count).map { _ in g.normal() }
            let du = (0..<u.count).map { _ in g.normal() }
            let (xb, ub) = sim.stepAdjoint(x, target: u, cotangent: bar, tape: tape)
            let adjointSide = dotProduct(xb, dx) + dotProduct(ub!, du)
            let tangent = sim.stepTangent(x, target: u, dx: dx, du: du)
            let tangentSide = dotProduct(bar, tangent)
            #expect(abs(adjointSide - tangentSide) <= 1e-10 * abs(tangentSide), "trial \(trial)")
            // Central differences along (dx, du).
            let h = 1e-6
            let plus: [Double] = sim.step(zip(x, dx).map { $0 + h * $1 }, target: zip(u, du).map { $0 + h * $1 })
            let minus: [Double] = sim.step(zip(x, dx).map { $0 - h * $1 }, target: zip(u, du).map { $0 - h * $1 })
            let difference: [Double] = zip(plus, minus).map { ($0 - $1) / (2 * h) }
            let fd = dotProduct(bar, difference)
            print("[step adjoint] trial \(trial): adjoint \(adjointSide), tangent \(tangentSide), central FD \(fd)")
            #expect(abs(adjointSide - fd) <= 1e-6 * abs(fd))
        }
        print("[step adjoint] tape length \(tape.count) entries per step")
    }
}

func dotProduct(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

@Suite struct WindowGradientTests {
    static func quarterSecondWindow() throws -> ReconstructionWindow {
        let sim = Simulator(humanoid: TestData.humanoid)
        let observed = ObservedClip(clip: try TestData.clip("walk"), humanoid: TestData.humanoid, seed: 5)
        var options = ReconstructionOptions()
        options.windowSeconds = 0.25
        var w = Reconstructor.window(observed, simulator: sim, start: 0, duration: 0.25,
                                     initialState: Reconstructor.initialState(observed, simulator: sim), options: options)
        w.checkpointInterval = 16
        return w
    }

    /// The rollout adjoint against central differences of the loss: along random directions, and per coordinate for
    /// a sample of parameters, on a 0.25 s window (120 steps, 5 keyframes × 36 targets) with contacts.
    @Test func windowGradientMatchesCentralDifferences() throws {
        let w = try Self.quarterSecondWindow()
        #expect(w.steps == 120 && w.dimension == 5 * 36 && w.observedSteps.count == 7)
        var g = Xoshiro256StarStar(seed: 8)
        // Away from the initial point, so every loss term is active.
        let theta = w.initialParameters.map { $0 + 0.05 * g.normal() }
        var gradient = [Double]()
        let value = w.valueAndGradient(at: theta, gradient: &gradient)
        #expect(value.isFinite && value > 0)
        let h = 1e-6
        for trial in 0..<2 {
            let d = (0..<w.dimension).map { _ in g.normal() }
            let plus = w.value(at: zip(theta, d).map { $0 + h * $1 })
            let minus = w.value(at: zip(theta, d).map { $0 - h * $1 })
            let fd = (plus - minus) / (2 * h)
            let analytic = dotProduct(gradient, d)
            print("[window gradient] direction \(trial): adjoint \(analytic), central FD \(fd)")
            #expect(abs(analytic - fd) <= 1e-5 * abs(fd))
        }
        var worst = 0.0
        for i in stride(from: 0, to: w.dimension, by: 23) {
            var p = theta, m = theta
            p[i] += h
            m[i] -= h
            let fd = (w.value(at: p) - w.value(at: m)) / (2 * h)
            let scale = max(abs(fd), 1e-3 * gradient.map(abs).max()!)
            worst = max(worst, abs(gradient[i] - fd) / scale)
        }
        print("[window gradient] worst coordinate error \(worst)")
        #expect(worst <= 1e-5)
    }

    /// Checkpointing changes memory, not the result.
    @Test func checkpointIntervalDoesNotChangeTheGradient() throws {
        var w = try Self.quarterSecondWindow()
        var a = [Double](), b = [Double]()
        w.checkpointInterval = 1
        let va = w.valueAndGradient(at: w.initialParameters, gradient: &a)
        w.checkpointInterval = 50
        let vb = w.valueAndGradient(at: w.initialParameters, gradient: &b)
        #expect(va == vb && a == b)
    }
}
