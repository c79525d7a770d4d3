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

/// A humanoid simulator in reduced coordinates (`docs/physics-motion.md`, *Dynamics*): Featherstone's articulated-body
/// algorithm, stable-PD control toward target poses (implicit damping folded into the joint armature), smooth penalty
/// ground contact with regularized Coulomb friction, semi-implicit Euler at a fixed step (default 1/480 s), Double
/// precision. The dynamics are written once over ``ADScalar``, so the same code gives values, exact forward tangents
/// (``Dual``) and the step's exact adjoint (``TapeScalar``). RK4 is available for accuracy tests of the dynamics.
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
        /// Hunt–Crossley damping: the normal force is s·(k − c·v_n)₊ for a penetration s (N·s/m²).
        public var contactDamping = 6e4
        /// Width of the softplus that smooths the penetration (m); also the force's range above the ground.
        public var contactSmoothing = 1e-3
        public var friction = 0.9
        /// Regularization speed of the friction cone (m/s).
        public var frictionSmoothing = 0.01
        /// Residual force control (an ablation; off by default): the control u carries 6 more numbers, a torque and a
        /// force applied to the root in its body frame, in units of the body weight m·g (N·m per metre for the
        /// torque). Not physically plausible — an external "hand" on the pelvis — but it lets an optimizer keep
        /// balance that joint torques alone cannot; reconstructions report its mean magnitude.
        public var rootResidual = false
        public init() {}
    }

    public let humanoid: Humanoid
    public var configuration: Configuration {
        didSet {
            if configuration.rootResidual != oldValue.rootResidual {
                layout = StateLayout(humanoid, rootResidual: configuration.rootResidual)
            }
        }
    }
    public private(set) var layout: StateLayout
    /// Rigid-body inertias at the body origins.
    let inertias: [SpatialInertia]
    /// Contact candidates: (body, point in body frame, radius); radius 0 for box corners.
    let contactPoints: [(body: Int, point: Vec3, radius: Double)]

    public init(humanoid: Humanoid, configuration: Configuration = .init()) {
        self.humanoid = humanoid
        self.configuration = configuration
        layout = StateLayout(humanoid, rootResidual: configuration.rootResidual)
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

    // MARK: Public stepping

    /// One step of `timeStep` toward `target` (nil: passive).
    public func step(_ s: SimulationState, target: Pose?) -> SimulationState {
        let x = flatten(s)
        let u = target.map(flattenTarget)
        switch configuration.integrator {
        case .semiImplicitEuler: return unflatten(step(x, target: u))
        case .rungeKutta4: return unflatten(rk4(x, target: u))
        }
    }

    /// One semi-implicit Euler step of a flat state toward a flat target (nil: passive).
    func step<S: ADScalar>(_ x: [S], target u: [S]?) -> [S] {
        let dt = configuration.timeStep
        let k = kinematics(x)
        let qdd = accelerations(x, target: u, kinematics: k)
        var next = x
        let v0 = layout.positionCount
        for i in 0..<layout.velocityCount { next[v0 + i] = x[v0 + i] + dt * qdd[i] }
        integratePositions(&next, from: x, velocities: next, dt: dt)
        return next
    }

    /// Positions of `out` set to those of `x` advanced by `dt` with the velocities in `velocities` (exponential map for
    /// quaternions, renormalized).
    func integratePositions<S: ADScalar>(_ out: inout [S], from x: [S], velocities w: [S], dt: Double) {
        let v0 = layout.positionCount
        let rootQ = Q(x[3], x[4], x[5], x[6])
        let lin = rootQ.matrix * V3(w[v0 + 3], w[v0 + 4], w[v0 + 5])
        out[0] = x[0] + dt * lin.x
        out[1] = x[1] + dt * lin.y
        out[2] = x[2] + dt * lin.z
        let rq = (rootQ * Q<S>.exp(dt * V3(w[v0], w[v0 + 1], w[v0 + 2]))).normalized
        out[3] = rq.w; out[4] = rq.x; out[5] = rq.y; out[6] = rq.z
        for (i, b) in humanoid.bodies.enumerated() where i > 0 {
            let o = layout.positionOffset[i], vo = v0 + layout.velocityOffset[i]
            if case .revolute = b.joint {
                out[o] = x[o] + dt * w[vo]
            } else {
                let q = (Q(x[o], x[o + 1], x[o + 2], x[o + 3]) * Q<S>.exp(dt * V3(w[vo], w[vo + 1], w[vo + 2]))).normalized
                out[o] = q.w; out[o + 1] = q.x; out[o + 2] = q.y; out[o + 3] = q.z
            }
        }
    }

    /// RK4 with quaternions as plain 4-vectors (q̇ = ½ q ⊗ (0, ω)), normalized once per step: a 4th-order integrator
    /// of the same dynamics, for accuracy tests (not for reconstruction).
    func rk4(_ x: [Double], target u: [Double]?) -> [Double] {
        let dt = configuration.timeStep
        let v0 = layout.positionCount
        func derivative(_ y: [Double]) -> [Double] {
            var d = [Double](repeating: 0, count: y.count)
            let qdd = accelerations(y, target: u, kinematics: kinematics(y))
            let rootQ = Quat(w: y[3], x: y[4], y: y[5], z: y[6])
            let lin = rootQ.rotate(Vec3(y[v0 + 3], y[v0 + 4], y[v0 + 5]))
            d[0] = lin.x; d[1] = lin.y; d[2] = lin.z
            func quatRate(_ o: Int, _ vo: Int) {
                let q = Quat(w: y[o], x: y[o + 1], y: y[o + 2], z: y[o + 3]) * Quat(w: 0, x: y[vo], y: y[vo + 1], z: y[vo + 2])
                d[o] = 0.5 * q.w; d[o + 1] = 0.5 * q.x; d[o + 2] = 0.5 * q.y; d[o + 3] = 0.5 * q.z
            }
            quatRate(3, v0)
            for (i, b) in humanoid.bodies.enumerated() where i > 0 {
                let o = layout.positionOffset[i], vo = v0 + layout.velocityOffset[i]
                if case .revolute = b.joint { d[o] = y[vo] } else { quatRate(o, vo) }
            }
            for i in 0..<layout.velocityCount { d[v0 + i] = qdd[i] }
            return d
        }
        func axpy(_ a: Double, _ d: [Double]) -> [Double] { zip(x, d).map { $0 + a * $1 } }
        let k1 = derivative(x), k2 = derivative(axpy(dt / 2, k1)), k3 = derivative(axpy(dt / 2, k2))
        let k4 = derivative(axpy(dt, k3))
        var out = x
        for i in x.indices { out[i] = x[i] + dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) }
        func normalize(_ o: Int) {
            let n = (out[o] * out[o] + out[o + 1] * out[o + 1] + out[o + 2] * out[o + 2] + out[o + 3] * out[o + 3]).squareRoot()
            for k in 0..<4 { out[o + k] /= n }
        }
        normalize(3)
        for (i, b) in humanoid.bodies.enumerated() where i > 0 {
            if case .spherical = b.joint { normalize(layout.positionOffset[i]) }
        }
        return out
    }
}

