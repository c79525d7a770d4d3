import Foundation
import OptimusNumerics
import Testing
@testable import HumanoidSimulation
import HumanoidTestSupport

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
        // A tape that must grow many times gives the same adjoint.
        let small = Tape(capacity: 16)
        let bar = (0..<x.count).map { Double($0 % 7) - 3 }
        #expect(sim.stepAdjoint(x, target: u, cotangent: bar, tape: small).state
            == sim.stepAdjoint(x, target: u, cotangent: bar, tape: tape).state)
    }
}

@Suite struct RootResidualTests {
    /// A residual force of one body weight straight up on the root cancels gravity: the total linear momentum gained
    /// over a short step is the net external force times the step — zero with the residual, M·g·dt without.
    @Test func residualForceOfOneBodyWeightCancelsGravity() throws {
        var c = Simulator.Configuration()
        c.contact = false
        c.control = false
        c.rootResidual = true
        c.integrator = .rungeKutta4
        c.timeStep = 1e-5
        let sim = Simulator(humanoid: TestData.humanoid, configuration: c)
        #expect(sim.layout.targetCount == 42 && sim.layout.residualOffset == 36)
        var pose = try TestData.clip("walk").poses[0]
        pose.rotations[0] = .identity  // root frame = world frame
        let x = sim.flatten(SimulationState(resting: pose))
        let weight = TestData.humanoid.totalMass * 9.81
        func momentumGain(_ force: Double) -> Double {
            var u = [Double](repeating: 0, count: 42)
            u[40] = force  // force along the root's y = world up, in body weights
            return norm(sim.momentum(sim.unflatten(sim.rk4(x, target: u))).linear) / (weight * c.timeStep)
        }
        let held = momentumGain(1), falling = momentumGain(0), pushed = momentumGain(2)
        print("[root residual] momentum gain / (M·g·dt): residual 1 → \(held), 0 → \(falling), 2 → \(pushed)")
        #expect(held < 1e-6 && abs(falling - 1) < 1e-6 && abs(pushed - 1) < 1e-6)
    }
}
