import _Differentiation
import Foundation

/// A kinematic pose of the humanoid: root position and orientation (world) and each joint's local rotation.
///
/// `rotations[i]` is body i's rotation relative to its parent (the root's is its world orientation); hinge bodies
/// (knees, elbows) also keep their angle in `angles[i]`, and their rotation is the rotation by that angle about the
/// hinge axis. Indices follow ``Humanoid/bodyNames``.
public struct Pose: Equatable, Sendable {
    public var rootPosition: Vec3
    public var rotations: [Quat]
    public var angles: [Double]

    public init(rootPosition: Vec3, rotations: [Quat], angles: [Double]) {
        self.rootPosition = rootPosition
        self.rotations = rotations
        self.angles = angles
    }

    /// Linear interpolation of positions and angles, normalized lerp (shorter arc) of rotations.
    public static func interpolate(_ a: Pose, _ b: Pose, _ t: Double) -> Pose {
        Pose(rootPosition: a.rootPosition + t * (b.rootPosition - a.rootPosition),
             rotations: zip(a.rotations, b.rotations).map { Quat.nlerp($0, $1, t) },
             angles: zip(a.angles, b.angles).map { $0 + t * ($1 - $0) })
    }
}

/// A DeepMimic motion clip (`docs/physics-motion.md`, *Clip format*): frames of 44 numbers, quaternions w first,
/// y up, metres. Quaternions are normalized on load (some clips store non-unit ones).
public struct MotionClip: Sendable {
    public var name: String
    /// Whether the clip is cyclic ("wrap").
    public var loops: Bool
    /// Time of each frame from the first (s).
    public var times: [Double]
    public var poses: [Pose]

    /// Time from the first to the last frame.
    public var duration: Double { times.last ?? 0 }
    /// Mean frame rate.
    public var frameRate: Double { times.count > 1 ? Double(times.count - 1) / duration : 0 }

    /// A clip of given frames (the reconstruction builds one of the estimated poses, to interpolate them).
    package init(name: String, loops: Bool, times: [Double], poses: [Pose]) {
        self.name = name
        self.loops = loops
        self.times = times
        self.poses = poses
    }

    /// Hinge bodies and the frame index of their angle; spherical bodies and the index of their quaternion.
    static let layout: [(body: Int, index: Int, hinge: Bool)] = [
        (1, 8, false), (2, 12, false), (3, 16, false), (4, 20, true), (5, 21, false), (6, 25, false), (7, 29, true),
        (8, 30, false), (9, 34, true), (10, 35, false), (11, 39, false), (12, 43, true),
    ]

    /// Parses a clip file. Errors name the file, the frame and the problem.
    public static func load(_ url: URL, humanoid: Humanoid) throws(HumanMotionError) -> MotionClip {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw .file(url.path, "cannot read the clip") }
        return try parse(data, name: url.deletingPathExtension().lastPathComponent.replacingOccurrences(of: "humanoid3d_", with: ""),
                         path: url.path, humanoid: humanoid)
    }

    public static func parse(_ data: Data, name: String, path: String, humanoid: Humanoid) throws(HumanMotionError)
        -> MotionClip
    {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw .file(path, "not a JSON clip: \(error.localizedDescription)")
        }
        guard let dict = object as? [String: Any] else { throw .file(path, "a clip must be a JSON object with \"Frames\"") }
        guard let frames = dict["Frames"] as? [[Any]] else { throw .file(path, "\"Frames\" must be an array of frames") }
        guard frames.count >= 2 else { throw .file(path, "\"Frames\" has \(frames.count) frame(s); a clip needs at least 2") }
        let loops = (dict["Loop"] as? String) == "wrap"
        var times: [Double] = []
        var poses: [Pose] = []
        var t = 0.0
        for (f, raw) in frames.enumerated() {
            let values = raw.compactMap { ($0 as? NSNumber)?.doubleValue }
            guard raw.count == 44, values.count == 44, values.allSatisfy(\.isFinite) else {
                throw .file(path, "frame \(f): expected 44 finite numbers, found \(raw.count) entries")
            }
            guard values[0] >= 0 else { throw .file(path, "frame \(f): negative frame duration \(values[0])") }
            func quat(_ i: Int) throws(HumanMotionError) -> Quat {
                let q = Quat(w: values[i], x: values[i + 1], y: values[i + 2], z: values[i + 3])
                guard q.squaredNorm > 1e-12 else { throw .file(path, "frame \(f): zero quaternion at index \(i)") }
                return q.normalized
            }
            var rotations = [Quat](repeating: .identity, count: humanoid.bodies.count)
            var angles = [Double](repeating: 0, count: humanoid.bodies.count)
            rotations[0] = try quat(4)
            for (body, index, hinge) in layout {
                if hinge {
                    angles[body] = values[index]
                    guard case .revolute(let axis, _, _) = humanoid.bodies[body].joint else { continue }
                    rotations[body] = Quat.axisAngle(axis, values[index])
                } else {
                    rotations[body] = try quat(index)
                }
            }
            times.append(t)
            poses.append(Pose(rootPosition: Vec3(values[1], values[2], values[3]), rotations: rotations, angles: angles))
            t += values[0]
        }
        guard times.last! > 0 else { throw .file(path, "all frame durations are 0") }
        return MotionClip(name: name, loops: loops, times: times, poses: poses)
    }

    /// The pose at time t (s, clamped to the clip), interpolated between the neighbouring frames.
    public func pose(at t: Double) -> Pose {
        if t <= 0 { return poses[0] }
        if t >= duration { return poses[poses.count - 1] }
        var hi = times.firstIndex { $0 > t } ?? times.count - 1
        hi = max(1, hi)
        let lo = hi - 1
        let span = times[hi] - times[lo]
        let fraction = span > 0 ? (t - times[lo]) / span : 1
        return fraction == 0 ? poses[lo] : fraction == 1 ? poses[hi] : Pose.interpolate(poses[lo], poses[hi], fraction)
    }
}

/// Where the project's humanoid data lives: `$OPTIMUS_DATA`, else a `data/humanoid-motions` folder next to or above
/// the executable or the current folder.
public enum MotionData {
    public static func folder() -> URL? {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["OPTIMUS_DATA"] {
            let url = URL(fileURLWithPath: dir)
            return fm.fileExists(atPath: url.appendingPathComponent("humanoid.urdf").path) ? url : nil
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for start in [executable.deletingLastPathComponent(), URL(fileURLWithPath: fm.currentDirectoryPath)] {
            var folder = start
            for _ in 0..<6 {
                let url = folder.appendingPathComponent("data/humanoid-motions")
                if fm.fileExists(atPath: url.appendingPathComponent("humanoid.urdf").path) { return url }
                folder.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// Clip names (file names without `humanoid3d_` and `.txt`; walker clips as `walker/NAME`).
    public static func clipNames(in folder: URL) -> [String] {
        let fm = FileManager.default
        let clips = folder.appendingPathComponent("clips")
        var names = ((try? fm.contentsOfDirectory(atPath: clips.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)).replacingOccurrences(of: "humanoid3d_", with: "") }
        names += ((try? fm.contentsOfDirectory(atPath: clips.appendingPathComponent("walker").path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.map { "walker/" + String($0.dropLast(4)) }
        return names.sorted()
    }

    /// The file of a clip name.
    public static func clipURL(_ name: String, in folder: URL) -> URL {
        let clips = folder.appendingPathComponent("clips")
        return name.hasPrefix("walker/") ? clips.appendingPathComponent(name + ".txt")
            : clips.appendingPathComponent("humanoid3d_\(name).txt")
    }
}
