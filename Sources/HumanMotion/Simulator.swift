#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// A differentiable-ready humanoid simulator in reduced coordinates (`shared/specs/physics-motion.md` §2.2):
/// Featherstone's articulated-body algorithm, stable-PD control toward target poses (implicit damping folded into the
/// joint armature), smooth penalty ground contact with regularized Coulomb friction, semi-implicit Euler at a fixed
/// step (default 1/480 s), Double precision. RK4 is available for accuracy tests of the dynamics.
public struct Simulator: Sendable {
    public enum Integrator: String, Sendable, Codable { case semiImplicitEuler, rungeKutta4 }

    public struct Configuration: Equatable, Sendable {
        public var timeStep: Double = 1.0 / 480
        public var gravity = Vec3(0, -9.81, 0)
        public var contact = true
        public var control = true
        public var integrator: Integrator = .semiImplicitEuler
        /// Normal stiffness per contact point (N/m).
        public var contactStiffness = 3e4
        /// Hunt–Crossley damping: the normal force is s·(k − c·v_n)₊ for a penetration s (N·s/m² ).
        public var contactDamping = 6e4
        /// Width of the softplus that smooths the penetration (m); also the force's range above the ground.
        public var contactSmoothing = 1e-3
        public var friction = 0.9
        /// Regularization speed of the friction cone (m/s).
        public var frictionSmoothing = 0.01
        public init() {}
    }

    public let humanoid: Humanoid
    public var configuration: Configuration
    /// Rigid-body inertias at the body origins.
    let inertias: [SpatialInertia]
    /// Contact candidates: (body, point in body frame, radius); radius 0 for box corners.
    let contactPoints: [(body: Int, point: Vec3, radius: Double)]

    public init(humanoid: Humanoid, configuration: Configuration = .init()) {
        self.humanoid = humanoid
        self.configuration = configuration
        inertias = humanoid.bodies.map { SpatialInertia(mass: $0.mass, centerOfMass: $0.centerOfMass, inertia: $0.inertia) }
        var points: [(Int, Vec3, Double)] = []
        for (i, b) in humanoid.bodies.enumerated() {
            for s in b.shapes {
                switch s {
                case .sphere(let c, let r): points.append((i, c, r))
                case .capsule(let c, let r, let l):
                    points.append((i, c + Vec3(0, l / 2, 0), r))
                    points.append((i, c - Vec3(0, l / 2, 0), r))
                case .box(let c, let h):
                    for sx in [-1.0, 1] { for sy in [-1.0, 1] { for sz in [-1.0, 1] {
                        points.append((i, c + Vec3(sx * h.x, sy * h.y, sz * h.z), 0))
                    } } }
                }
            }
        }
        contactPoints = points
    }

    public var contactPointCount: Int { contactPoints.count }

    // MARK: Kinematic quantities

    /// Joint rotation (child relative to parent) of body i in a pose.
    @inline(__always) func jointRotation(_ pose: Pose, _ i: Int) -> Quat { pose.rotations[i] }

    /// Body spatial velocities (body frames) and frames of a state.
    func velocitiesAndFrames(_ s: SimulationState) -> (v: [Spatial], frames: [BodyFrame], transforms: [SpatialTransform]) {
        let bodies = humanoid.bodies
        var v = [Spatial](repeating: .zero, count: bodies.count)
        var frames = [BodyFrame](repeating: BodyFrame(rotation: .identity, position: .zero), count: bodies.count)
        var xs = [SpatialTransform](repeating: SpatialTransform(rotation: .identity, offset: .zero), count: bodies.count)
        for (i, b) in bodies.enumerated() {
            let r = s.pose.rotations[i].matrix
            if let p = b.parent {
                frames[i] = BodyFrame(rotation: frames[p].rotation * r, position: frames[p].apply(b.jointOrigin))
                xs[i] = SpatialTransform(rotation: r.transposed, offset: b.jointOrigin)
                v[i] = xs[i].motion(v[p]) + jointMotion(i, s.velocities[i])
            } else {
                frames[i] = BodyFrame(rotation: r, position: s.pose.rootPosition)
                v[i] = Spatial(s.velocities[0], s.rootLinearVelocity)
            }
        }
        return (v, frames, xs)
    }

    /// S q̇ of joint i (child frame).
    @inline(__always) func jointMotion(_ i: Int, _ qd: Vec3) -> Spatial {
        switch humanoid.bodies[i].joint {
        case .spherical: Spatial(qd, .zero)
        case .revolute(let axis, _, _): Spatial(qd.x * axis, .zero)
        case .free: Spatial(qd, .zero)
        }
    }

