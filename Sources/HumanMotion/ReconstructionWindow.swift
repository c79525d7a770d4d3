import _Differentiation
import Foundation
import Objectives
import OptimusNumerics

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
    /// (``Simulator/Configuration/rootResidual``).
    public var rootResidual = 1.0
    public init() {}
}

/// One reconstruction window as an ``Objective``: the parameters are the PD targets at keyframes (36 per keyframe:
/// a quaternion per spherical joint, an angle per hinge), linearly interpolated to every simulation step; the value
/// is the loss of the simulated motion; the gradient comes from the rollout adjoint (reverse over time, recomputing
/// steps from checkpoints every ``checkpointInterval`` steps, so memory is O(steps/interval + interval) states).
///
/// A rollout that blows up (a non-finite state) gives a NaN value: a reported outcome the optimizers handle.
public struct ReconstructionWindow: Objective, Sendable {
    public let simulator: Simulator
    public let initialState: [Double]
    public let startTime: Double
    public let steps: Int
    public let keyframeInterval: Double
    public let keyframeCount: Int
    /// Simulation step (1…steps) at which each observed frame is compared.
    public let observedSteps: [Int]
    let keypoints3D: [[Vec3]]
    let keypoints2D: [[SIMD2<Double>?]]
    let camera: PinholeCamera
    public let initialParameters: [Double]
    /// Whether the last 34 parameters are the window's initial generalized velocities (for the first window of a
    /// clip, whose velocities are only estimated; later windows start from the previous window's simulated state).
    public let optimizesInitialVelocity: Bool
    public var weights: LossWeights
    public var checkpointInterval = 32

    public var dimension: Int { initialParameters.count }

    public init(simulator: Simulator, initialState: [Double], startTime: Double, duration: Double,
                keyframeInterval: Double, observedSteps: [Int], keypoints3D: [[Vec3]], keypoints2D: [[SIMD2<Double>?]],
                camera: PinholeCamera, initialParameters: [Double], optimizesInitialVelocity: Bool = false,
                weights: LossWeights = .init()) {
        self.simulator = simulator
        self.initialState = initialState
        self.startTime = startTime
        steps = max(1, Int((duration / simulator.configuration.timeStep).rounded()))
        self.keyframeInterval = keyframeInterval
        self.optimizesInitialVelocity = optimizesInitialVelocity
        keyframeCount = (initialParameters.count - (optimizesInitialVelocity ? simulator.layout.velocityCount : 0))
            / simulator.layout.targetCount
        self.observedSteps = observedSteps
        self.keypoints3D = keypoints3D
        self.keypoints2D = keypoints2D
        self.camera = camera
        self.initialParameters = initialParameters
        self.weights = weights
    }

    /// The window's initial state for parameters θ.
    func start(_ theta: [Double]) -> [Double] {
        guard optimizesInitialVelocity else { return initialState }
        var x = initialState
        let p = simulator.layout.positionCount, offset = keyframeCount * simulator.layout.targetCount
        for i in 0..<simulator.layout.velocityCount { x[p + i] = theta[offset + i] }
        return x
    }

    /// Keyframe k and weight α of step t: u_t = (1 − α)·θ_k + α·θ_{k+1}.
    func interpolation(_ t: Int) -> (k: Int, alpha: Double) {
        interpolation(tau: Double(t) * simulator.configuration.timeStep / keyframeInterval)
    }

    /// Keyframe k and weight α at τ keyframe intervals after the window's start (clamped to the window).
    func interpolation(tau: Double) -> (k: Int, alpha: Double) {
        let k = min(max(Int(tau), 0), keyframeCount - 2)
        return (k, min(max(tau - Double(k), 0), 1))
    }

    /// (1 − α)·θ_k + α·θ_{k+1}.
    func blend(_ theta: [Double], _ at: (k: Int, alpha: Double)) -> [Double] {
        let n = simulator.layout.targetCount
        return (0..<n).map { (1 - at.alpha) * theta[at.k * n + $0] + at.alpha * theta[(at.k + 1) * n + $0] }
    }