// MARK: - Generic dynamics

/// Frames, transforms and spatial velocities of every body for a flat state.
struct Kinematics<S: ADScalar> {
    var rotation: [M3<S>]  // world rotation of each body
    var position: [V3<S>]  // world position of each body origin
    var transform: [SX<S>]  // parent → body
    var velocity: [SV<S>]  // body-frame spatial velocity
    var jointVelocity: [SV<S>]  // S q̇ of each joint (body frame)
}

extension Simulator {
    /// Joint rotation matrix (child relative to parent, i.e. the child's axes in parent coordinates) of body i.
    func jointMatrix<S: ADScalar>(_ x: [S], _ i: Int) -> M3<S> {
        let o = layout.positionOffset[i]
        if case .revolute(let axis, _, _) = humanoid.bodies[i].joint {
            // Rotation about a fixed unit axis: Rodrigues with the constant axis.
            let c = S.cos(x[o]), s = S.sin(x[o])
            let k = M3<S>(Mat3.skew(axis)), kk = M3<S>(Mat3.skew(axis) * Mat3.skew(axis))
            return M3<S>.diagonal(S(1)) + s * k + (S(1) - c) * kk
        }
        return Q(x[o], x[o + 1], x[o + 2], x[o + 3]).normalized.matrix
    }

