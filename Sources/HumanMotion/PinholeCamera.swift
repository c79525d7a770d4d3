import _Differentiation
import HumanoidSimulation

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
