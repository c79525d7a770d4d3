import Foundation
import OptimusNumerics
import Testing
@testable import HumanMotion
import HumanoidTestSupport

@Suite struct WindowGradientTests {
    static func quarterSecondWindow() throws -> ReconstructionWindow {
        let sim = Simulator(humanoid: TestData.humanoid)
        let observed = ObservedClip(clip: try TestData.clip("walk"), humanoid: TestData.humanoid, seed: 5)
        var options = ReconstructionOptions()
        options.windowSeconds = 0.25
        var x0 = Reconstructor.initialState(observed, simulator: sim)
        for i in sim.layout.positionCount..<(sim.layout.positionCount + 3) { x0[i] = 0 }
        for i in (sim.layout.positionCount + 6)..<x0.count { x0[i] = 0 }
        var w = Reconstructor.window(observed, simulator: sim, start: 0, duration: 0.25, initialState: x0, options: options)
        w.checkpointInterval = 16
        return w
    }

    /// The rollout adjoint against central differences of the loss: along random directions, and per coordinate for
    /// a sample of parameters, on a 0.25 s window (120 steps, 5 keyframes × 36 targets) with contacts.
    @Test func windowGradientMatchesCentralDifferences() throws {
        let w = try Self.quarterSecondWindow()
        #expect(w.steps == 120 && w.dimension == 5 * 36 && w.observedSteps.count == 7)
        var g = Xoshiro256StarStar(seed: 8)
        // Away from the initial point, so every loss term is active.
        let theta = w.initialParameters.map { $0 + 0.05 * g.normal() }
        var gradient = [Double]()
        let value = w.valueAndGradient(at: theta, gradient: &gradient)
        #expect(value.isFinite && value > 0)
        // The rollout is stiff (contacts, PD gains up to 1000): central differences need h ≈ 1e−7 before their
        // truncation error drops below 1e−5 (at h = 1e−6 it is ≈ 1e−4; the exact dual-number tangent is the sharper
        // oracle, see AdjointVersusTangentTests).
        let h = 1e-7
        for trial in 0..<2 {
            let d = (0..<w.dimension).map { _ in g.normal() }
            let plus = w.value(at: zip(theta, d).map { $0 + h * $1 })
            let minus = w.value(at: zip(theta, d).map { $0 - h * $1 })
            let fd = (plus - minus) / (2 * h)
            let analytic = dotProduct(gradient, d)
            print("[window gradient] direction \(trial): adjoint \(analytic), central FD \(fd)")
            #expect(abs(analytic - fd) <= 1e-5 * abs(fd))
        }
        var worst = 0.0
        for i in stride(from: 0, to: w.dimension, by: 23) {
            var p = theta, m = theta
            p[i] += h
            m[i] -= h
            let fd = (w.value(at: p) - w.value(at: m)) / (2 * h)
            let scale = max(abs(fd), 1e-3 * gradient.map(abs).max()!)
            worst = max(worst, abs(gradient[i] - fd) / scale)
        }
        print("[window gradient] worst coordinate error \(worst)")
        #expect(worst <= 1e-5)
    }

    /// The loss terms add up to the loss, and each is nonnegative.
    @Test func lossTermsAddUpToTheLoss() throws {
        let w = try Self.quarterSecondWindow()
        var g = Xoshiro256StarStar(seed: 4)
        let theta = w.initialParameters.map { $0 + 0.05 * g.normal() }
        let terms = w.lossTerms(theta)
        #expect(terms.map(\.term) == ["3D keypoints", "2D keypoints", "foot skate", "penetration", "regularizers"])
        let total = terms.reduce(0) { $0 + $1.value }, value = w.value(at: theta)
        #expect(abs(total - value) <= 1e-12 * value && terms.allSatisfy { $0.value >= 0 })
        #expect(terms[0].value > 0 && terms[1].value > 0)
    }

