import _Differentiation
/// A rigid transform: world rotation and world position of a body frame's origin (its joint).
public struct BodyFrame: Equatable, Sendable {
    public var rotation: Mat3
    public var position: Vec3
    /// A point given in the body frame, in world coordinates.
    @inlinable public func apply(_ local: Vec3) -> Vec3 { position + rotation * local }
}

extension Humanoid {
    /// Keypoints of losses and metrics: 13 joint centres plus head top, wrists (hands) and toes.
    public static let keypointNames = [
        "pelvis", "chest", "neck", "head_top", "right_hip", "right_knee", "right_ankle", "right_toe", "right_shoulder",
        "right_elbow", "right_wrist", "left_hip", "left_knee", "left_ankle", "left_toe", "left_shoulder", "left_elbow",
        "left_wrist",
    ]

    /// Keypoint index of each foot's ankle and toe (for foot-skate and contact terms).
    public static let footKeypoints: [(ankle: Int, toe: Int)] = [(6, 7), (13, 14)]

    /// (body, offset in the body frame) of each keypoint.
    public var keypointDefinitions: [(body: Int, offset: Vec3)] {
        var headTop = Vec3(0, 0.2775, 0)  // neck sphere centre + radius along y
        if case .sphere(let c, let r) = bodies[2].shapes.first { headTop = c + Vec3(0, r, 0) }
        func toe(_ b: Int) -> Vec3 {
            if case .box(let c, let h) = bodies[b].shapes.first { return c + Vec3(h.x, -h.y, 0) }
            return .zero
        }
        return [(0, .zero), (1, .zero), (2, .zero), (2, headTop), (3, .zero), (4, .zero), (5, .zero), (5, toe(5)),
                (6, .zero), (7, .zero), (7, wristOffset), (8, .zero), (9, .zero), (10, .zero), (10, toe(10)),
                (11, .zero), (12, .zero), (12, wristOffset)]
    }

    /// World frames of every body (forward kinematics).
    public func frames(_ pose: Pose) -> [BodyFrame] {
        var out = [BodyFrame](repeating: BodyFrame(rotation: .identity, position: .zero), count: bodies.count)
        for (i, b) in bodies.enumerated() {
            if let p = b.parent {
                let parent = out[p]
                out[i] = BodyFrame(rotation: parent.rotation * pose.rotations[i].matrix, position: parent.apply(b.jointOrigin))
            } else {
                out[i] = BodyFrame(rotation: pose.rotations[0].matrix, position: pose.rootPosition)
            }
        }
        return out
    }

    /// World keypoints of a pose (``keypointNames`` order).
    public func keypoints(_ pose: Pose) -> [Vec3] { keypoints(frames: frames(pose)) }

    public func keypoints(frames: [BodyFrame]) -> [Vec3] {
        keypointDefinitions.map { frames[$0.body].apply($0.offset) }
    }
}

/// A pinhole camera looking at a point: u = f·x/z + cx, v = −f·y/z + cy in camera coordinates (x right, y up, z
/// forward), image origin top-left.
public struct PinholeCamera: Equatable, Sendable, Codable {
    public var focalLength: Double
    public var width: Double
    public var height: Double
    public var position: [Double]
    public var target: [Double]

    /// The default of the observation protocol (`docs/physics-motion.md`, *Observation protocol*): f = 1145 px,
    /// 1000×1000 px, 4.5 m to the side of the motion's start (looking along −z at the point 0.9 m above the start),
    /// 1.5 m high.
    public static func standard(lookingAt center: Vec3) -> PinholeCamera {
        PinholeCamera(focalLength: 1145, width: 1000, height: 1000,
                      position: [center.x, 1.5, center.z + 4.5], target: [center.x, 0.9, center.z])
    }

    /// Camera axes (right, up, forward) in world coordinates.
    var axes: (right: Vec3, up: Vec3, forward: Vec3) {
        let p = Vec3(position[0], position[1], position[2]), t = Vec3(target[0], target[1], target[2])
        let forward = (t - p) / norm(t - p)
        var right = cross(forward, Vec3(0, 1, 0))
        right /= norm(right)
        return (right, cross(right, forward), forward)
    }

    /// Pixel coordinates of a world point (nil behind the camera).
    public func project(_ x: Vec3) -> SIMD2<Double>? {
        let (r, u, f) = axes
        let d = x - Vec3(position[0], position[1], position[2])
        let z = dot(d, f)
        guard z > 1e-6 else { return nil }
        return SIMD2(focalLength * dot(d, r) / z + width / 2, -focalLength * dot(d, u) / z + height / 2)
    }
}
