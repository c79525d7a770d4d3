import _Differentiation
import HumanoidSimulation
import OptimusNumerics

/// Synthetic observations of a clip (`docs/physics-motion.md`, *Observation protocol*), all drawn from one seeded
/// generator:
///
/// - **Kinematic estimate** (what a per-frame 3D pose estimator would give): the true pose with an independent random
///   rotation on every joint in every frame (rotation vector with σ = `jointNoise` rad per component, default 0.03)
///   and a slowly varying root drift (three random sinusoids per axis with periods 1–4 s, σ ≈ `rootDrift` m, default
///   0.05); its 3D keypoints by forward kinematics plus independent Gaussian noise of σ = `keypointNoise` m (default
///   0.035) per coordinate: per-joint 3D errors of 30–50 mm plus drift, as the observation protocol of
///   `docs/physics-motion.md` suggests.
/// - **2D keypoints**: the true keypoints projected by the camera plus Gaussian pixel noise of σ = `pixelNoise`
///   (default 4 px) per coordinate.
///
/// Metrics are always computed against the clean ground truth.
public struct ObservationModel: Codable, Equatable, Sendable {
    public var jointNoise = 0.03
    public var rootDrift = 0.05
    public var keypointNoise = 0.035
    public var pixelNoise = 4.0
    public init() {}
}

/// Ground truth and observations of a clip at its frame times.
public struct ObservedClip: Sendable {
    public var clip: MotionClip
    public var camera: PinholeCamera
    public var seed: UInt64
    public var model: ObservationModel
    /// Ground-truth keypoints per frame.
    public var truth: [[Vec3]]
    /// The kinematic estimate per frame (noisy poses) and its noisy 3D keypoints.
    public var estimatedPoses: [Pose]
    public var keypoints3D: [[Vec3]]
    /// Noisy 2D keypoints per frame (nil where behind the camera).
    public var keypoints2D: [[SIMD2<Double>?]]

    public init(clip: MotionClip, humanoid: Humanoid, seed: UInt64, model: ObservationModel = .init()) {
        self.clip = clip
        self.seed = seed
        self.model = model
        var g = Xoshiro256StarStar(seed: seed)
        let camera = PinholeCamera.standard(lookingAt: clip.poses[0].rootPosition)
        self.camera = camera
        let truth = clip.poses.map { humanoid.keypoints($0) }
        self.truth = truth
        // Root drift: three sinusoids per axis, amplitudes so that the sum has standard deviation ≈ rootDrift.
        var waves: [(amplitude: Vec3, period: Double, phase: Vec3)] = []
        for _ in 0..<3 {
            let a = model.rootDrift * (2.0 / 3).squareRoot()
            waves.append((Vec3(g.normal() * a, g.normal() * a, g.normal() * a), g.uniform(1, 4),
                          Vec3(g.uniform(0, 2 * .pi), g.uniform(0, 2 * .pi), g.uniform(0, 2 * .pi))))
        }
        var poses: [Pose] = []
        var points: [[Vec3]] = []
        var pixels: [[SIMD2<Double>?]] = []
        for (f, pose) in clip.poses.enumerated() {
            let t = clip.times[f]
            var noisy = pose
            for w in waves {
                let phase = 2 * Double.pi * t / w.period
                noisy.rootPosition += Vec3(w.amplitude.x * sin(phase + w.phase.x), w.amplitude.y * sin(phase + w.phase.y),
                                           w.amplitude.z * sin(phase + w.phase.z))
            }
            for i in noisy.rotations.indices {
                let r = Vec3(g.normal(), g.normal(), g.normal()) * model.jointNoise
                switch humanoid.bodies[i].joint {
                case .revolute(let axis, _, _):
                    noisy.angles[i] += dot(r, axis)
                    noisy.rotations[i] = Quat.axisAngle(axis, noisy.angles[i])
                default:
                    noisy.rotations[i] = (noisy.rotations[i] * Quat.exp(r)).normalized
                }
            }
            poses.append(noisy)
            points.append(humanoid.keypoints(noisy).map {
                $0 + Vec3(g.normal(), g.normal(), g.normal()) * model.keypointNoise
            })
            pixels.append(truth[f].map { p in
                camera.project(p).map { $0 + SIMD2(g.normal(), g.normal()) * model.pixelNoise }
            })
        }
        estimatedPoses = poses
        keypoints3D = points
        keypoints2D = pixels
    }
}
