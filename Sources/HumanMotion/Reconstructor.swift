import _Differentiation
import Foundation
import HumanoidSimulation
import Objectives
import Optimizers
import OptimusNumerics
import Synchronization

/// How a clip is cut into windows and how each is solved.
public struct ReconstructionOptions: Codable, Equatable, Sendable {
    /// Window length (s); the last window ends at the clip's end.
    public var windowSeconds = 0.5
    /// Start-to-start distance of windows (s): windows overlap by windowSeconds − strideSeconds.
    public var strideSeconds = 0.25
    /// Keyframe spacing of the PD targets (s).
    public var keyframeInterval = 1.0 / 15
    /// Optimizer iterations per window.
    public var iterations = 100
    /// Objective evaluations per window, besides the one of its starting point (nil: no limit but `iterations`): the
    /// budget at which solvers are compared (a learned optimizer spends one per iteration, a line search more).
    public var maxEvaluations: Int? = nil
    /// Start the first window from the ground-truth state instead of the estimate (an oracle, for ablations only).
    public var initialStateFromTruth = false
    /// Also optimize the first window's initial velocities (34 parameters; they are only estimated from the noisy
    /// observation, and a wrong initial momentum cannot be undone by joint torques alone). Off by default: on walk and
    /// dance_a with L-BFGS it made the results worse (walk MPJPE 60 → 79 mm, dance_a 199 → 358 mm; seed 0).
    public var optimizeInitialVelocity = false
    /// Initialize each window's keyframes inside the overlap with the previous window from the previous window's
    /// optimized control signal (sampled at the new keyframe times) instead of the observed poses; keyframes past the
    /// previous window's end start from the observation as before. Off by default: on the two clips outside the
    /// reported table it made L-BFGS worse (walker/0walk_forward MPJPE 35.6 → 69.1 mm, dance_b MPJPE-G 543 → 843 mm;
    /// seed 0): the previous window's controls near its end are fitted without the frames that follow and are a worse
    /// start than the observed poses.
    public var warmStartControls = false
    /// The optimizer works on θ / `parameterScale` (``ScaledObjective``): a step of 1 moves a target by this much. For
    /// optimizers whose steps are not invariant to the units of the variables (Adam, the learned optimizers); L-BFGS
    /// rescales its steps by measured curvature and is nearly invariant.
    public var parameterScale = 1.0
    /// End a window's search early with the paper's stopping rule (``Optimizers/StoppingRule/paper``: stop once the
    /// value exceeds the mean of the previous five), as the paper's Table 4 runs Optimus by default. Off by default:
    /// every solver spends its whole budget.
    public var stoppingRule = false
    /// Restart the optimizer from the best point so far whenever an iterate's loss rises above the best by more than
    /// this fraction (``Optimizers/RestartOnIncrease``), or nil (default): a safeguard for methods without a line search.
    public var restartMargin: Double? = nil
    /// Run the optimizer inside basin hopping (the paper's Table 4 "Optimus + BasinHopping"), or nil (default).
    public var basinHopping: BasinHoppingSettings? = nil
    public var weights = LossWeights()
    public init() {}

    /// Basin hopping (``Optimizers/BasinHopping``) around each window's optimizer, in the reconstruction's units.
    public struct BasinHoppingSettings: Codable, Equatable, Sendable {
        /// Iterations of each local search before a hop.
        public var localIterations = 25
        /// Half-width of the uniform hop of every PD target, in radians (independent of ``parameterScale``).
        public var hopSize = 0.02
        /// Metropolis temperature as a fraction of the window's starting loss (window losses differ by decades).
        public var temperature = 0.05
        /// Seed of the hops; window w uses seed + w.
        public var seed: UInt64 = 0
        public init() {}

        public func validate() throws(HumanMotionError) {
            guard localIterations >= 1 else {
                throw .invalid("basinHopping.localIterations", "must be ≥ 1, got \(localIterations)")
            }
            guard hopSize > 0, hopSize.isFinite else {
                throw .invalid("basinHopping.hopSize", "must be a finite number > 0 (radians), got \(hopSize)")
            }
            guard temperature > 0, temperature.isFinite else {
                throw .invalid("basinHopping.temperature", "must be a finite number > 0 (a fraction of the window's "
                    + "starting loss), got \(temperature)")
            }
        }
    }

