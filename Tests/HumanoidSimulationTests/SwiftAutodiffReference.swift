import _Differentiation
import Foundation
import OptimusNumerics
@testable import HumanoidSimulation

// An independent implementation of one simulation step, written so that Swift's `_Differentiation` differentiates it:
// the test oracle of `docs/physics-motion.md`, *Test oracles* (Swift AD applied to a separate implementation of the
// same physics, written with differentiable structs, on short horizons).
//
// It shares no arithmetic with the simulator: its own differentiable 3-D types, rigid-body momenta from (m, c, I_c)
// instead of 6×6 spatial inertias, and a different algorithm for the accelerations — the joint-space mass matrix built
// column by column with the recursive Newton–Euler algorithm (unit accelerations), the bias forces with one more
// RNEA pass, and a dense LU solve — where the simulator uses the articulated-body algorithm. Only the model constants
// (masses, joint axes, gains, contact points) and the flat state layout are read from the simulator.

// MARK: Differentiable 3-D algebra

struct DV3: Differentiable {
    var x: Double, y: Double, z: Double

    @differentiable(reverse)
    init(_ x: Double, _ y: Double, _ z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    init(constant v: Vec3) { self.init(v.x, v.y, v.z) }

    static var zeroVector: DV3 { DV3(0, 0, 0) }

    @differentiable(reverse)
    static func + (a: DV3, b: DV3) -> DV3 { DV3(a.x + b.x, a.y + b.y, a.z + b.z) }
    @differentiable(reverse)
    static func - (a: DV3, b: DV3) -> DV3 { DV3(a.x - b.x, a.y - b.y, a.z - b.z) }
    @differentiable(reverse)
    static func * (s: Double, a: DV3) -> DV3 { DV3(s * a.x, s * a.y, s * a.z) }
    @differentiable(reverse)
    func dot(_ b: DV3) -> Double { x * b.x + y * b.y + z * b.z }
    @differentiable(reverse)
    func cross(_ b: DV3) -> DV3 { DV3(y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x) }
}

/// Rows r0, r1, r2.
struct DM3: Differentiable {
    var r0: DV3, r1: DV3, r2: DV3

    @differentiable(reverse)
    init(_ r0: DV3, _ r1: DV3, _ r2: DV3) {
        self.r0 = r0
        self.r1 = r1
        self.r2 = r2
    }

    init(constant m: Mat3) { self.init(DV3(constant: m.r0), DV3(constant: m.r1), DV3(constant: m.r2)) }

    @differentiable(reverse)
    static func * (m: DM3, v: DV3) -> DV3 { DV3(m.r0.dot(v), m.r1.dot(v), m.r2.dot(v)) }
    /// mᵀ v.
    @differentiable(reverse)
    func transposeTimes(_ v: DV3) -> DV3 { v.x * r0 + v.y * r1 + v.z * r2 }
    @differentiable(reverse)
    var transposed: DM3 {
        DM3(DV3(r0.x, r1.x, r2.x), DV3(r0.y, r1.y, r2.y), DV3(r0.z, r1.z, r2.z))
    }
    @differentiable(reverse)
    static func * (a: DM3, b: DM3) -> DM3 {
        let bt = b.transposed
        return DM3(bt * a.r0, bt * a.r1, bt * a.r2)
    }
}

/// w-first quaternion.
struct DQ: Differentiable {
    var w: Double, x: Double, y: Double, z: Double

    @differentiable(reverse)
    init(_ w: Double, _ x: Double, _ y: Double, _ z: Double) {
        self.w = w
        self.x = x
        self.y = y
        self.z = z
    }

    @differentiable(reverse)
    var normalized: DQ {
        let n = (w * w + x * x + y * y + z * z).squareRoot()
        return DQ(w / n, x / n, y / n, z / n)
    }

    @differentiable(reverse)
    static func * (a: DQ, b: DQ) -> DQ {
        DQ(a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
           a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
           a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
           a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w)
    }

