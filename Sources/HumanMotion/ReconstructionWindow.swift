import _Differentiation
import Foundation
import HumanoidSimulation
import Objectives
import OptimusNumerics

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

    /// The simulated flat states after every step (index 0 = the initial state), for metrics and pictures.
    public func rollout(_ theta: [Double]) -> [[Double]] {
        var states = [start(theta)]
        for t in 0..<steps { states.append(simulator.step(states.last!, target: target(theta, step: t))) }
        return states
    }
}