    public func validate(clipDuration: Double) throws(HumanMotionError) {
        guard windowSeconds >= 0.1, windowSeconds.isFinite else {
            throw .invalid("windowSeconds", "must be at least 0.1 s, got \(windowSeconds)")
        }
        guard strideSeconds > 0, strideSeconds <= windowSeconds else {
            throw .invalid("strideSeconds", "must be in (0, windowSeconds], got \(strideSeconds)")
        }
        guard keyframeInterval >= 1.0 / 120, keyframeInterval <= windowSeconds / 2 else {
            throw .invalid("keyframeInterval", "must be in [1/120 s, windowSeconds/2], got \(keyframeInterval)")
        }
        guard iterations >= 0 else { throw .invalid("iterations", "must be ≥ 0") }
        if let maxEvaluations, maxEvaluations < 1 { throw .invalid("maxEvaluations", "must be ≥ 1, got \(maxEvaluations)") }
        guard parameterScale > 0, parameterScale.isFinite else {
            throw .invalid("parameterScale", "must be a finite number > 0, got \(parameterScale)")
        }
        try basinHopping?.validate()
        if let restartMargin, !(restartMargin >= 0 && restartMargin.isFinite) {
            throw .invalid("restartMargin", "must be a finite number ≥ 0, got \(restartMargin)")
        }
        guard clipDuration + 1e-9 >= windowSeconds else {
            throw .invalid("windowSeconds", String(format: "%.3g s is longer than the clip (%.3g s); use a shorter window",
                                                   windowSeconds, clipDuration))
        }
    }
}

/// The outcome of reconstructing a clip.
public struct ReconstructionResult: Codable, Sendable {
    public struct Window: Codable, Sendable {
        public var start: Double
        public var duration: Double
        public var parameters: Int
        public var initialLoss: Double
        public var finalLoss: Double
        public var iterations: Int
        public var evaluations: Int
        public var termination: String
        public var seconds: Double
        /// Of ``seconds``, the time spent outside the objective's evaluations: the optimizer's own steps (nil in
        /// results made before it was recorded).
        public var optimizerSeconds: Double? = nil
        /// The best loss after each iteration: [evaluations so far, best value] pairs, the first for the start (nil in
        /// results made before it was recorded).
        public var trace: [[Double]]? = nil
    }
    public var clip: String
    public var optimizer: String
    public var seed: UInt64
    public var options: ReconstructionOptions
    public var windows: [Window]
    /// Metrics of the reconstruction and of the raw kinematic observation, against the ground truth.
    public var metrics: PoseMetrics.Values
    public var observationMetrics: PoseMetrics.Values
    public var evaluations: Int
    public var seconds: Double
    /// Reconstructed keypoints per clip frame.
    public var keypoints: [[Vec3]]
    /// Whether every window's rollout stayed finite.
    public var finite: Bool
    /// With a root residual (``HumanoidSimulation/Simulator/Configuration/rootResidual``): its force and torque
    /// magnitudes over the keyframes that drive the kept part of each window, in body weights (m·g; N·m per metre for
    /// the torque).
    public var rootResidual: ResidualSummary?
    /// The learned optimizer's checkpoint file and its SHA-256, recorded by the caller (nil for classical optimizers
    /// and in results made before they were recorded).
    public var checkpoint: String? = nil
    public var checkpointSHA256: String? = nil
    /// The simulator's friction regularization speed (m/s), ``HumanoidSimulation/Simulator/Configuration/frictionSmoothing``
    /// (nil in results made before it was recorded, all with 0.01 m/s).
    public var frictionSmoothing: Double? = nil

    public struct ResidualSummary: Codable, Sendable {
        public var meanForce: Double
        public var maxForce: Double
        public var meanTorque: Double
    }
}

