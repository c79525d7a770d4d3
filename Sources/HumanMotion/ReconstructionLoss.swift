import _Differentiation
import HumanoidSimulation

/// Weights of the reconstruction loss (`docs/physics-motion.md`, *Loss*; the defaults are the suggested starting
/// values listed there, except the two keypoint terms). Every data term is a mean over the window's observed frames.
public struct LossWeights: Codable, Equatable, Sendable {
    /// Mean squared 3D keypoint error (m²) against the kinematic estimate. Default 5 (the suggested start is 1),
    /// chosen on a clip outside the reported ones (walker/0walk_forward, L-BFGS, seed 0) among {1, 5, 20, 50}: MPJPE-G
    /// 98.5, 59.3, 177.9, 75.7 mm; the 3D term is what holds the global position, which 2D cannot fix in depth.
    public var keypoints3D = 5.0
    /// Mean Huber loss of the 2D reprojection error in units of 100 px (quadratic below 100 px). Default 10 (the
    /// suggested start is 1): the 2D keypoints are the sharper cue (tried on walk with the 3D weight at 1:
    /// root-relative MPJPE 99 → 60 mm).
    public var keypoints2D = 10.0
    /// Foot skate: σ((5 cm − toe height)/1 cm) · |horizontal toe velocity|² (m²/s²).
    public var footSkate = 0.1
    /// Ground penetration deeper than 1 cm (squared, m²): the penalty contacts need a few millimetres to carry weight.
    public var penetration = 10.0
    /// Σ‖θ_{k+1} − θ_k‖² over keyframes.
    public var smoothness = 1e-3
    /// Σ‖θ_k − θ_k⁽⁰⁾‖² toward the initial (observed) targets.
    public var prior = 1e-4
    /// Σ(‖q‖² − 1)² over target quaternions, so unnormalized parameters do not drift along their null direction.
    public var quaternionNorm = 1e-2
    /// Squared violation of the hinge limits (knees [−π, 0], elbows [0, π]) by the targets.
    public var jointLimits = 1.0
    /// Σ‖r_k‖² over keyframes of the root residual (torque, force) in body weights, when the simulator has one
    /// (``HumanoidSimulation/Simulator/Configuration/rootResidual``).
    public var rootResidual = 1.0
    public init() {}
}

/// The reconstruction loss of a window: the data terms of an observed frame (differentiable on any
/// ``HumanoidSimulation/ADScalar``, so the rollout adjoint seeds them on a tape) and the regularizers of the
/// parameters with their gradient.
extension ReconstructionWindow {
    /// The data loss of one observed frame j at flat state x.
    func frameLoss<S: ADScalar>(_ x: [S], frame j: Int) -> S {
        let k = simulator.kinematics(x)
        let points = simulator.keypoints(x, kinematics: k)
        var loss = S(0)
        let w = weights
        // 3D keypoints.
        var sum3 = S(0)
        for (p, o) in zip(points, keypoints3D[j]) {
            let d = p - V3<S>(o)
            sum3 += d.dot(d)
        }
        loss += (w.keypoints3D / Double(points.count)) * sum3
        // 2D reprojection (Huber, δ = 1 in units of 100 px).
        let (r, u, f) = camera.axes
        let position = V3<S>(Vec3(camera.position[0], camera.position[1], camera.position[2]))
        var sum2 = S(0)
        var visible = 0
        for (p, o) in zip(points, keypoints2D[j]) {
            guard let o else { continue }
            let d = p - position
            let z = d.dot(V3<S>(f))
            guard z.value > 1e-3 else { continue }
            let px = (camera.focalLength * d.dot(V3<S>(r))) / z + camera.width / 2
            let py = (-camera.focalLength * d.dot(V3<S>(u))) / z + camera.height / 2
            let ex = 0.01 * (px - o.x), ey = 0.01 * (py - o.y)
            let e2 = ex * ex + ey * ey
            sum2 += e2.value <= 1 ? 0.5 * e2 : (e2 + 1e-12).squareRoot() - 0.5
            visible += 1
        }
        if visible > 0 { loss += (w.keypoints2D / Double(visible)) * sum2 }
        // Foot skate at the toes: contact-weighted squared horizontal speed.
        let defs = simulator.humanoid.keypointDefinitions
        for (_, toe) in Humanoid.footKeypoints {
            let body = defs[toe].body
            let local = V3<S>(defs[toe].offset)
            let v = k.rotation[body] * (k.velocity[body].linear + k.velocity[body].angular.cross(local))
            let h = points[toe].y
            let contact = S(1) / (S(1) + S.exp((h - 0.05) / 0.01))
            loss += w.footSkate * (contact * (v.x * v.x + v.z * v.z))
        }
        // Penetration deeper than 1 cm.
        for (body, point, radius) in simulator.contactPoints {
            let y = (k.position[body] + k.rotation[body] * V3<S>(point)).y - radius
            let depth = 0.002 * S.softplus((S(-0.01) - y) / 0.002)
            loss += w.penetration * (depth * depth)
        }
        return loss
    }