    /// The interpolated PD target at clip time `time`, or nil outside the window.
    public func control(_ theta: [Double], atTime time: Double) -> [Double]? {
        let local = time - startTime
        guard local >= -1e-9, local <= Double(steps) * simulator.configuration.timeStep + 1e-9 else { return nil }
        return blend(theta, interpolation(tau: local / keyframeInterval))
    }

    func target(_ theta: [Double], step t: Int) -> [Double] { blend(theta, interpolation(t)) }

    // MARK: Loss terms

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

    // MARK: Objective

    public func value(at theta: [Double]) -> Double { compute(theta, gradient: false).value }

    public func valueAndGradient(at theta: [Double], gradient: inout [Double]) -> Double {
        let r = compute(theta, gradient: true)
        gradient = r.gradient ?? [Double](repeating: .nan, count: dimension)
        return r.value
    }

    /// The loss and, when asked, its gradient (NaN everywhere when the rollout blows up).
    public func compute(_ theta: [Double], gradient wantGradient: Bool) -> (value: Double, gradient: [Double]?) {
        let frameIndex = Dictionary(uniqueKeysWithValues: observedSteps.enumerated().map { ($1, $0) })
        let frames = Double(max(1, observedSteps.count))
        let interval = max(1, checkpointInterval)
        var checkpoints: [[Double]] = [start(theta)]
        var x = checkpoints[0]
        var data = 0.0
        for t in 0..<steps {
            x = simulator.step(x, target: target(theta, step: t))
            guard x.allSatisfy(\.isFinite) else {
                return (.nan, wantGradient ? [Double](repeating: .nan, count: dimension) : nil)
            }
            if (t + 1) % interval == 0 { checkpoints.append(x) }
            if let j = frameIndex[t + 1] { data += frameLoss(x, frame: j) }
        }
        var g = [Double](repeating: 0, count: dimension)
        let total = data / frames + regularizers(theta, gradient: &g)
        guard wantGradient else { return (total, nil) }
        let tape = Tape()
        let back = backward(theta, checkpoints: checkpoints) { j, next in
            // ∂(frame loss)/∂x_{t+1} on the tape.
            tape.reset()
            let xv = next.map { tape.variable($0) }
            let l = frameLoss(xv, frame: j)
            let adj = tape.adjoints(seeds: [(l, 1 / frames)])
            return xv.map { adj[Int($0.index)] }
        }
        for i in g.indices { g[i] += back[i] }
        return (total, g)
    }

    /// The forward rollout's checkpoints (every ``checkpointInterval`` steps, the initial state first), or nil when the
    /// rollout blows up.
    func checkpoints(_ theta: [Double]) -> [[Double]]? {
        let interval = max(1, checkpointInterval)
        var checkpoints: [[Double]] = [start(theta)]
        var x = checkpoints[0]
        for t in 0..<steps {
            x = simulator.step(x, target: target(theta, step: t))
            guard x.allSatisfy(\.isFinite) else { return nil }
            if (t + 1) % interval == 0 { checkpoints.append(x) }
        }
        return checkpoints
    }