/// Reconstructs a clip window by window, each warm-started from the previous window's simulated state at its start.
public enum Reconstructor {
    /// The first window's initial state: the observed (noisy) first pose, lifted so that no contact point is below the
    /// ground, with velocities from finite differences of the observed poses over the first 0.1 s (a span long enough
    /// to average the per-frame noise).
    /// With `fromTruth`, the same from the ground-truth poses instead: an oracle for ablations (how much of the error
    /// comes from the estimated start).
    /// `time` (s) places the state later in the clip (training windows start from the ground truth anywhere).
    public static func initialState(_ observed: ObservedClip, simulator: Simulator, fromTruth: Bool = false,
                                    at time: Double = 0) -> [Double] {
        let estimate = MotionClip(name: "estimate", loops: false, times: observed.clip.times,
                                  poses: fromTruth ? observed.clip.poses : observed.estimatedPoses)
        let duration = observed.clip.duration
        let t0 = min(max(time, 0), duration)
        var pose = estimate.pose(at: t0)
        let frames = simulator.humanoid.frames(pose)
        let lowest = simulator.contactPoints.map { frames[$0.body].apply($0.point).y - $0.radius }.min() ?? 0
        pose.rootPosition.y -= min(lowest, 0)
        var s = SimulationState(resting: pose)
        let h = min(0.1, duration)
        let t1 = t0 + h <= duration + 1e-12 ? t0 + h : t0 - h  // near the end: a backward difference
        let sign = t1 > t0 ? 1.0 : -1.0
        let velocity = sign * (estimate.pose(at: t1).rootPosition - estimate.pose(at: t0).rootPosition) / h
        s.rootLinearVelocity = pose.rotations[0].conjugate.rotate(velocity)
        let later = estimate.pose(at: t1)
        for (i, b) in simulator.humanoid.bodies.enumerated() {
            switch b.joint {
            case .revolute: s.velocities[i] = Vec3(sign * (later.angles[i] - pose.angles[i]) / h, 0, 0)
            default: s.velocities[i] = sign * (pose.rotations[i].conjugate * later.rotations[i]).log / h
            }
        }
        return simulator.flatten(s)
    }

    /// The window starting at `start` (s) of length `duration`, from `initialState`.
    /// With `previous` (a solved window and its parameters), keyframes that fall inside the previous window start from
    /// its control signal at their time (see ``ReconstructionOptions/warmStartControls``).
    public static func window(_ observed: ObservedClip, simulator: Simulator, start: Double, duration: Double,
                              initialState: [Double], options: ReconstructionOptions,
                              optimizeInitialVelocity: Bool = false,
                              previous: (window: ReconstructionWindow, parameters: [Double])? = nil) -> ReconstructionWindow {
        let clip = observed.clip
        let dt = simulator.configuration.timeStep
        var steps: [Int] = [], p3: [[Vec3]] = [], p2: [[SIMD2<Double>?]] = []
        for (f, t) in clip.times.enumerated() where t > start + 1e-9 && t <= start + duration + 1e-9 {
            steps.append(Int(((t - start) / dt).rounded()))
            p3.append(observed.keypoints3D[f])
            p2.append(observed.keypoints2D[f])
        }
        let estimate = MotionClip(name: "estimate", loops: false, times: clip.times, poses: observed.estimatedPoses)
        let count = Int((duration / options.keyframeInterval - 1e-9).rounded(.up)) + 1
        var theta: [Double] = []
        var lastKeyframe: [Double]?
        for k in 0..<count {
            let time = min(start + Double(k) * options.keyframeInterval, clip.duration)
            var u: [Double]
            if let previous, let earlier = previous.window.control(previous.parameters, atTime: time) {
                u = earlier
            } else {
                u = simulator.flattenTarget(estimate.pose(at: time))
            }
            if let lastKeyframe {  // same hemisphere as the previous keyframe, so interpolation takes the short way
                for (b, body) in simulator.humanoid.bodies.enumerated() where b > 0 {
                    guard case .spherical = body.joint else { continue }
                    let o = simulator.layout.targetOffset[b]
                    let d = (0..<4).reduce(0.0) { $0 + u[o + $1] * lastKeyframe[o + $1] }
                    if d < 0 { for c in 0..<4 { u[o + c] = -u[o + c] } }
                }
            }
            theta += u
            lastKeyframe = u
        }
        if optimizeInitialVelocity { theta += initialState[simulator.layout.positionCount...] }
        return ReconstructionWindow(simulator: simulator, initialState: initialState, startTime: start, duration: duration,
                                    keyframeInterval: options.keyframeInterval, observedSteps: steps, keypoints3D: p3,
                                    keypoints2D: p2, camera: observed.camera, initialParameters: theta,
                                    optimizesInitialVelocity: optimizeInitialVelocity, weights: options.weights)
    }

