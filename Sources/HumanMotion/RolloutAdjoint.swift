import _Differentiation
import HumanoidSimulation

/// The rollout adjoint of a window: checkpoints of the forward rollout, the reverse sweep over time that recomputes
/// each segment from its checkpoint, and the observed keypoints with their derivative registered for Swift's autodiff.
extension ReconstructionWindow {
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
}
