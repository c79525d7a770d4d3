import Foundation
import OptimusNumerics
import Testing
@testable import HumanoidSimulation
import HumanoidTestSupport

@Suite struct DynamicsTests {
    static func freeFlightSimulator(_ integrator: Simulator.Integrator) -> Simulator {
        var c = Simulator.Configuration()
        c.gravity = .zero
        c.contact = false
        c.control = false
        c.integrator = integrator
        return Simulator(humanoid: TestData.humanoid, configuration: c)
    }

    /// A tumbling body with every joint moving: random seeded velocities around the first walk frame.
    static func tumblingState() throws -> SimulationState {
        var g = Xoshiro256StarStar(seed: 21)
        var s = SimulationState(resting: try TestData.clip("walk").poses[0])
        s.pose.rootPosition.y = 2
        for i in s.velocities.indices { s.velocities[i] = Vec3(g.uniform(-2, 2), g.uniform(-2, 2), g.uniform(-2, 2)) }
        s.rootLinearVelocity = Vec3(0.5, 1, -0.3)
        return s
    }

    @Test func freeFlightConservesMomentumAndEnergy() throws {
        let sim = Self.freeFlightSimulator(.rungeKutta4)
        var s = try Self.tumblingState()
        let start = sim.momentum(s)
        for _ in 0..<480 { s = sim.step(s, target: nil) }  // 1 s at 1/480 s
        let end = sim.momentum(s)
        let linear = norm(end.linear - start.linear) / norm(start.linear)
        let angular = norm(end.angular - start.angular) / norm(start.angular)
        let energy = abs(end.kineticEnergy - start.kineticEnergy) / start.kineticEnergy
        print("[free flight, RK4, 1 s] relative drift: linear \(linear), angular \(angular), energy \(energy)")
        #expect(linear < 1e-6 && angular < 1e-6 && energy < 1e-6)
    }

    @Test func semiImplicitEulerStaysCloseInFreeFlight() throws {
        let sim = Self.freeFlightSimulator(.semiImplicitEuler)
        var s = try Self.tumblingState()
        let start = sim.momentum(s)
        for _ in 0..<480 { s = sim.step(s, target: nil) }
        let end = sim.momentum(s)
        let energy = abs(end.kineticEnergy - start.kineticEnergy) / start.kineticEnergy
        let linear = norm(end.linear - start.linear) / norm(start.linear)
        print("[free flight, semi-implicit Euler, 1 s] relative drift: linear \(linear), energy \(energy)")
        #expect(energy < 0.05 && linear < 0.05)  // first-order method on a fast tumble: percent-level drift, documented
    }

    @Test func freeFallFollowsHalfGTSquared() throws {
        var c = Simulator.Configuration()
        c.contact = false
        c.control = false
        c.integrator = .rungeKutta4
        let sim = Simulator(humanoid: TestData.humanoid, configuration: c)
        var s = try Self.tumblingState()
        let v0 = sim.momentum(s).linear / TestData.humanoid.totalMass
        let com0 = centerOfMass(sim, s)
        for _ in 0..<240 { s = sim.step(s, target: nil) }
        let t = 0.5
        let expected = com0 + t * v0 + 0.5 * t * t * Vec3(0, -9.81, 0)
        #expect(norm(centerOfMass(sim, s) - expected) < 1e-9)
    }

    func centerOfMass(_ sim: Simulator, _ s: SimulationState) -> Vec3 {
        let frames = sim.humanoid.frames(s.pose)
        var c = Vec3.zero
        for (i, b) in sim.humanoid.bodies.enumerated() { c += b.mass * frames[i].apply(b.centerOfMass) }
        return c / sim.humanoid.totalMass
    }

    /// Dropped from 10 cm, lying on its back with PD holding a neutral pose, the body lands, comes to rest and sinks
    /// into the ground by less than 1 cm: the static penetration of a penalty contact is its load over its stiffness,
    /// and on its back the chest sphere alone carries about 200 N (200 / 3e4 N/m ≈ 7 mm). A standing statue is not used: with these PD gains the straight-legged pose is an
    /// unstable inverted pendulum (series joint stiffness below m·g·h) and topples, as it physically should.
    @Test func droppedBodyComesToRestOnTheGround() throws {
        let sim = Simulator(humanoid: TestData.humanoid)
        var rotations = [Quat](repeating: .identity, count: 13)
        rotations[0] = Quat.axisAngle(Vec3(0, 0, 1), .pi / 2)  // head towards −x, face up
        var pose = Pose(rootPosition: .zero, rotations: rotations, angles: [Double](repeating: 0, count: 13))
        pose.rootPosition.y = -soleHeight(sim, SimulationState(resting: pose)) + 0.1
        var s = SimulationState(resting: pose)
        var minimumHeight = Double.infinity
        for k in 0..<960 {
            s = sim.step(s, target: pose)
            #expect(s.isFinite)
            if k > 480 { minimumHeight = min(minimumHeight, soleHeight(sim, s)) }
        }
        let speed = sim.momentum(s).kineticEnergy
        print("[drop test] after 2 s: lowest contact point \(minimumHeight) m, kinetic energy \(speed) J")
        #expect(minimumHeight > -0.01)
        #expect(minimumHeight < 0.005)
        #expect(speed < 0.05)
    }

    func soleHeight(_ sim: Simulator, _ s: SimulationState) -> Double {
        let frames = sim.humanoid.frames(s.pose)
        return sim.contactPoints.map { frames[$0.body].apply($0.point).y - $0.radius }.min()!
    }

    @Test func spatialInertiaSolveAndTransformAreConsistent() {
        let b = TestData.humanoid.bodies[3]
        let i = SI<Double>(SpatialInertia(mass: b.mass, centerOfMass: b.centerOfMass, inertia: b.inertia))
        let y = SV<Double>(V3(Vec3(0.3, -0.7, 0.2)), V3(Vec3(1, -2, 0.5)))
        let x = i.solve(y)
        #expect(norm((i * x).angular.plain - y.angular.plain) < 1e-12 && norm((i * x).linear.plain - y.linear.plain) < 1e-12)
        // Power is frame-independent: (X m)ᵀ f_child = mᵀ (Xᵀ f_child).
        let t = SX<Double>(rotation: M3(Quat.exp(Vec3(0.3, -0.2, 0.9)).matrix), offset: V3(Vec3(0.1, 0.2, -0.3)))
        let m = SV<Double>(V3(Vec3(0.4, 0.1, -0.7)), V3(Vec3(1, 2, 3)))
        let f = SV<Double>(V3(Vec3(-1, 0.5, 2)), V3(Vec3(0.3, 0.3, -1)))
        #expect(abs(t.motion(m).dot(f) - m.dot(t.forceToParent(f))) < 1e-12)
        // Kinetic energy is frame-independent: ½ (Xm)ᵀ I (Xm) = ½ mᵀ (Xᵀ I X) m.
        let e1 = t.motion(m).dot(i * t.motion(m))
        let e2 = m.dot(i.toParent(rotation: t.rotation, offset: t.offset) * m)
        #expect(abs(e1 - e2) < 1e-12 * abs(e1))
    }
}