    /// Window start times: 0, stride, 2·stride, … while a window of at least half the stride remains.
    public static func windowStarts(duration: Double, options: ReconstructionOptions) -> [(start: Double, length: Double)] {
        var out: [(Double, Double)] = []
        var start = 0.0
        while true {
            let length = min(options.windowSeconds, duration - start)
            out.append((start, length))
            if start + length >= duration - 1e-9 { break }
            let next = start + options.strideSeconds
            if duration - next < 0.5 * options.strideSeconds { out[out.count - 1].1 = duration - start; break }
            start = next
        }
        return out
    }

    /// Reconstructs the observed clip with `optimizer`.
    public static func run(_ observed: ObservedClip, simulator: Simulator, optimizer: any Optimizer, optimizerName: String,
                           options: ReconstructionOptions,
                           progress: (Int, Int, ReconstructionResult.Window) -> Void = { _, _, _ in })
        throws(HumanMotionError) -> ReconstructionResult
    {
        let clip = observed.clip
        try options.validate(clipDuration: clip.duration)
        let t0 = ContinuousClock.now
        let starts = windowStarts(duration: clip.duration, options: options)
        let dt = simulator.configuration.timeStep
        var keypoints = [[Vec3]?](repeating: nil, count: clip.poses.count)
        var state = initialState(observed, simulator: simulator, fromTruth: options.initialStateFromTruth)
        var windows: [ReconstructionResult.Window] = []
        var previous: (window: ReconstructionWindow, parameters: [Double])?
        var residualForces: [Double] = [], residualTorques: [Double] = []
        var evaluations = 0
        var finite = true
        for (w, (start, length)) in starts.enumerated() {
            let problem = window(observed, simulator: simulator, start: start, duration: length, initialState: state,
                                 options: options, optimizeInitialVelocity: w == 0 && options.optimizeInitialVelocity,
                                 previous: options.warmStartControls ? previous : nil)
            let w0 = ContinuousClock.now
            let initialLoss = problem.value(at: problem.initialParameters)
            var theta = problem.initialParameters
            var record = ReconstructionResult.Window(start: start, duration: length, parameters: problem.dimension,
                                                     initialLoss: initialLoss, finalLoss: initialLoss, iterations: 0,
                                                     evaluations: 1, termination: "none", seconds: 0)
            if options.iterations > 0 {
                let clock = EvaluationClock()
                let scaled = ScaledObjective(TimedObjective(base: problem, clock: clock), scale: options.parameterScale)
                let settings = MinimizationOptions(maxIterations: options.iterations,
                                                   maxEvaluations: options.maxEvaluations, gradientTolerance: 1e-10,
                                                   stoppingRule: options.stoppingRule ? .paper : nil, recordTrace: true)
                // The optimizer, inside the restart safeguard and then basin hopping when they are asked for.
                var method = AnyOptimizer(optimizer)
                if let margin = options.restartMargin {
                    method = AnyOptimizer(RestartOnIncrease(local: method, margin: margin))
                }
                if let hopping = options.basinHopping {
                    method = AnyOptimizer(BasinHopping(
                        local: method, localIterations: hopping.localIterations,
                        stepSize: hopping.hopSize / options.parameterScale,
                        temperature: hopping.temperature * max(initialLoss, .leastNormalMagnitude),
                        seed: hopping.seed &+ UInt64(w)))
                }
                let result = try? minimize(scaled, from: scaled.scale(theta), using: method, options: settings)
                if let result { record.optimizerSeconds = max(0, result.seconds - clock.seconds) }
                if let result, result.value.isFinite, result.value <= initialLoss || !initialLoss.isFinite {
                    theta = scaled.unscale(result.x)
                    record.finalLoss = result.value
                }
                record.iterations = result?.iterations ?? 0
                record.evaluations += result?.functionEvaluations ?? 0
                record.termination = result?.termination.rawValue ?? "invalidStart"
                record.trace = result?.trace?.map { [Double($0.evaluations), $0.bestValue] }
            }
            record.seconds = (ContinuousClock.now - w0).inSeconds
            evaluations += record.evaluations
            windows.append(record)
            progress(w + 1, starts.count, record)
            previous = (problem, theta)
            if let ro = simulator.layout.residualOffset {
                let n = simulator.layout.targetCount
                let kept = w + 1 < starts.count ? starts[w + 1].start - start : length
                for k in 0..<problem.keyframeCount where Double(k) * options.keyframeInterval <= kept + 1e-9 {
                    let r = Array(theta[(k * n + ro)..<(k * n + ro + 6)])
                    residualTorques.append((r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).squareRoot())
                    residualForces.append((r[3] * r[3] + r[4] * r[4] + r[5] * r[5]).squareRoot())
                }
            }
            let states = problem.rollout(theta)
            if !(states.last?.allSatisfy(\.isFinite) ?? false) { finite = false }
            let end = w + 1 < starts.count ? starts[w + 1].start : clip.duration + 1
            for (f, t) in clip.times.enumerated() where t >= start - 1e-9 && t < end - 1e-9 && keypoints[f] == nil {
                let step = min(states.count - 1, Int(((t - start) / dt).rounded()))
                keypoints[f] = simulator.keypoints(states[step])
            }
            if w + 1 < starts.count {
                state = states[min(states.count - 1, Int(((starts[w + 1].start - start) / dt).rounded()))]
                if !state.allSatisfy(\.isFinite) {
                    // A blown-up window: restart the next one from the observation, and report it.
                    finite = false
                    state = initialState(observed, simulator: simulator)
                }
            }
        }
        let predicted = keypoints.enumerated().map { $1 ?? observed.keypoints3D[$0] }
        let frameDt = clip.duration / Double(max(1, clip.poses.count - 1))
        var residual: ReconstructionResult.ResidualSummary?
        if !residualForces.isEmpty {
            let count = Double(residualForces.count)
            residual = .init(meanForce: residualForces.reduce(0, +) / count, maxForce: residualForces.max()!,
                             meanTorque: residualTorques.reduce(0, +) / count)
        }
        let metrics = PoseMetrics.all(predicted: predicted, truth: observed.truth, dt: frameDt, camera: observed.camera)
        let raw = PoseMetrics.all(predicted: observed.keypoints3D, truth: observed.truth, dt: frameDt, camera: observed.camera)
        return ReconstructionResult(clip: clip.name, optimizer: optimizerName, seed: observed.seed, options: options,
                                    windows: windows, metrics: metrics, observationMetrics: raw,
                                    evaluations: evaluations, seconds: (ContinuousClock.now - t0).inSeconds,
                                    keypoints: predicted, finite: finite, rootResidual: residual,
                                    frictionSmoothing: simulator.configuration.frictionSmoothing)
    }
}

/// Accumulates the time spent in a window's objective evaluations (one window at a time, on one thread).
final class EvaluationClock: Sendable {
    private let elapsed = Mutex<Duration>(.zero)
    var seconds: Double { elapsed.withLock { $0 }.inSeconds }
    func add(_ d: Duration) { elapsed.withLock { $0 += d } }
}

/// An objective that times its evaluations on an ``EvaluationClock``.
struct TimedObjective<Base: Objective>: Objective {
    let base: Base
    let clock: EvaluationClock
    var dimension: Int { base.dimension }
    func value(at x: [Double]) -> Double { timed { base.value(at: x) } }
    func valueAndGradient(at x: [Double], gradient: inout [Double]) -> Double {
        timed { base.valueAndGradient(at: x, gradient: &gradient) }
    }
    func hessianVectorProduct(at x: [Double], direction v: [Double]) -> [Double] {
        timed { base.hessianVectorProduct(at: x, direction: v) }
    }
    private func timed<T>(_ body: () -> T) -> T {
        let t0 = ContinuousClock.now
        defer { clock.add(ContinuousClock.now - t0) }
        return body()
    }
}