    /// Linear and angular momentum (about the world origin) and kinetic energy, in world coordinates.
    public func momentum(_ s: SimulationState) -> (linear: Vec3, angular: Vec3, kineticEnergy: Double) {
        let (v, frames, _) = velocitiesAndFrames(s)
        var p = Vec3.zero, l = Vec3.zero, e = 0.0
        for (i, b) in humanoid.bodies.enumerated() {
            let h = inertias[i] * v[i]  // (angular momentum about the origin, linear momentum), body frame
            let r = frames[i].rotation
            let linear = r * h.linear
            p += linear
            l += r * h.angular + cross(frames[i].position, linear)
            e += 0.5 * v[i].dot(h)
            _ = b
        }
        return (p, l, e)
    }

    /// Potential energy of gravity.
    public func potentialEnergy(_ s: SimulationState) -> Double {
        let frames = humanoid.frames(s.pose)
        var u = 0.0
        for (i, b) in humanoid.bodies.enumerated() {
            u -= b.mass * dot(configuration.gravity, frames[i].apply(b.centerOfMass))
        }
        return u
    }

    // MARK: Forces

    @inline(__always) static func softplus(_ x: Double) -> Double { x > 30 ? x : log1p(exp(x)) }
    @inline(__always) static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// External forces (gravity and ground contact) on every body, in body frames at the body origins.
    func externalForces(_ v: [Spatial], _ frames: [BodyFrame]) -> [Spatial] {
        let c = configuration
        var f = [Spatial](repeating: .zero, count: humanoid.bodies.count)
        for (i, b) in humanoid.bodies.enumerated() {
            let g = frames[i].rotation.transposeTimes(b.mass * c.gravity)
            f[i] = Spatial(cross(b.centerOfMass, g), g)
        }
        guard c.contact else { return f }
        let w = c.contactSmoothing
        for (body, point, radius) in contactPoints {
            let frame = frames[body]
            let centre = frame.apply(point)
            let pen = radius - centre.y  // > 0 when below the ground
            if pen < -30 * w { continue }  // softplus below e^-30: no force
            let s = w * Self.softplus(pen / w)
            let contact = Vec3(centre.x, centre.y - radius, centre.z)
            let local = frame.rotation.transposeTimes(contact - frame.position)
            let velocityLocal = v[body].linear + cross(v[body].angular, local)
            let velocity = frame.rotation * velocityLocal
            let scale = 0.01 * c.contactStiffness
            let normal = s * scale * Self.softplus((c.contactStiffness - c.contactDamping * velocity.y) / scale)
            let tangential = Vec3(velocity.x, 0, velocity.z)
            let speed = (dot(tangential, tangential) + c.frictionSmoothing * c.frictionSmoothing).squareRoot()
            let world = Vec3(0, normal, 0) - (c.friction * normal / speed) * tangential
            let force = frame.rotation.transposeTimes(world)
            f[body] += Spatial(cross(local, force), force)
        }
        return f
    }

    // MARK: Dynamics