    func kinematics<S: ADScalar>(_ x: [S]) -> Kinematics<S> {
        let n = humanoid.bodies.count
        let v0 = layout.positionCount
        var k = Kinematics<S>(rotation: [], position: [], transform: [], velocity: [], jointVelocity: [])
        k.rotation.reserveCapacity(n)
        k.position.reserveCapacity(n)
        k.transform.reserveCapacity(n)
        k.velocity.reserveCapacity(n)
        k.jointVelocity.reserveCapacity(n)
        for (i, b) in humanoid.bodies.enumerated() {
            if let p = b.parent {
                let r = jointMatrix(x, i)
                let offset = V3<S>(b.jointOrigin)
                k.rotation.append(k.rotation[p] * r)
                k.position.append(k.position[p] + k.rotation[p] * offset)
                let t = SX(rotation: r.transposed, offset: offset)
                k.transform.append(t)
                let vo = v0 + layout.velocityOffset[i]
                let vj: SV<S>
                if case .revolute(let axis, _, _) = b.joint {
                    vj = SV(x[vo] * V3<S>(axis), .zero)
                } else {
                    vj = SV(V3(x[vo], x[vo + 1], x[vo + 2]), .zero)
                }
                k.jointVelocity.append(vj)
                k.velocity.append(t.motion(k.velocity[p]) + vj)
            } else {
                k.rotation.append(Q(x[3], x[4], x[5], x[6]).normalized.matrix)
                k.position.append(V3(x[0], x[1], x[2]))
                k.transform.append(SX(rotation: M3<S>.diagonal(S(1)), offset: .zero))
                k.jointVelocity.append(.zero)
                k.velocity.append(SV(V3(x[v0], x[v0 + 1], x[v0 + 2]), V3(x[v0 + 3], x[v0 + 4], x[v0 + 5])))
            }
        }
        return k
    }

    /// Gravity and ground contact on every body (body frames, at the body origins).
    func externalForces<S: ADScalar>(_ k: Kinematics<S>) -> [SV<S>] {
        let c = configuration
        var f: [SV<S>] = []
        f.reserveCapacity(humanoid.bodies.count)
        for (i, b) in humanoid.bodies.enumerated() {
            let g = k.rotation[i].transposeTimes(V3<S>(b.mass * c.gravity))
            f.append(SV(V3<S>(b.centerOfMass).cross(g), g))
        }
        guard c.contact else { return f }
        let w = c.contactSmoothing
        let scale = 0.01 * c.contactStiffness
        for (body, point, radius) in contactPoints {
            let centre = k.position[body] + k.rotation[body] * V3<S>(point)
            let pen = S(radius) - centre.y  // > 0 below the ground
            if pen.value < -30 * w { continue }  // softplus below e^−30: no force
            let s = w * S.softplus(pen / w)
            let contact = V3(centre.x, centre.y - radius, centre.z)
            let local = k.rotation[body].transposeTimes(contact - k.position[body])
            let velocity = k.rotation[body] * (k.velocity[body].linear + k.velocity[body].angular.cross(local))
            let normal = s * (scale * S.softplus((S(c.contactStiffness) - c.contactDamping * velocity.y) / scale))
            let speed = (velocity.x * velocity.x + velocity.z * velocity.z + c.frictionSmoothing * c.frictionSmoothing)
                .squareRoot()
            let ratio = c.friction * normal / speed
            let world = V3(-(ratio * velocity.x), normal, -(ratio * velocity.z))
            let force = k.rotation[body].transposeTimes(world)
            f[body] += SV(local.cross(force), force)
        }
        return f
    }

