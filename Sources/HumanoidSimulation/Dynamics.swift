import _Differentiation
import OptimusNumerics

// MARK: - Generic dynamics

/// Frames, transforms and spatial velocities of every body for a flat state.
///
/// Package-wide and inlinable, with `Simulator.kinematics(_:)` and `Simulator.keypoints(_:kinematics:)`: the
/// reconstruction loss (module HumanMotion) evaluates them on its own scalars, and inlining gives it their specialized
/// code.
@usableFromInline package struct Kinematics<S: ADScalar> {
    @usableFromInline package var rotation: [M3<S>]  // world rotation of each body
    @usableFromInline package var position: [V3<S>]  // world position of each body origin
    @usableFromInline package var transform: [SX<S>]  // parent → body
    @usableFromInline package var velocity: [SV<S>]  // body-frame spatial velocity
    @usableFromInline package var jointVelocity: [SV<S>]  // S q̇ of each joint (body frame)

    /// No bodies yet.
    @inlinable init() {
        rotation = []
        position = []
        transform = []
        velocity = []
        jointVelocity = []
    }
}

extension Simulator {
    /// Joint rotation matrix (child relative to parent, i.e. the child's axes in parent coordinates) of body i.
    @inlinable package func jointMatrix<S: ADScalar>(_ x: [S], _ i: Int) -> M3<S> {
        let o = layout.positionOffset[i]
        if case .revolute(let axis, _, _) = humanoid.bodies[i].joint {
            // Rotation about a fixed unit axis: Rodrigues with the constant axis.
            let c = S.cos(x[o]), s = S.sin(x[o])
            let k = M3<S>(Mat3.skew(axis)), kk = M3<S>(Mat3.skew(axis) * Mat3.skew(axis))
            return M3<S>.diagonal(S(1)) + s * k + (S(1) - c) * kk
        }
        return Q(x[o], x[o + 1], x[o + 2], x[o + 3]).normalized.matrix
    }

    @inlinable package func kinematics<S: ADScalar>(_ x: [S]) -> Kinematics<S> {
        let n = humanoid.bodies.count
        let v0 = layout.positionCount
        var k = Kinematics<S>()
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
    @inlinable package func keypoints<S: ADScalar>(_ x: [S], kinematics k: Kinematics<S>) -> [V3<S>] {
        humanoid.keypointDefinitions.map { k.position[$0.body] + k.rotation[$0.body] * V3<S>($0.offset) }
    }
}