    /// Checkpointing changes memory, not the result.
    @Test func checkpointIntervalDoesNotChangeTheGradient() throws {
        var w = try Self.quarterSecondWindow()
        var a = [Double](), b = [Double]()
        w.checkpointInterval = 1
        let va = w.valueAndGradient(at: w.initialParameters, gradient: &a)
        w.checkpointInterval = 50
        let vb = w.valueAndGradient(at: w.initialParameters, gradient: &b)
        #expect(va == vb && a == b)
    }
}

@Suite struct ReconstructorTests {
    @Test func windowsCoverTheClipWithOverlap() {
        var o = ReconstructionOptions()
        o.windowSeconds = 0.5
        o.strideSeconds = 0.25
        let w = Reconstructor.windowStarts(duration: 1.2666, options: o)
        #expect(w.map(\.start) == [0, 0.25, 0.5, 0.75, 1.0])  // the remaining 0.27 s is at least half a stride
        #expect(abs(w.last!.start + w.last!.length - 1.2666) < 1e-12)  // the last window runs to the end
        for (a, b) in zip(w, w.dropFirst()) { #expect(a.start + a.length > b.start) }  // overlapping
        #expect(throws: HumanMotionError.self) {
            var long = ReconstructionOptions()
            long.windowSeconds = 2
            try long.validate(clipDuration: 1.27)
        }
    }

    @Test func observationsAreSeededAndNoisyAsDocumented() throws {
        let clip = try TestData.clip("walk")
        let a = ObservedClip(clip: clip, humanoid: TestData.humanoid, seed: 1)
        let b = ObservedClip(clip: clip, humanoid: TestData.humanoid, seed: 1)
        let c = ObservedClip(clip: clip, humanoid: TestData.humanoid, seed: 2)
        #expect(a.keypoints3D == b.keypoints3D && a.keypoints3D != c.keypoints3D)
        // Root-aligned error between 50 and 110 mm: 35 mm per coordinate (≈ 56 mm per keypoint) plus joint noise.
        let e = PoseMetrics.mpjpe(a.keypoints3D, a.truth)
        #expect(e > 50 && e < 110, "observation MPJPE \(e) mm")
        // 2D noise of 4 px per coordinate: mean pixel error ≈ 4·√(π/2) ≈ 5 px.
        var sum = 0.0, n = 0.0
        for (obs, truth) in zip(a.keypoints2D, a.truth) {
            for (o, t) in zip(obs, truth) {
                guard let o, let p = a.camera.project(t) else { continue }
                let d = o - p
                sum += (d * d).sum().squareRoot()
                n += 1
            }
        }
        #expect(abs(sum / n - 4 * (Double.pi / 2).squareRoot()) < 0.5)
    }