    /// Generalized accelerations (ABA) in v's layout (root: angular then linear, body frame), under stable-PD control
    /// toward the flat target `u` (nil: passive).
    func accelerations<S: ADScalar>(_ x: [S], target u: [S]?, kinematics k: Kinematics<S>) -> [S] {
        let bodies = humanoid.bodies
        let n = bodies.count
        let v0 = layout.positionCount
        let dt = configuration.timeStep
        var fext = externalForces(k)
        if let ro = layout.residualOffset, let u {
            let weight = humanoid.totalMass * 9.81
            fext[0] += SV(weight * V3(u[ro], u[ro + 1], u[ro + 2]), weight * V3(u[ro + 3], u[ro + 4], u[ro + 5]))
        }
        var ia = inertias.map { SI<S>($0) }
        var pa: [SV<S>] = []
        var c: [SV<S>] = []
        pa.reserveCapacity(n)
        c.reserveCapacity(n)
        for i in 0..<n {
            pa.append(k.velocity[i].crossForce(ia[i] * k.velocity[i]) - fext[i])
            c.append(k.velocity[i].crossMotion(k.jointVelocity[i]))
        }
        // Stable-PD joint torques and armature.
        var tau = [V3<S>](repeating: .zero, count: n)
        var armature = [Double](repeating: 0, count: n)
        if configuration.control, let u {
            for i in 1..<n {
                let b = bodies[i]
                armature[i] = b.kd * dt
                let o = layout.positionOffset[i], vo = v0 + layout.velocityOffset[i], uo = layout.targetOffset[i]
                if case .revolute = b.joint {
                    let e = u[uo] - x[o]
                    tau[i] = V3(b.kp * (e - dt * x[vo]) - b.kd * x[vo], S(0), S(0))
                } else {
                    let current = Q(x[o], x[o + 1], x[o + 2], x[o + 3]).normalized
                    let goal = Q(u[uo], u[uo + 1], u[uo + 2], u[uo + 3]).normalized
                    let e = (current.conjugate * goal).log
                    let w = V3(x[vo], x[vo + 1], x[vo + 2])
                    tau[i] = b.kp * (e - dt * w) - b.kd * w
                }
            }
        }
        // Leaves → root.
        var uAngular = [M3<S>](repeating: .zero, count: n)  // spherical: A; revolute: row 0 = A·axis, row 1 = Bᵀ·axis
        var uLinear = [M3<S>](repeating: .zero, count: n)  // spherical: Bᵀ
        var dInverse = [M3<S>](repeating: .zero, count: n)
        var uVector = [V3<S>](repeating: .zero, count: n)
        for i in stride(from: n - 1, through: 1, by: -1) {
            let b = bodies[i]
            let I = ia[i]
            let child: SI<S>
            let force: SV<S>
            if case .revolute(let axisD, _, _) = b.joint {
                let axis = V3<S>(axisD)
                let ua = I.a * axis, ul = I.b.transposeTimes(axis)
                let d = axis.dot(ua) + armature[i]
                let inv = S(1) / d
                let uu = tau[i].x - axis.dot(pa[i].angular)
                uAngular[i] = M3(ua, ul, .zero)
                dInverse[i] = M3(V3(inv, S(0), S(0)), .zero, .zero)
                uVector[i] = V3(uu, S(0), S(0))
                child = SI(a: I.a - inv * M3.outer(ua, ua), b: I.b - inv * M3.outer(ua, ul), d: I.d - inv * M3.outer(ul, ul))
                force = pa[i] + child * c[i] + (uu * inv) * SV(ua, ul)
            } else {
                let di = (I.a + M3<S>.diagonal(S(armature[i]))).inverse
                let uu = tau[i] - pa[i].angular
                let bt = I.b.transposed
                uAngular[i] = I.a
                uLinear[i] = bt
                dInverse[i] = di
                uVector[i] = uu
                let adi = I.a * di
                child = SI(a: I.a - adi * I.a, b: I.b - adi * I.b, d: I.d - bt * di * I.b)
                let corr = di * uu
                force = pa[i] + child * c[i] + SV(I.a * corr, bt * corr)
            }
            let p = b.parent!
            ia[p] = ia[p] + child.toParent(rotation: k.transform[i].rotation, offset: k.transform[i].offset)
            pa[p] += k.transform[i].forceToParent(force)
        }
        // Root → leaves.
        var a = [SV<S>](repeating: .zero, count: n)
        a[0] = ia[0].solve(-pa[0])
        var out = [S](repeating: S(0), count: layout.velocityCount)
        out[0] = a[0].angular.x; out[1] = a[0].angular.y; out[2] = a[0].angular.z
        out[3] = a[0].linear.x; out[4] = a[0].linear.y; out[5] = a[0].linear.z
        for i in 1..<n {
            let ai = k.transform[i].motion(a[bodies[i].parent!]) + c[i]
            let vo = layout.velocityOffset[i]
            if case .revolute(let axisD, _, _) = bodies[i].joint {
                let ua = uAngular[i].r0, ul = uAngular[i].r1
                let qdd = dInverse[i].r0.x * (uVector[i].x - ua.dot(ai.angular) - ul.dot(ai.linear))
                out[vo] = qdd
                a[i] = ai + SV(qdd * V3<S>(axisD), .zero)
            } else {
                let ut = uAngular[i] * ai.angular + uLinear[i].transposeTimes(ai.linear)
                let qdd = dInverse[i] * (uVector[i] - ut)
                out[vo] = qdd.x; out[vo + 1] = qdd.y; out[vo + 2] = qdd.z
                a[i] = ai + SV(qdd, .zero)
            }
        }
        return out
    }

    /// World keypoints (``Humanoid/keypointNames``) of a flat state.
    func keypoints<S: ADScalar>(_ x: [S], kinematics k: Kinematics<S>) -> [V3<S>] {
        humanoid.keypointDefinitions.map { k.position[$0.body] + k.rotation[$0.body] * V3<S>($0.offset) }
    }

    // MARK: Diagnostics

    /// Linear and angular momentum (about the world origin) and kinetic energy, in world coordinates.
    public func momentum(_ s: SimulationState) -> (linear: Vec3, angular: Vec3, kineticEnergy: Double) {
        let k: Kinematics<Double> = kinematics(flatten(s))
        var p = Vec3.zero, l = Vec3.zero, e = 0.0
        for i in humanoid.bodies.indices {
            let h = SI<Double>(inertias[i]) * k.velocity[i]
            let linear = (k.rotation[i] * h.linear).plain
            p += linear
            l += (k.rotation[i] * h.angular).plain + cross(k.position[i].plain, linear)
            e += 0.5 * k.velocity[i].dot(h)
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
}