    /// Generalized accelerations (ABA) of a state under PD control toward `target` (nil: no control).
    /// Returns (root spatial acceleration in the root frame, joint accelerations).
    public func accelerations(_ s: SimulationState, target: Pose?) -> (root: Spatial, joints: [Vec3]) {
        let bodies = humanoid.bodies
        let n = bodies.count
        let (v, frames, xs) = velocitiesAndFrames(s)
        let fext = externalForces(v, frames)
        let dt = configuration.timeStep
        let stable = configuration.control && target != nil

        var ia = inertias
        var pa = [Spatial](repeating: .zero, count: n)
        var c = [Spatial](repeating: .zero, count: n)
        for i in 0..<n {
            pa[i] = v[i].crossForce(inertias[i] * v[i]) - fext[i]
            if i > 0 { c[i] = v[i].crossMotion(jointMotion(i, s.velocities[i])) }
        }
        // Joint torques (stable PD) and armature.
        var tau = [Vec3](repeating: .zero, count: n)
        var armature = [Double](repeating: 0, count: n)
        if stable, let target {
            for i in 1..<n {
                let b = bodies[i]
                armature[i] = b.kd * dt
                switch b.joint {
                case .spherical:
                    let e = (s.pose.rotations[i].conjugate * target.rotations[i]).log
                    tau[i] = b.kp * (e - dt * s.velocities[i]) - b.kd * s.velocities[i]
                case .revolute:
                    let e = target.angles[i] - s.pose.angles[i]
                    tau[i] = Vec3(b.kp * (e - dt * s.velocities[i].x) - b.kd * s.velocities[i].x, 0, 0)
                case .free: break
                }
            }
        }
        // Leaves → root.
        var uStore = [(ang: Mat3, lin: Mat3)](repeating: (.zero, .zero), count: n)
        var dInv = [Mat3](repeating: .identity, count: n)
        var uVec = [Vec3](repeating: .zero, count: n)
        for i in stride(from: n - 1, through: 1, by: -1) {
            let b = bodies[i]
            let I = ia[i]
            var iaParent: SpatialInertia
            var paParent: Spatial
            switch b.joint {
            case .spherical:
                // S = [1; 0]: U = [A; Bᵀ], D = A + armature, u = τ − n.
                let dm = I.a + Mat3.diagonal(Vec3(repeating: armature[i]))
                let di = dm.inverse
                let u = tau[i] - pa[i].angular
                let bt = I.b.transposed
                uStore[i] = (I.a, bt)
                dInv[i] = di
                uVec[i] = u
                iaParent = SpatialInertia(a: I.a - I.a * di * I.a, b: I.b - I.a * di * I.b, d: I.d - bt * di * I.b)
                let correction = di * u
                paParent = pa[i] + iaParent * c[i] + Spatial(I.a * correction, bt * correction)
            case .revolute(let axis, _, _):
                let ua = I.a * axis, ul = I.b.transposeTimes(axis)
                let d = dot(axis, ua) + armature[i]
                let u = tau[i].x - dot(axis, pa[i].angular)
                uStore[i] = (Mat3(ua, ul, .zero), .zero)
                dInv[i] = Mat3.diagonal(Vec3(1 / d, 0, 0))
                uVec[i] = Vec3(u, 0, 0)
                iaParent = SpatialInertia(a: I.a - (1 / d) * Mat3.outer(ua, ua), b: I.b - (1 / d) * Mat3.outer(ua, ul),
                                          d: I.d - (1 / d) * Mat3.outer(ul, ul))
                paParent = pa[i] + iaParent * c[i] + (u / d) * Spatial(ua, ul)
            case .free:
                continue
            }
            let p = b.parent!
            ia[p] = ia[p] + iaParent.toParent(rotation: xs[i].rotation, offset: xs[i].offset)
            pa[p] += xs[i].forceToParent(paParent)
        }
        // Root → leaves.
        var a = [Spatial](repeating: .zero, count: n)
        a[0] = ia[0].solve(-pa[0])
        var qdd = [Vec3](repeating: .zero, count: n)
        for i in 1..<n {
            let ai = xs[i].motion(a[bodies[i].parent!]) + c[i]
            switch bodies[i].joint {
            case .spherical:
                let (ua, ul) = uStore[i]
                // Uᵀ a = A α + B lin (U = [A; Bᵀ]).
                let ut = ua * ai.angular + ul.transposeTimes(ai.linear)
                qdd[i] = dInv[i] * (uVec[i] - ut)
                a[i] = ai + Spatial(qdd[i], .zero)
            case .revolute(let axis, _, _):
                let ua = uStore[i].ang.r0, ul = uStore[i].ang.r1
                let x = dInv[i].r0.x * (uVec[i].x - dot(ua, ai.angular) - dot(ul, ai.linear))
                qdd[i] = Vec3(x, 0, 0)
                a[i] = ai + Spatial(x * axis, .zero)
            case .free:
                break
            }
        }
        return (a[0], qdd)
    }

    /// One step of `timeStep` toward `target` (nil: passive).
    public func step(_ s: SimulationState, target: Pose?) -> SimulationState {
        let dt = configuration.timeStep
        switch configuration.integrator {
        case .semiImplicitEuler:
            let (root, qdd) = accelerations(s, target: target)
            var next = s
            next.velocities[0] += dt * root.angular
            next.rootLinearVelocity += dt * root.linear
            for i in 1..<qdd.count { next.velocities[i] += dt * qdd[i] }
            return advancePositions(next, velocities: next, dt: dt)
        case .rungeKutta4:
            return rk4(s, target: target, dt: dt)
        }
    }