    /// The rollout adjoint: Σ over observed frames j of (∂x_{t_j}/∂θ)ᵀ·seed(j, x_{t_j}), reverse over time segment by
    /// segment, recomputing each segment's states from its checkpoint.
    func backward(_ theta: [Double], checkpoints: [[Double]], seed: (Int, [Double]) -> [Double]) -> [Double] {
        let frameIndex = Dictionary(uniqueKeysWithValues: observedSteps.enumerated().map { ($1, $0) })
        let interval = max(1, checkpointInterval)
        let tape = Tape()
        let n = simulator.layout.targetCount
        var g = [Double](repeating: 0, count: dimension)
        var bar = [Double](repeating: 0, count: initialState.count)
        var segmentStart = ((steps - 1) / interval) * interval
        while segmentStart >= 0 {
            let segmentEnd = min(segmentStart + interval, steps)
            var states = [checkpoints[segmentStart / interval]]
            for t in segmentStart..<segmentEnd { states.append(simulator.step(states.last!, target: target(theta, step: t))) }
            for t in stride(from: segmentEnd - 1, through: segmentStart, by: -1) {
                if let j = frameIndex[t + 1] {
                    let s = seed(j, states[t + 1 - segmentStart])
                    for i in bar.indices { bar[i] += s[i] }
                }
                let (xb, ub) = simulator.stepAdjoint(states[t - segmentStart], target: target(theta, step: t),
                                                     cotangent: bar, tape: tape)
                bar = xb
                let (k, a) = interpolation(t)
                for i in 0..<n {
                    g[k * n + i] += (1 - a) * ub![i]
                    g[(k + 1) * n + i] += a * ub![i]
                }
            }
            segmentStart -= interval
        }
        if optimizesInitialVelocity {
            let offset = keyframeCount * n, p = simulator.layout.positionCount
            for i in 0..<simulator.layout.velocityCount { g[offset + i] += bar[p + i] }
        }
        return g
    }

    /// The simulated keypoints at every observed frame, flattened (frame-major, then keypoint, then x, y, z): the
    /// rollout as a differentiable function of the keyframe targets. Its reverse derivative is registered with
    /// `@derivative(of:)` (the rollout adjoint), so losses written with Swift's autodiff can be composed with it.
    @differentiable(reverse, wrt: theta)
    public func observedKeypoints(_ theta: [Double]) -> [Double] {
        observedKeypointsAndPullback(theta).value
    }

    @derivative(of: observedKeypoints, wrt: theta)
    public func vjpObservedKeypoints(_ theta: [Double])
        -> (value: [Double], pullback: ([Double].TangentVector) -> [Double].TangentVector)
    {
        let r = observedKeypointsAndPullback(theta)
        return (r.value, { bar in [Double].TangentVector(r.pullback(bar.base)) })
    }

    func observedKeypointsAndPullback(_ theta: [Double]) -> (value: [Double], pullback: ([Double]) -> [Double]) {
        let frameIndex = Dictionary(uniqueKeysWithValues: observedSteps.enumerated().map { ($1, $0) })
        var values = [Double](repeating: .nan, count: observedSteps.count * 54)
        var x = start(theta)
        for t in 0..<steps {
            x = simulator.step(x, target: target(theta, step: t))
            if let j = frameIndex[t + 1] {
                for (k, p) in simulator.keypoints(x).enumerated() {
                    values[j * 54 + 3 * k] = p.x
                    values[j * 54 + 3 * k + 1] = p.y
                    values[j * 54 + 3 * k + 2] = p.z
                }
            }
        }
        let stored = checkpoints(theta)
        return (values, { bar in
            guard let stored, bar.count == values.count else {
                return [Double](repeating: .nan, count: self.dimension)
            }
            let tape = Tape()
            return self.backward(theta, checkpoints: stored) { j, next in
                tape.reset()
                let xv = next.map { tape.variable($0) }
                let k = self.simulator.kinematics(xv)
                let points = self.simulator.keypoints(xv, kinematics: k)
                var seeds: [(TapeScalar, Double)] = []
                for (i, p) in points.enumerated() {
                    seeds += [(p.x, bar[j * 54 + 3 * i]), (p.y, bar[j * 54 + 3 * i + 1]), (p.z, bar[j * 54 + 3 * i + 2])]
                }
                let adj = tape.adjoints(seeds: seeds)
                return xv.map { adj[Int($0.index)] }
            }
        })
    }

    /// The simulated flat states after every step (index 0 = the initial state), for metrics and pictures.
    public func rollout(_ theta: [Double]) -> [[Double]] {
        var states = [start(theta)]
        for t in 0..<steps { states.append(simulator.step(states.last!, target: target(theta, step: t))) }
        return states
    }
}

extension Simulator {
    /// World keypoints of a flat state.
    public func keypoints(_ x: [Double]) -> [Vec3] {
        let k: Kinematics<Double> = kinematics(x)
        return keypoints(x, kinematics: k).map(\.plain)
    }
}
