import _Differentiation
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The 13-body DeepMimic humanoid of `data/humanoid-motions/humanoid.urdf`, in metres (the file is 4× metric and is
/// loaded with scale 0.25), y up.
///
/// Bodies in clip order: root (free 6-DoF base), chest, neck, right hip, knee, ankle, shoulder, elbow, then the left
/// side. The fixed wrists are merged into the elbow bodies. The URDF's inertia tensors are placeholders (0.1), so every
/// body's inertia is computed from its collision shapes (solid spheres, capsules, boxes of the link's mass, the wrist
/// sphere added by the parallel-axis theorem). PD gains are pybullet DeepMimic's (`humanoid_stable_pd.py`), which the
/// URDF does not carry. `docs/physics-motion.md`, *Humanoid model*.
public struct Humanoid: Sendable {
    public enum Joint: Equatable, Sendable {
        case free
        case spherical
        /// A hinge about `axis` (body frame) with limits in radians.
        case revolute(axis: Vec3, lower: Double, upper: Double)

        /// Velocity degrees of freedom.
        public var dof: Int {
            switch self {
            case .free: 6
            case .spherical: 3
            case .revolute: 1
            }
        }
    }

    public enum Shape: Equatable, Sendable {
        case sphere(center: Vec3, radius: Double)
        /// A capsule along the body's y axis: cylinder of `length` between the centres of its end spheres.
        case capsule(center: Vec3, radius: Double, length: Double)
        case box(center: Vec3, halfExtents: Vec3)
    }

    public struct Body: Sendable {
        public var name: String
        /// Index of the parent body (nil for the root); parents come before children.
        public var parent: Int?
        public var joint: Joint
        /// Joint position in the parent's frame (m); the body frame's origin is at its joint.
        public var jointOrigin: Vec3
        public var mass: Double
        /// Centre of mass in the body frame.
        public var centerOfMass: Vec3
        /// Rotational inertia about the centre of mass, body frame (kg·m²).
        public var inertia: Mat3
        public var shapes: [Shape]
        /// PD gains (pybullet DeepMimic); 0 for the root.
        public var kp: Double
        public var kd: Double
    }

    public var bodies: [Body]
    /// Offset of the wrist (hand keypoint) in the elbow body's frame.
    public var wristOffset: Vec3

    /// Body names in clip order.
    public static let bodyNames = ["root", "chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder",
                                   "right_elbow", "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow"]

    static let gains: [String: (kp: Double, kd: Double)] = [
        "chest": (1000, 100), "neck": (100, 10), "right_hip": (500, 50), "right_knee": (500, 50),
        "right_ankle": (400, 40), "right_shoulder": (400, 40), "right_elbow": (300, 30), "left_hip": (500, 50),
        "left_knee": (500, 50), "left_ankle": (400, 40), "left_shoulder": (400, 40), "left_elbow": (300, 30),
    ]

    public var totalMass: Double { bodies.reduce(0) { $0 + $1.mass } }
    /// Velocity degrees of freedom (34).
    public var velocityDimension: Int { bodies.reduce(0) { $0 + $1.joint.dof } }
    public var spatialIndex: [String: Int] { Dictionary(uniqueKeysWithValues: bodies.enumerated().map { ($1.name, $0) }) }

    /// Loads the URDF (CRLF and a trailing NUL byte are tolerated).
    public static func load(urdf url: URL, scale: Double = 0.25) throws(HumanMotionError) -> Humanoid {
        guard var data = FileManager.default.contents(atPath: url.path) else {
            throw .file(url.path, "cannot read the humanoid model")
        }
        while let last = data.last, last == 0 || last == 10 || last == 13 || last == 32 { data.removeLast() }
        let document: XMLDocument
        do { document = try XMLDocument(data: data) } catch {
            throw .file(url.path, "not valid URDF/XML: \(error.localizedDescription)")
        }
        guard let robot = document.rootElement(), robot.name == "robot" else { throw .file(url.path, "no <robot> element") }

        func vector(_ s: String?, _ field: String) throws(HumanMotionError) -> Vec3 {
            let parts = (s ?? "0 0 0").split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
            guard parts.count == 3 else { throw .file(url.path, "\(field): '\(s ?? "")' is not three numbers") }
            return Vec3(parts[0], parts[1], parts[2])
        }
        func number(_ e: XMLElement?, _ attribute: String, _ field: String) throws(HumanMotionError) -> Double {
            guard let s = e?.attribute(forName: attribute)?.stringValue, let v = Double(s.trimmingCharacters(in: .whitespaces))
            else { throw .file(url.path, "\(field): missing or not a number") }
            return v
        }

        struct Link { var mass: Double; var com: Vec3; var shapes: [Shape] }
        var links: [String: Link] = [:]
        for l in robot.elements(forName: "link") {
            guard let name = l.attribute(forName: "name")?.stringValue else { continue }
            let inertial = l.elements(forName: "inertial").first
            let mass = try number(inertial?.elements(forName: "mass").first, "value", "link \(name) mass")
            let com = try vector(inertial?.elements(forName: "origin").first?.attribute(forName: "xyz")?.stringValue,
                                 "link \(name) inertial origin")
            var shapes: [Shape] = []
            for c in l.elements(forName: "collision") {
                let center = try vector(c.elements(forName: "origin").first?.attribute(forName: "xyz")?.stringValue,
                                        "link \(name) collision origin") * scale
                guard let g = c.elements(forName: "geometry").first?.children?.compactMap({ $0 as? XMLElement }).first else {
                    continue
                }
                switch g.name {
                case "sphere":
                    shapes.append(.sphere(center: center, radius: try number(g, "radius", "link \(name) sphere") * scale))
                case "capsule":
                    // Rotated by rpy (−π/2, 0, 0) in the file: the axis runs along the link's y axis.
                    shapes.append(.capsule(center: center, radius: try number(g, "radius", "link \(name) capsule") * scale,
                                           length: try number(g, "length", "link \(name) capsule") * scale))
                case "box":
                    shapes.append(.box(center: center, halfExtents: try vector(g.attribute(forName: "size")?.stringValue,
                                                                             "link \(name) box") * (scale / 2)))
                default:
                    throw .file(url.path, "link \(name): unsupported collision geometry <\(g.name ?? "?")>")
                }
            }
            links[name] = Link(mass: mass, com: com * scale, shapes: shapes)
        }
        struct JointInfo { var type: String; var parent: String; var origin: Vec3; var axis: Vec3; var lower: Double; var upper: Double }
        var joints: [String: JointInfo] = [:]  // by child link
        for j in robot.elements(forName: "joint") {
            guard let type = j.attribute(forName: "type")?.stringValue,
                  let parent = j.elements(forName: "parent").first?.attribute(forName: "link")?.stringValue,
                  let child = j.elements(forName: "child").first?.attribute(forName: "link")?.stringValue
            else { throw .file(url.path, "a <joint> lacks its type, parent or child") }
            let origin = try vector(j.elements(forName: "origin").first?.attribute(forName: "xyz")?.stringValue,
                                    "joint \(child) origin") * scale
            let axis = try vector(j.elements(forName: "axis").first?.attribute(forName: "xyz")?.stringValue ?? "0 0 1",
                                  "joint \(child) axis")
            let limit = j.elements(forName: "limit").first
            let lower = Double(limit?.attribute(forName: "lower")?.stringValue ?? "") ?? -Double.pi
            let upper = Double(limit?.attribute(forName: "upper")?.stringValue ?? "") ?? Double.pi
            joints[child] = JointInfo(type: type, parent: parent, origin: origin, axis: axis, lower: lower, upper: upper)
        }

        var bodies: [Body] = []
        var wrist = Vec3.zero
        for name in bodyNames {
            guard var link = links[name], let j = joints[name] else {
                throw .file(url.path, "the model lacks link or joint '\(name)'")
            }
            var inertia = Self.shapeInertia(link.shapes, mass: link.mass, centerOfMass: link.com)
            if name.hasSuffix("elbow") {
                // Merge the fixed wrist: its sphere moves with the elbow body.
                let wristName = name.replacingOccurrences(of: "elbow", with: "wrist")
                guard let w = links[wristName], let wj = joints[wristName] else {
                    throw .file(url.path, "the model lacks '\(wristName)'")
                }
                wrist = wj.origin
                let wCom = wj.origin + w.com
                let wShapes = w.shapes.map { s -> Shape in
                    if case .sphere(let c, let r) = s { return .sphere(center: c + wj.origin, radius: r) }
                    return s
                }
                let wInertia = Self.shapeInertia(wShapes, mass: w.mass, centerOfMass: wCom)
                let total = link.mass + w.mass
                let com = (link.mass * link.com + w.mass * wCom) / total
                inertia = Self.shift(inertia, mass: link.mass, from: link.com, to: com)
                    + Self.shift(wInertia, mass: w.mass, from: wCom, to: com)
                link = Link(mass: total, com: com, shapes: link.shapes + wShapes)
            }
            let joint: Joint
            switch (name, j.type) {
            case ("root", _): joint = .free
            case (_, "spherical"): joint = .spherical
            case (_, "revolute"): joint = .revolute(axis: j.axis / norm(j.axis), lower: j.lower, upper: j.upper)
            default: throw .file(url.path, "joint '\(name)': unsupported type '\(j.type)'")
            }
            let parent = name == "root" ? nil : bodyNames.firstIndex(of: j.parent)
            if name != "root", parent == nil { throw .file(url.path, "joint '\(name)': parent '\(j.parent)' is not a body") }
            let gains = Self.gains[name] ?? (0, 0)
            bodies.append(Body(name: name, parent: parent, joint: joint, jointOrigin: name == "root" ? .zero : j.origin,
                               mass: link.mass, centerOfMass: link.com, inertia: inertia, shapes: link.shapes,
                               kp: gains.kp, kd: gains.kd))
        }
        return Humanoid(bodies: bodies, wristOffset: wrist)
    }

    /// Inertia about `centerOfMass` of solid shapes sharing `mass` in proportion to their volumes.
    static func shapeInertia(_ shapes: [Shape], mass: Double, centerOfMass: Vec3) -> Mat3 {
        func volume(_ s: Shape) -> Double {
            switch s {
            case .sphere(_, let r): 4.0 / 3 * .pi * r * r * r
            case .capsule(_, let r, let l): .pi * r * r * l + 4.0 / 3 * .pi * r * r * r
            case .box(_, let h): 8 * h.x * h.y * h.z
            }
        }
        let total = shapes.map(volume).reduce(0, +)
        guard total > 0 else { return Mat3.diagonal(Vec3(repeating: 1e-4)) }
        var inertia = Mat3.zero
        for s in shapes {
            let m = mass * volume(s) / total
            var own: Mat3
            var center: Vec3
            switch s {
            case .sphere(let c, let r):
                own = Mat3.diagonal(Vec3(repeating: 0.4 * m * r * r))
                center = c
            case .capsule(let c, let r, let l):
                // Cylinder (length l) plus two hemispheres (together a sphere), axis along y.
                let vc = Double.pi * r * r * l, vs = 4.0 / 3 * .pi * r * r * r
                let mc = m * vc / (vc + vs), ms = m * vs / (vc + vs)
                let axial = mc * r * r / 2 + 0.4 * ms * r * r
                let transverse = mc * (3 * r * r + l * l) / 12 + ms * (0.4 * r * r + l * l / 4 + 3 * l * r / 8)
                own = Mat3.diagonal(Vec3(transverse, axial, transverse))
                center = c
            case .box(let c, let h):
                let a = 2 * h
                own = Mat3.diagonal(Vec3(a.y * a.y + a.z * a.z, a.x * a.x + a.z * a.z, a.x * a.x + a.y * a.y) * (m / 12))
                center = c
            }
            inertia = inertia + shift(own, mass: m, from: center, to: centerOfMass)
        }
        return inertia
    }

    /// Parallel-axis theorem: inertia about `to` of a body with inertia `i` about its centre `from`.
    static func shift(_ i: Mat3, mass: Double, from: Vec3, to: Vec3) -> Mat3 {
        let d = from - to
        return i + mass * (Mat3.diagonal(Vec3(repeating: dot(d, d))) - Mat3.outer(d, d))
    }
}

/// Errors of the motion module; the message names the file or field.
public enum HumanMotionError: Error, Equatable, CustomStringConvertible, Sendable {
    case file(String, String)
    case invalid(String, String)
    public var description: String {
        switch self {
        case .file(let path, let message): "\(path): \(message)"
        case .invalid(let field, let message): "\(field): \(message)"
        }
    }
}