    /// Rotation matrix of a unit quaternion, R v = q v q*. The diagonal is written 1 − 2(y² + z²)…, as in the
    /// simulator: the two usual forms agree on unit quaternions but not in their derivatives off the unit sphere, and
    /// the simulator applies it to the stored (unit to rounding, not renormalized) root quaternion.
    @differentiable(reverse)
    var matrix: DM3 {
        DM3(DV3(1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
            DV3(2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
            DV3(2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)))
    }

    /// exp of a rotation vector, with the same small-angle branch as the simulator (the only shared convention).
    @differentiable(reverse)
    static func exp(_ r: DV3) -> DQ {
        let a2 = r.dot(r)
        if a2 < 1e-12 {
            return DQ(1 - a2 / 8, r.x / 2, r.y / 2, r.z / 2).normalized
        }
        let angle = a2.squareRoot()
        let s = Foundation.sin(angle / 2) / angle
        return DQ(Foundation.cos(angle / 2), s * r.x, s * r.y, s * r.z)
    }

    /// Rotation vector of a unit quaternion on the shortest path.
    @differentiable(reverse)
    var log: DV3 {
        let sign: Double = w < 0 ? -1 : 1
        let qw = sign * w, v = DV3(sign * x, sign * y, sign * z)
        let s2 = v.dot(v)
        if s2 < 1e-16 { return (2 / qw) * v }
        let s = s2.squareRoot()
        return (2 * differentiableAtan2(s, qw) / s) * v
    }
}

@differentiable(reverse)
func differentiableAtan2(_ y: Double, _ x: Double) -> Double { Foundation.atan2(y, x) }

@derivative(of: differentiableAtan2)
func vjpAtan2(_ y: Double, _ x: Double) -> (value: Double, pullback: (Double) -> (Double, Double)) {
    let r2 = x * x + y * y
    return (Foundation.atan2(y, x), { g in (g * x / r2, -g * y / r2) })
}

/// log(1 + eˣ) without overflow.
@differentiable(reverse)
func differentiableSoftplus(_ x: Double) -> Double {
    if x > 30 { return x }
    return Foundation.log(1 + Foundation.exp(x))
}

/// A spatial vector (angular, linear) at a body origin in body coordinates.
struct DS: Differentiable {
    var angular: DV3, linear: DV3

    @differentiable(reverse)
    init(_ angular: DV3, _ linear: DV3) {
        self.angular = angular
        self.linear = linear
    }

    static var zeroVector: DS { DS(.zeroVector, .zeroVector) }

    @differentiable(reverse)
    static func + (a: DS, b: DS) -> DS { DS(a.angular + b.angular, a.linear + b.linear) }
    @differentiable(reverse)
    static func - (a: DS, b: DS) -> DS { DS(a.angular - b.angular, a.linear - b.linear) }
    /// Motion cross product self ×ₘ m.
    @differentiable(reverse)
    func crossMotion(_ m: DS) -> DS {
        DS(angular.cross(m.angular), angular.cross(m.linear) + linear.cross(m.angular))
    }
    /// Force cross product self ×f f.
    @differentiable(reverse)
    func crossForce(_ f: DS) -> DS {
        DS(angular.cross(f.angular) + linear.cross(f.linear), angular.cross(f.linear))
    }
}

/// Coordinates change from a parent frame to a child frame: the child's axes in parent coordinates `rotation`, the
/// child origin `offset` in parent coordinates.
struct DX: Differentiable {
    var rotation: DM3
    @noDerivative var offset: Vec3

    /// A parent motion vector in child coordinates.
    @differentiable(reverse)
    func motion(_ m: DS) -> DS {
        let r = DV3(constant: offset)
        return DS(rotation.transposeTimes(m.angular), rotation.transposeTimes(m.linear - r.cross(m.angular)))
    }