    /// Regularizers of the parameters, with their gradient.
    func regularizers(_ theta: [Double], gradient g: inout [Double]) -> Double {
        let n = simulator.layout.targetCount
        let w = weights
        var loss = 0.0
        for k in 0..<keyframeCount {
            for i in 0..<n {
                let idx = k * n + i
                let p = theta[idx] - initialParameters[idx]
                loss += w.prior * p * p
                g[idx] += 2 * w.prior * p
                if k + 1 < keyframeCount {
                    let s = theta[idx + n] - theta[idx]
                    loss += w.smoothness * s * s
                    g[idx + n] += 2 * w.smoothness * s
                    g[idx] -= 2 * w.smoothness * s
                }
            }
            if let ro = simulator.layout.residualOffset {
                for c in 0..<6 {
                    let r = theta[k * n + ro + c]
                    loss += w.rootResidual * r * r
                    g[k * n + ro + c] += 2 * w.rootResidual * r
                }
            }
            for (b, body) in simulator.humanoid.bodies.enumerated() where b > 0 {
                let o = k * n + simulator.layout.targetOffset[b]
                switch body.joint {
                case .revolute(_, let lower, let upper):
                    let over = max(0, theta[o] - upper), under = max(0, lower - theta[o])
                    loss += w.jointLimits * (over * over + under * under)
                    g[o] += 2 * w.jointLimits * (over - under)
                default:
                    var q2 = 0.0
                    for c in 0..<4 { q2 += theta[o + c] * theta[o + c] }
                    loss += w.quaternionNorm * (q2 - 1) * (q2 - 1)
                    for c in 0..<4 { g[o + c] += w.quaternionNorm * 4 * (q2 - 1) * theta[o + c] }
                }
            }
        }
        if optimizesInitialVelocity {
            let offset = keyframeCount * n
            for i in offset..<theta.count {
                let p = theta[i] - initialParameters[i]
                loss += w.prior * p * p
                g[i] += 2 * w.prior * p
            }
        }
        return loss
    }

    /// The loss split into its terms at θ (each data term is its weighted mean over the observed frames; the last
    /// entry is the regularizers): what dominates a window's loss. Costs one rollout per data term.
    public func lossTerms(_ theta: [Double]) -> [(term: String, value: Double)] {
        var none = weights
        none.keypoints3D = 0
        none.keypoints2D = 0
        none.footSkate = 0
        none.penetration = 0
        func only(_ set: (inout LossWeights) -> Void) -> Double {
            var w = self
            w.weights = none
            set(&w.weights)
            var g = [Double](repeating: 0, count: dimension)
            return w.value(at: theta) - w.regularizers(theta, gradient: &g)
        }
        var g = [Double](repeating: 0, count: dimension)
        return [
            ("3D keypoints", only { $0.keypoints3D = weights.keypoints3D }),
            ("2D keypoints", only { $0.keypoints2D = weights.keypoints2D }),
            ("foot skate", only { $0.footSkate = weights.footSkate }),
            ("penetration", only { $0.penetration = weights.penetration }),
            ("regularizers", regularizers(theta, gradient: &g)),
        ]
    }
}
