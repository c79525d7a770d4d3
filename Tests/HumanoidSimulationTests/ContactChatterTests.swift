import Foundation
import OptimusNumerics
import Testing
@testable import HumanoidSimulation
import HumanoidTestSupport

/// The friction cone is regularized: f_t = −μ·f_n·v_t/√(|v_t|² + ε²), a damper of slope μ·f_n/ε while |v_t| ≪ ε. The
/// step treats it explicitly, so it is stable only while dt·μ·f_n/(ε·m) < 2 for the mass m a contact point moves;
/// past that, a loaded foot's tangential velocity flips sign from one step to the next (chatter), which makes the
/// rollout, and so every reconstruction loss, non-smooth in its parameters.
@Suite struct ContactChatterTests {
    /// Standing under PD control on walk's first pose, feet on the ground: from 0.25 s to 0.5 s, the loaded contact
    /// points' tangential (x) velocities, step to step: sign flips (above 1 mm/s) and the mean change per step.
    static func chatter(frictionSmoothing: Double) throws -> (loaded: Int, flips: Int, meanChange: Double) {
        var c = Simulator.Configuration()
        c.frictionSmoothing = frictionSmoothing
        let sim = Simulator(humanoid: TestData.humanoid, configuration: c)
        var pose = try TestData.clip("walk").poses[0]
        let frames = sim.humanoid.frames(pose)
        pose.rootPosition.y -= sim.contactPoints.map { frames[$0.body].apply($0.point).y - $0.radius }.min()!
        var x = sim.flatten(SimulationState(resting: pose))
        let u = sim.flattenTarget(pose)
        var previous: [Double]?
        var loaded = 0, flips = 0, change = 0.0
        for k in 0..<240 {
            x = sim.step(x, target: u)
            let kin = sim.kinematics(x)
            let vt = sim.contactPoints.map { body, point, radius -> Double in
                let p = V3<Double>(point)
                let centre = kin.position[body] + kin.rotation[body] * p
                let v = kin.rotation[body] * (kin.velocity[body].linear + kin.velocity[body].angular.cross(p))
                return centre.y - radius < 0 ? v.x : .nan
            }
            if k > 120, let previous {
                for i in vt.indices where vt[i].isFinite && previous[i].isFinite {
                    loaded += 1
                    if vt[i] * previous[i] < 0, abs(vt[i]) > 1e-3 { flips += 1 }
                    change += abs(vt[i] - previous[i])
                }
            }
            previous = vt
        }
        return (loaded, flips, change / Double(max(1, loaded)))
    }

    @Test func loadedContactsDoNotChatterAtTheDefaultRegularization() throws {
        let standing = try Self.chatter(frictionSmoothing: Simulator.Configuration().frictionSmoothing)
        print("[chatter] default ε = \(Simulator.Configuration().frictionSmoothing) m/s: \(standing)")
        #expect(standing.loaded > 100)
        #expect(standing.flips == 0)
        #expect(standing.meanChange < 1e-3)
        // The regularization the simulator had before (1 cm/s): most loaded samples flip sign, by ~cm/s per step.
        let stiff = try Self.chatter(frictionSmoothing: 0.01)
        print("[chatter] ε = 0.01 m/s: \(stiff)")
        #expect(Double(stiff.flips) > 0.5 * Double(stiff.loaded))
        #expect(stiff.meanChange > 0.02)
    }
}
