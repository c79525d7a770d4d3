import _Differentiation
import OptimusNumerics

/// The integrators of the flat state: semi-implicit Euler (the simulator's step, over any ``ADScalar``) and RK4.
extension Simulator {
    /// One semi-implicit Euler step of a flat state toward a flat target (nil: passive), on any ``ADScalar``: values,
    /// ``Dual`` tangents or ``TapeScalar`` records (the public `step(_:target:)` on `[Double]` is its entry point for
    /// plain values).
    package func step<S: ADScalar>(_ x: [S], target u: [S]?) -> [S] { semiImplicitEuler(x, target: u) }

    /// Velocities first, then positions (`integratePositions`) with the new velocities.
    func semiImplicitEuler<S: ADScalar>(_ x: [S], target u: [S]?) -> [S] {
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
