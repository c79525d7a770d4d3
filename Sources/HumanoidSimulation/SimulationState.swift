import _Differentiation
import OptimusNumerics

/// The simulated state: a pose (generalized positions) and generalized velocities.
///
/// `velocities[0]` is the root's angular velocity and `rootLinearVelocity` the root origin's linear velocity, both in
/// the root's body frame; `velocities[i]` (i ≥ 1) is a spherical joint's angular velocity relative to its parent in
/// the child's frame, or for a hinge (θ̇, 0, 0).
public struct SimulationState: Equatable, Sendable {
    public var pose: Pose
    public var velocities: [Vec3]
    public var rootLinearVelocity: Vec3

    public init(pose: Pose, velocities: [Vec3], rootLinearVelocity: Vec3) {
        self.pose = pose
        self.velocities = velocities
        self.rootLinearVelocity = rootLinearVelocity
    }

    /// At rest in `pose`.
    public init(resting pose: Pose) {
        self.init(pose: pose, velocities: [Vec3](repeating: .zero, count: pose.rotations.count), rootLinearVelocity: .zero)
    }

    /// Whether every number is finite (a blown-up rollout is not).
    public var isFinite: Bool {
        func ok(_ v: Vec3) -> Bool { v.x.isFinite && v.y.isFinite && v.z.isFinite }
        return ok(pose.rootPosition) && ok(rootLinearVelocity) && velocities.allSatisfy(ok)
            && pose.rotations.allSatisfy { $0.w.isFinite && ok($0.vector) } && pose.angles.allSatisfy(\.isFinite)
    }
}

/// The flat layouts of the generalized state x = (q, v) (43 + 34 numbers) and of a PD target u (36 numbers: an
/// unnormalized quaternion per spherical joint, an angle per hinge, in body order; with a root residual, 6 more: the
/// residual torque and force on the root, see ``Simulator/Configuration/rootResidual``).
public struct StateLayout: Sendable, Equatable {
    /// Offset of body i's joint coordinates in q (root: position at 0, quaternion at 3).
    public let positionOffset: [Int]
    /// Offset of body i's joint velocity in v (root: angular at 0, linear at 3), relative to the start of v.
    public let velocityOffset: [Int]
    /// Offset of body i's target in u (−1 for the root).
    public let targetOffset: [Int]
    public let positionCount: Int
    public let velocityCount: Int
    public let targetCount: Int
    /// Offset of the root residual (torque, force) in u, when the simulator has one.
    public let residualOffset: Int?
    public var stateCount: Int { positionCount + velocityCount }

    init(_ humanoid: Humanoid, rootResidual: Bool = false) {
        var p = [0], v = [0], u = [-1]
        var np = 7, nv = 6, nu = 0
        for b in humanoid.bodies.dropFirst() {
            p.append(np)
            v.append(nv)
            u.append(nu)
            switch b.joint {
            case .spherical: np += 4; nv += 3; nu += 4
            case .revolute: np += 1; nv += 1; nu += 1
            case .free: break
            }
        }
        positionOffset = p
        velocityOffset = v
        targetOffset = u
        positionCount = np
        velocityCount = nv
        residualOffset = rootResidual ? nu : nil
        targetCount = nu + (rootResidual ? 6 : 0)
    }
}

extension Simulator {
    // MARK: Flat state

    /// x = (q, v) of a state.
    public func flatten(_ s: SimulationState) -> [Double] {
        var x = [Double](repeating: 0, count: layout.stateCount)
        let p = s.pose
        x[0] = p.rootPosition.x; x[1] = p.rootPosition.y; x[2] = p.rootPosition.z
        let r = p.rotations[0]
        x[3] = r.w; x[4] = r.x; x[5] = r.y; x[6] = r.z
        let v0 = layout.positionCount
        for k in 0..<3 {
            x[v0 + k] = s.velocities[0][k]
            x[v0 + 3 + k] = s.rootLinearVelocity[k]
        }
        for (i, b) in humanoid.bodies.enumerated() where i > 0 {
            let o = layout.positionOffset[i], vo = v0 + layout.velocityOffset[i]
            if case .revolute = b.joint {
                x[o] = p.angles[i]
                x[vo] = s.velocities[i].x
            } else {
                let q = p.rotations[i]
                x[o] = q.w; x[o + 1] = q.x; x[o + 2] = q.y; x[o + 3] = q.z
                for k in 0..<3 { x[vo + k] = s.velocities[i][k] }
            }
        }
        return x
    }

    /// The state of x = (q, v).
    public func unflatten(_ x: [Double]) -> SimulationState {
        let n = humanoid.bodies.count
        var rotations = [Quat](repeating: .identity, count: n)
        var angles = [Double](repeating: 0, count: n)
        var velocities = [Vec3](repeating: .zero, count: n)
        let v0 = layout.positionCount
        rotations[0] = Quat(w: x[3], x: x[4], y: x[5], z: x[6])
        velocities[0] = Vec3(x[v0], x[v0 + 1], x[v0 + 2])
        for (i, b) in humanoid.bodies.enumerated() where i > 0 {
            let o = layout.positionOffset[i], vo = v0 + layout.velocityOffset[i]
            if case .revolute(let axis, _, _) = b.joint {
                angles[i] = x[o]
                rotations[i] = Quat.axisAngle(axis, x[o])
                velocities[i] = Vec3(x[vo], 0, 0)
            } else {
                rotations[i] = Quat(w: x[o], x: x[o + 1], y: x[o + 2], z: x[o + 3])
                velocities[i] = Vec3(x[vo], x[vo + 1], x[vo + 2])
            }
        }
        return SimulationState(pose: Pose(rootPosition: Vec3(x[0], x[1], x[2]), rotations: rotations, angles: angles),
                               velocities: velocities, rootLinearVelocity: Vec3(x[v0 + 3], x[v0 + 4], x[v0 + 5]))
    }

    /// u of a target pose.
    public func flattenTarget(_ pose: Pose) -> [Double] {
        var u = [Double](repeating: 0, count: layout.targetCount)
        for (i, b) in humanoid.bodies.enumerated() where i > 0 {
            let o = layout.targetOffset[i]
            if case .revolute = b.joint {
                u[o] = pose.angles[i]
            } else {
                let q = pose.rotations[i]
                u[o] = q.w; u[o + 1] = q.x; u[o + 2] = q.y; u[o + 3] = q.z
            }
        }
        return u
    }
}