    /// A child force in parent coordinates (moment about the parent origin).
    @differentiable(reverse)
    func forceToParent(_ f: DS) -> DS {
        let linear = rotation * f.linear
        return DS(rotation * f.angular + DV3(constant: offset).cross(linear), linear)
    }
}

// MARK: Array helpers whose pullbacks accept a zero (empty) cotangent

@differentiable(reverse where T: Differentiable)
func appending<T: Differentiable>(_ a: [T], _ e: T) -> [T] { a + [e] }

@derivative(of: appending)
func vjpAppending<T: Differentiable>(_ a: [T], _ e: T)
    -> (value: [T], pullback: (Array<T>.TangentVector) -> (Array<T>.TangentVector, T.TangentVector))
{
    let n = a.count
    return (a + [e], { v in
        let base = v.base
        guard base.count == n + 1 else { return (.zero, .zero) }
        return (Array<T>.TangentVector(Array(base.prefix(n))), base[n])
    })
}

/// The solution y of A y = b for A given column-major (n × n), by LU; its pullback solves with Aᵀ.
@differentiable(reverse)
func solveColumnMajor(_ a: [Double], _ b: [Double]) -> [Double] {
    solveColumnMajorValue(a, b)
}

func solveColumnMajorValue(_ a: [Double], _ b: [Double]) -> [Double] {
    let n = b.count
    // Row-major storage of Aᵀ is column-major A read by rows: transpose back.
    let rowMajor = Matrix<Double>(rows: n, columns: n, storage: a).transposed
    return rowMajor.solve(b)!
}

@derivative(of: solveColumnMajor)
func vjpSolveColumnMajor(_ a: [Double], _ b: [Double])
    -> (value: [Double], pullback: ([Double].TangentVector) -> ([Double].TangentVector, [Double].TangentVector))
{
    let n = b.count
    let y = solveColumnMajorValue(a, b)
    return (y, { v in
        guard v.base.count == n else { return (.zero, .zero) }
        // b̄ = A⁻ᵀ ȳ: Aᵀ is A's column-major storage read as row-major.
        let bBar = Matrix<Double>(rows: n, columns: n, storage: a).solve(v.base)!
        var aBar = [Double](repeating: 0, count: n * n)
        for column in 0..<n { for row in 0..<n { aBar[column * n + row] = -bBar[row] * y[column] } }
        return ([Double].TangentVector(aBar), [Double].TangentVector(bBar))
    })
}

// MARK: The step

/// One semi-implicit Euler step of ``Simulator`` (with control and contact), differentiable by Swift.
struct SwiftADReferenceStep {
    enum Kind { case free, spherical, revolute }
    let n: Int
    let parent: [Int]
    let kind: [Kind]
    let axis: [Vec3]
    let origin: [Vec3]
    let mass: [Double]
    let com: [Vec3]
    let rotationalInertia: [Mat3]
    let kp: [Double]
    let kd: [Double]
    let children: [[Int]]
    let contacts: [[(point: Vec3, radius: Double)]]
    let positionOffset: [Int]
    let velocityOffset: [Int]
    let targetOffset: [Int]
    let positionCount: Int
    let velocityCount: Int
    let configuration: Simulator.Configuration

    init(_ sim: Simulator) {
        let bodies = sim.humanoid.bodies
        n = bodies.count
        parent = bodies.map { $0.parent ?? -1 }
        kind = bodies.map {
            switch $0.joint {
            case .free: .free
            case .spherical: .spherical
            case .revolute: .revolute
            }
        }
        axis = bodies.map { if case .revolute(let a, _, _) = $0.joint { a } else { .zero } }
        origin = bodies.map(\.jointOrigin)
        mass = bodies.map(\.mass)
        com = bodies.map(\.centerOfMass)
        rotationalInertia = bodies.map(\.inertia)
        kp = bodies.map(\.kp)
        kd = bodies.map(\.kd)
        children = bodies.indices.map { i in bodies.indices.filter { bodies[$0].parent == i } }
        contacts = bodies.indices.map { i in sim.contactPoints.filter { $0.body == i }.map { ($0.point, $0.radius) } }
        positionOffset = sim.layout.positionOffset
        velocityOffset = sim.layout.velocityOffset
        targetOffset = sim.layout.targetOffset
        positionCount = sim.layout.positionCount
        velocityCount = sim.layout.velocityCount
        configuration = sim.configuration
    }

    /// Rigid-body momentum (angular about the body origin, linear) of body i moving with spatial velocity m:
    /// h = m (v + ω × c), L = I_c ω + c × h.
    @differentiable(reverse, wrt: m)
    func momentum(_ i: Int, _ m: DS) -> DS {
        let c = DV3(constant: com[i])
        let h = mass[i] * (m.linear + m.angular.cross(c))
        return DS(DM3(constant: rotationalInertia[i]) * m.angular + c.cross(h), h)
    }

    @differentiable(reverse, wrt: x)
    func jointRotation(_ x: [Double], _ i: Int) -> DM3 {
        let o = positionOffset[i]
        if kind[i] == .revolute {
            // Rotation by the angle about the axis: the quaternion (cos θ/2, sin θ/2 · a).
            let a = axis[i]
            let s = Foundation.sin(x[o] / 2)
            return DQ(Foundation.cos(x[o] / 2), s * a.x, s * a.y, s * a.z).matrix
        }
        return DQ(x[o], x[o + 1], x[o + 2], x[o + 3]).normalized.matrix
    }