    /// Positions advanced by `dt` with the velocities of `velocities` (quaternions by the exponential map).
    func advancePositions(_ s: SimulationState, velocities v: SimulationState, dt: Double) -> SimulationState {
        var out = s
        let rootRotation = s.pose.rotations[0]
        out.pose.rootPosition += dt * rootRotation.rotate(v.rootLinearVelocity)
        out.pose.rotations[0] = (rootRotation * Quat.exp(dt * v.velocities[0])).normalized
        for (i, b) in humanoid.bodies.enumerated() where i > 0 {
            switch b.joint {
            case .spherical:
                out.pose.rotations[i] = (s.pose.rotations[i] * Quat.exp(dt * v.velocities[i])).normalized
            case .revolute(let axis, _, _):
                out.pose.angles[i] = s.pose.angles[i] + dt * v.velocities[i].x
                out.pose.rotations[i] = Quat.axisAngle(axis, out.pose.angles[i])
            case .free: break
            }
        }
        return out
    }

    /// Classical RK4 on (positions, velocities) with quaternions as plain 4-vectors, q̇ = ½ q ⊗ (0, ω), normalized
    /// once per step: a 4th-order integrator of the same dynamics, for accuracy tests (not for reconstruction).
    func rk4(_ s: SimulationState, target: Pose?, dt: Double) -> SimulationState {
        struct Derivative {
            var position: Vec3
            var rotations: [Quat]
            var angles: [Double]
            var rootLinear: Vec3
            var velocities: [Vec3]
        }
        let bodies = humanoid.bodies
        func derivative(_ x: SimulationState) -> Derivative {
            let (root, qdd) = accelerations(x, target: target)
            var rot = [Quat](repeating: Quat(w: 0, x: 0, y: 0, z: 0), count: bodies.count)
            var ang = [Double](repeating: 0, count: bodies.count)
            for i in bodies.indices {
                if case .revolute = bodies[i].joint {
                    ang[i] = x.velocities[i].x
                } else {
                    let q = x.pose.rotations[i] * Quat(w: 0, v: x.velocities[i])
                    rot[i] = Quat(w: 0.5 * q.w, x: 0.5 * q.x, y: 0.5 * q.y, z: 0.5 * q.z)
                }
            }
            var acc = qdd
            acc[0] = root.angular
            return Derivative(position: x.pose.rotations[0].rotate(x.rootLinearVelocity), rotations: rot, angles: ang,
                              rootLinear: root.linear, velocities: acc)
        }
        func apply(_ base: SimulationState, _ d: Derivative, _ h: Double, normalize: Bool = false) -> SimulationState {
            var x = base
            x.pose.rootPosition += h * d.position
            for i in bodies.indices {
                if case .revolute(let axis, _, _) = bodies[i].joint {
                    x.pose.angles[i] += h * d.angles[i]
                    x.pose.rotations[i] = Quat.axisAngle(axis, x.pose.angles[i])
                } else {
                    let q = base.pose.rotations[i], r = d.rotations[i]
                    let moved = Quat(w: q.w + h * r.w, x: q.x + h * r.x, y: q.y + h * r.y, z: q.z + h * r.z)
                    x.pose.rotations[i] = normalize ? moved.normalized : moved
                }
                x.velocities[i] += h * d.velocities[i]
            }
            x.rootLinearVelocity += h * d.rootLinear
            return x
        }
        func combine(_ ds: [Derivative], _ w: [Double]) -> Derivative {
            var out = ds[0]
            out.position = .zero
            out.rootLinear = .zero
            for i in bodies.indices {
                out.rotations[i] = Quat(w: 0, x: 0, y: 0, z: 0)
                out.angles[i] = 0
                out.velocities[i] = .zero
            }
            for (d, wk) in zip(ds, w) {
                out.position += wk * d.position
                out.rootLinear += wk * d.rootLinear
                for i in bodies.indices {
                    let r = d.rotations[i]
                    out.rotations[i] = Quat(w: out.rotations[i].w + wk * r.w, x: out.rotations[i].x + wk * r.x,
                                            y: out.rotations[i].y + wk * r.y, z: out.rotations[i].z + wk * r.z)
                    out.angles[i] += wk * d.angles[i]
                    out.velocities[i] += wk * d.velocities[i]
                }
            }
            return out
        }
        let k1 = derivative(s)
        let k2 = derivative(apply(s, k1, dt / 2))
        let k3 = derivative(apply(s, k2, dt / 2))
        let k4 = derivative(apply(s, k3, dt))
        return apply(s, combine([k1, k2, k3, k4], [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6]), dt, normalize: true)
    }
}