    /// The control signal of a window is its keyframe interpolation in clip time, and the next window's keyframes inside
    /// the overlap start from it (those past the previous window's end from the observation).
    @Test func nextWindowStartsFromThePreviousControls() throws {
        let sim = Simulator(humanoid: TestData.humanoid)
        let observed = ObservedClip(clip: try TestData.clip("walk"), humanoid: TestData.humanoid, seed: 5)
        let options = ReconstructionOptions()  // 0.5 s windows every 0.25 s, keyframes every 1/15 s
        let x0 = Reconstructor.initialState(observed, simulator: sim)
        let first = Reconstructor.window(observed, simulator: sim, start: 0.25, duration: 0.5, initialState: x0,
                                         options: options)
        var r = Xoshiro256StarStar(seed: 12)
        let theta = first.initialParameters.map { $0 + 0.1 * r.normal() }
        let n = sim.layout.targetCount
        #expect(first.keyframeCount == 9)
        // At keyframe times the control is the keyframe; half-way it is the mean of the two neighbours.
        let atKeyframe = first.control(theta, atTime: 0.25 + 2.0 / 15)!
        for i in 0..<n { #expect(abs(atKeyframe[i] - theta[2 * n + i]) < 1e-14) }
        let middle = first.control(theta, atTime: 0.25 + 2.5 / 15)!
        for i in 0..<n { #expect(abs(middle[i] - 0.5 * (theta[2 * n + i] + theta[3 * n + i])) < 1e-14) }
        #expect(first.control(theta, atTime: 0.2) == nil && first.control(theta, atTime: 0.76) == nil)
        let next = Reconstructor.window(observed, simulator: sim, start: 0.5, duration: 0.5, initialState: x0,
                                        options: options, previous: (first, theta))
        let fresh = Reconstructor.window(observed, simulator: sim, start: 0.5, duration: 0.5, initialState: x0,
                                         options: options)
        // Keyframes at 0.5 + k/15 ≤ 0.75 (k = 0…3) come from the previous controls (up to the sign of quaternions).
        for k in 0..<9 {
            let warm = Array(next.initialParameters[(k * n)..<((k + 1) * n)])
            let expected = 0.5 + Double(k) / 15 <= 0.75 + 1e-9
                ? first.control(theta, atTime: 0.5 + Double(k) / 15)! : Array(fresh.initialParameters[(k * n)..<((k + 1) * n)])
            var worst = 0.0
            for (b, body) in sim.humanoid.bodies.enumerated() where b > 0 {
                let o = sim.layout.targetOffset[b]
                if case .revolute = body.joint {
                    worst = max(worst, abs(warm[o] - expected[o]))
                } else {
                    let same = (0..<4).map { abs(warm[o + $0] - expected[o + $0]) }.max()!
                    let flipped = (0..<4).map { abs(warm[o + $0] + expected[o + $0]) }.max()!
                    worst = max(worst, min(same, flipped))
                }
            }
            #expect(worst < 1e-14, "keyframe \(k)")
        }
        #expect(next.initialParameters != fresh.initialParameters)
    }

    /// Absurd targets make the stiff PD blow the rollout up: the loss is NaN (a reported outcome), never a crash.
    @Test func blownUpRolloutIsANaNValue() throws {
        let w = try WindowGradientTests.quarterSecondWindow()
        var gradient = [Double]()
        let value = w.valueAndGradient(at: w.initialParameters.map { $0 * 1e9 }, gradient: &gradient)
        #expect(value.isNaN || value.isFinite)
        if value.isNaN { #expect(gradient.allSatisfy { $0.isNaN }) }
    }
}

import _Differentiation

/// A loss written with Swift's autodiff on top of the rollout: Σ (keypoint − 1)² over observed keypoints.
@differentiable(reverse, wrt: theta)
func squaredKeypointLoss(_ window: ReconstructionWindow, _ theta: [Double]) -> Double {
    let k = window.observedKeypoints(theta)
    var s = 0.0
    for i in withoutDerivative(at: k.indices) {
        let d = k[i] - 1
        s = s + d * d
    }
    return s
}

@Suite struct RegisteredDerivativeTests {
    /// Swift autodiff differentiates the loss and calls the registered rollout adjoint; the result matches central
    /// differences of the same composite.
    @Test func swiftAutodiffThroughTheRegisteredRolloutDerivative() throws {
        let w = try WindowGradientTests.quarterSecondWindow()
        let theta = w.initialParameters
        let g = gradient(at: theta) { squaredKeypointLoss(w, $0) }
        var r = Xoshiro256StarStar(seed: 2)
        let d = (0..<w.dimension).map { _ in r.normal() }
        // The exact oracle: dual numbers through the rollout and the same loss.
        let n = w.simulator.layout.targetCount
        let th = zip(theta, d).map { Dual($0, tangent: $1) }
        var x = w.initialState.map { Dual($0) }
        let frames = Set(w.observedSteps)
        var loss = Dual(0)
        for t in 0..<w.steps {
            let (k, a) = w.interpolation(t)
            x = w.simulator.step(x, target: (0..<n).map { (1 - a) * th[k * n + $0] + a * th[(k + 1) * n + $0] })
            guard frames.contains(t + 1) else { continue }
            for p in w.simulator.keypoints(x, kinematics: w.simulator.kinematics(x)) {
                for c in [p.x, p.y, p.z] { loss = loss + (c + -1) * (c + -1) }
            }
        }
        let analytic = dotProduct(Array(g.base), d)
        print("[registered derivative] Swift autodiff \(analytic), dual-number tangent \(loss.tangent)")
        #expect(abs(analytic - loss.tangent) <= 1e-9 * abs(loss.tangent))
    }
}

extension ReconstructionWindow {
    /// The directional derivative of the loss along d, by forward-mode dual numbers through the whole rollout (exact
    /// to rounding): an independent oracle for the adjoint.
    func directionalDerivative(_ theta: [Double], _ d: [Double]) -> Double {
        let n = simulator.layout.targetCount
        let th = zip(theta, d).map { Dual($0, tangent: $1) }
        var x = initialState.map { Dual($0) }
        if optimizesInitialVelocity {
            let p = simulator.layout.positionCount, offset = keyframeCount * n
            for i in 0..<simulator.layout.velocityCount { x[p + i] = th[offset + i] }
        }
        let frameIndex = Dictionary(uniqueKeysWithValues: observedSteps.enumerated().map { ($1, $0) })
        var data = Dual(0)
        for t in 0..<steps {
            let (k, a) = interpolation(t)
            let u = (0..<n).map { (1 - a) * th[k * n + $0] + a * th[(k + 1) * n + $0] }
            x = simulator.step(x, target: u)
            if let j = frameIndex[t + 1] { data = data + frameLoss(x, frame: j) }
        }
        var g = [Double](repeating: 0, count: dimension)
        _ = regularizers(theta, gradient: &g)
        return data.tangent / Double(observedSteps.count) + dotProduct(g, d)
    }
}

@Suite struct AdjointVersusTangentTests {
    /// Also with the first window's initial velocities as parameters, and with the root residual (6 more penalized
    /// controls per keyframe).
    @Test(arguments: [(false, false), (true, false), (false, true)])
    func windowAdjointEqualsDualNumberTangent(optimizeInitialVelocity: Bool, rootResidual: Bool) throws {
        let base = try WindowGradientTests.quarterSecondWindow()
        var sim = base.simulator
        sim.configuration.rootResidual = rootResidual
        let observed = ObservedClip(clip: try TestData.clip("walk"), humanoid: TestData.humanoid, seed: 5)
        var options = ReconstructionOptions()
        options.windowSeconds = 0.25
        var w = Reconstructor.window(observed, simulator: sim, start: 0, duration: 0.25, initialState: base.initialState,
                                     options: options, optimizeInitialVelocity: optimizeInitialVelocity)
        w.checkpointInterval = 16
        let n = rootResidual ? 42 : 36
        #expect(w.dimension == 5 * n + (optimizeInitialVelocity ? 34 : 0))
        var r = Xoshiro256StarStar(seed: 8)
        let theta = w.initialParameters.map { $0 + 0.05 * r.normal() }
        var gradient = [Double]()
        _ = w.valueAndGradient(at: theta, gradient: &gradient)
        let d = (0..<w.dimension).map { _ in r.normal() }
        let tangent = w.directionalDerivative(theta, d)
        let adjoint = dotProduct(gradient, d)
        print("[window adjoint vs tangent] adjoint \(adjoint), dual-number tangent \(tangent)")
        #expect(abs(adjoint - tangent) <= 1e-9 * abs(tangent))
        if rootResidual {  // the residual entries act on the dynamics and are penalized: nonzero gradient
            #expect((0..<5).allSatisfy { k in (36..<42).contains { gradient[k * 42 + $0] != 0 } })
        }
    }
}