    /// Generalized forces [root (angular, linear); per joint Sᵀ F] of body forces f, by the backward Newton–Euler
    /// recursion over subtrees.
    @differentiable(reverse, wrt: (transforms, f))
    func generalizedForces(_ transforms: [DX], _ f: [DS]) -> [Double] {
        var reversed: [DS] = []  // subtree force of body n−1−k
        for k in 0..<n {
            let i = n - 1 - k
            var total = f[i]
            for c in children[i] { total = total + transforms[c].forceToParent(reversed[n - 1 - c]) }
            reversed = appending(reversed, total)
        }
        var out: [Double] = []
        for i in 0..<n {
            let subtree = reversed[n - 1 - i]
            switch kind[i] {
            case .free:
                out = appending(out, subtree.angular.x)
                out = appending(out, subtree.angular.y)
                out = appending(out, subtree.angular.z)
                out = appending(out, subtree.linear.x)
                out = appending(out, subtree.linear.y)
                out = appending(out, subtree.linear.z)
            case .spherical:
                out = appending(out, subtree.angular.x)
                out = appending(out, subtree.angular.y)
                out = appending(out, subtree.angular.z)
            case .revolute:
                out = appending(out, DV3(constant: axis[i]).dot(subtree.angular))
            }
        }
        return out
    }

    /// The spatial motion S e of generalized coordinate `dof` in body i's joint (zero if the coordinate is elsewhere).
    func unitMotion(_ i: Int, _ dof: Int) -> DS {
        let local = dof - velocityOffset[i]
        switch kind[i] {
        case .free:
            guard (0..<6).contains(local) else { return .zeroVector }
            var v = [0.0, 0, 0, 0, 0, 0]
            v[local] = 1
            return DS(DV3(v[0], v[1], v[2]), DV3(v[3], v[4], v[5]))
        case .spherical:
            guard (0..<3).contains(local) else { return .zeroVector }
            var v = [0.0, 0, 0]
            v[local] = 1
            return DS(DV3(v[0], v[1], v[2]), .zeroVector)
        case .revolute:
            guard local == 0 else { return .zeroVector }
            return DS(DV3(constant: axis[i]), .zeroVector)
        }
    }

