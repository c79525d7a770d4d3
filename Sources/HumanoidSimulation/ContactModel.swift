import _Differentiation
import OptimusNumerics

/// The contact model: gravity and smooth penalty contact with the ground plane y = 0 at candidate points of the
/// collision shapes (see ``Simulator/Configuration`` for its constants).
extension Simulator {
    /// The contact candidates of a humanoid's collision shapes: each sphere's centre, both end spheres of each
    /// capsule, the eight corners of each box (radius 0), in body order.
    static func contactCandidates(_ humanoid: Humanoid) -> [(body: Int, point: Vec3, radius: Double)] {
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
        return points
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

}
