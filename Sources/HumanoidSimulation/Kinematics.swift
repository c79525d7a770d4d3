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