    @differentiable(reverse, wrt: (x, u))
    func step(_ x: [Double], _ u: [Double]) -> [Double] {
        let c = configuration
        let dt = c.timeStep
        let v0 = positionCount
        // Kinematics, root first (parents precede children).
        var rotation: [DM3] = [], position: [DV3] = [], transform: [DX] = [], velocity: [DS] = []
        var bias: [DS] = []  // v ×ₘ (S q̇)
        for i in 0..<n {
            if kind[i] == .free {
                rotation = appending(rotation, DQ(x[3], x[4], x[5], x[6]).normalized.matrix)
                position = appending(position, DV3(x[0], x[1], x[2]))
                transform = appending(transform, DX(rotation: DQ(1, 0, 0, 0).matrix, offset: .zero))
                velocity = appending(velocity, DS(DV3(x[v0], x[v0 + 1], x[v0 + 2]), DV3(x[v0 + 3], x[v0 + 4], x[v0 + 5])))
                bias = appending(bias, DS.zeroVector)
            } else {
                let p = parent[i]
                let r = jointRotation(x, i)
                let t = DX(rotation: r, offset: origin[i])
                let vo = v0 + velocityOffset[i]
                let jointVelocity = kind[i] == .revolute
                    ? DS(x[vo] * DV3(constant: axis[i]), .zeroVector)
                    : DS(DV3(x[vo], x[vo + 1], x[vo + 2]), .zeroVector)
                let v = t.motion(velocity[p]) + jointVelocity
                rotation = appending(rotation, rotation[p] * r)
                position = appending(position, position[p] + rotation[p] * DV3(constant: origin[i]))
                transform = appending(transform, t)
                velocity = appending(velocity, v)
                bias = appending(bias, v.crossMotion(jointVelocity))
            }
        }
        // External forces: gravity at the centre of mass, and ground contact.
        var external: [DS] = []
        for i in 0..<n {
            let g = rotation[i].transposeTimes(DV3(constant: mass[i] * c.gravity))
            var f = DS(DV3(constant: com[i]).cross(g), g)
            for (point, radius) in contacts[i] {
                let centre = position[i] + rotation[i] * DV3(constant: point)
                let penetration = radius - centre.y
                if penetration > -30 * c.contactSmoothing {
                    let s = c.contactSmoothing * differentiableSoftplus(penetration / c.contactSmoothing)
                    let lowest = DV3(centre.x, centre.y - radius, centre.z)
                    let local = rotation[i].transposeTimes(lowest - position[i])
                    let pointVelocity = rotation[i] * (velocity[i].linear + velocity[i].angular.cross(local))
                    let scale = 0.01 * c.contactStiffness
                    let normal = s * scale
                        * differentiableSoftplus((c.contactStiffness - c.contactDamping * pointVelocity.y) / scale)
                    let speed = (pointVelocity.x * pointVelocity.x + pointVelocity.z * pointVelocity.z
                        + c.frictionSmoothing * c.frictionSmoothing).squareRoot()
                    let ratio = c.friction * normal / speed
                    let world = DV3(-ratio * pointVelocity.x, normal, -ratio * pointVelocity.z)
                    let force = rotation[i].transposeTimes(world)
                    f = f + DS(local.cross(force), force)
                }
            }
            external = appending(external, f)
        }
        // Bias forces C(q, q̇) (Coriolis, gravity, contact): RNEA with zero generalized acceleration.
        var acceleration: [DS] = []
        var bodyForce: [DS] = []
        for i in 0..<n {
            let a = kind[i] == .free ? DS.zeroVector : transform[i].motion(acceleration[parent[i]]) + bias[i]
            acceleration = appending(acceleration, a)
            bodyForce = appending(bodyForce, momentum(i, a) + velocity[i].crossForce(momentum(i, velocity[i])) - external[i])
        }
        let biasForces = generalizedForces(transform, bodyForce)
        // Stable-PD torques τ = kp (e − dt q̇) − kd q̇ and the implicit-damping armature kd·dt.
        var torque: [Double] = [0, 0, 0, 0, 0, 0]
        var armature: [Double] = [0, 0, 0, 0, 0, 0]
        for i in 1..<n {
            let o = positionOffset[i], vo = v0 + velocityOffset[i], uo = targetOffset[i]
            if kind[i] == .revolute {
                let e = u[uo] - x[o]
                torque = appending(torque, kp[i] * (e - dt * x[vo]) - kd[i] * x[vo])
                armature.append(kd[i] * dt)
            } else {
                let current = DQ(x[o], x[o + 1], x[o + 2], x[o + 3]).normalized
                let goal = DQ(u[uo], u[uo + 1], u[uo + 2], u[uo + 3]).normalized
                let e = (DQ(current.w, -current.x, -current.y, -current.z) * goal).log
                let w = DV3(x[vo], x[vo + 1], x[vo + 2])
                let t = kp[i] * (e - dt * w) - kd[i] * w
                torque = appending(torque, t.x)
                torque = appending(torque, t.y)
                torque = appending(torque, t.z)
                for _ in 0..<3 { armature.append(kd[i] * dt) }
            }
        }
        // Joint-space mass matrix, column by column: RNEA with v = 0, no external force, unit acceleration.
        var massMatrix: [Double] = []
        for dof in 0..<velocityCount {
            var unitAcceleration: [DS] = []
            var unitForce: [DS] = []
            for i in 0..<n {
                let a = kind[i] == .free
                    ? unitMotion(i, dof) : transform[i].motion(unitAcceleration[parent[i]]) + unitMotion(i, dof)
                unitAcceleration = appending(unitAcceleration, a)
                unitForce = appending(unitForce, momentum(i, a))
            }
            let column = generalizedForces(transform, unitForce)
            for row in 0..<velocityCount {
                massMatrix = appending(massMatrix, row == dof ? column[row] + armature[row] : column[row])
            }
        }
        var rightSide: [Double] = []
        for k in 0..<velocityCount { rightSide = appending(rightSide, torque[k] - biasForces[k]) }
        let qdd = solveColumnMajor(massMatrix, rightSide)
        // Semi-implicit Euler: velocities first, positions with the new velocities.
        var w: [Double] = []
        for k in 0..<velocityCount { w = appending(w, x[v0 + k] + dt * qdd[k]) }
        var out: [Double] = []
        let rootQ = DQ(x[3], x[4], x[5], x[6])
        let linear = rootQ.matrix * DV3(w[3], w[4], w[5])
        out = appending(out, x[0] + dt * linear.x)
        out = appending(out, x[1] + dt * linear.y)
        out = appending(out, x[2] + dt * linear.z)
        let newRoot = (rootQ * DQ.exp(dt * DV3(w[0], w[1], w[2]))).normalized
        out = appending(out, newRoot.w)
        out = appending(out, newRoot.x)
        out = appending(out, newRoot.y)
        out = appending(out, newRoot.z)
        for i in 1..<n {
            let o = positionOffset[i], vo = velocityOffset[i]
            if kind[i] == .revolute {
                out = appending(out, x[o] + dt * w[vo])
            } else {
                let q = (DQ(x[o], x[o + 1], x[o + 2], x[o + 3]) * DQ.exp(dt * DV3(w[vo], w[vo + 1], w[vo + 2]))).normalized
                out = appending(out, q.w)
                out = appending(out, q.x)
                out = appending(out, q.y)
                out = appending(out, q.z)
            }
        }
        for k in 0..<velocityCount { out = appending(out, w[k]) }
        return out
    }
}
