import Foundation
import OptimusNumerics
import Testing
@testable import HumanoidSimulation
import HumanoidTestSupport

@Suite struct HumanoidModelTests {
    @Test func urdfGivesTheThirteenBodyHumanoid() {
        let h = TestData.humanoid
        #expect(h.bodies.map(\.name) == Humanoid.bodyNames)
        #expect(abs(h.totalMass - 45) < 1e-12)
        #expect(h.velocityDimension == 34)
        // Joint origins of docs/physics-motion.md, *Bodies and joints* (the URDF's × 0.25).
        let idx = h.spatialIndex
        #expect(h.bodies[idx["chest"]!].jointOrigin == Vec3(0, 0.236151, 0))
        #expect(h.bodies[idx["right_knee"]!].jointOrigin == Vec3(0, -0.421546, 0))
        #expect(h.bodies[idx["left_shoulder"]!].jointOrigin == Vec3(-0.02405, 0.2435, -0.18311))
        #expect(h.bodies[idx["right_knee"]!].joint == .revolute(axis: Vec3(0, 0, 1), lower: -3.14, upper: 0))
        #expect(h.bodies[idx["right_elbow"]!].mass == 1.5)  // elbow 1 + wrist 0.5
        #expect(abs(h.wristOffset.y + 0.258947) < 1e-12)
        // Inertias from shapes: symmetric positive definite and obeying the triangle inequality of principal moments.
        for b in h.bodies {
            let i = b.inertia
            #expect(abs(i[0, 1] - i[1, 0]) < 1e-15 && abs(i[0, 2] - i[2, 0]) < 1e-15)
            let d = Vec3(i[0, 0], i[1, 1], i[2, 2])
            #expect(d.min() > 0 && i.determinant > 0, "\(b.name)")
            #expect(d.x + d.y >= d.z - 1e-12 && d.y + d.z >= d.x - 1e-12 && d.x + d.z >= d.y - 1e-12, "\(b.name)")
        }
        // A solid sphere: 2/5 m r² (root: 6 kg, r = 0.09 m).
        #expect(abs(h.bodies[0].inertia[0, 0] - 0.4 * 6 * 0.09 * 0.09) < 1e-12)
    }

    @Test func shapeInertiaOfABoxAndTheParallelAxisTheorem() {
        let box = Humanoid.shapeInertia([.box(center: .zero, halfExtents: Vec3(1, 2, 3))], mass: 12, centerOfMass: .zero)
        #expect(box == Mat3.diagonal(Vec3(4 * 4 + 6 * 6, 2 * 2 + 6 * 6, 2 * 2 + 4 * 4)))
        let moved = Humanoid.shift(.zero, mass: 2, from: Vec3(0, 3, 0), to: .zero)
        #expect(moved == Mat3.diagonal(Vec3(18, 0, 18)))
    }

    @Test func badModelFilesAreReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("urdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.urdf")
        try "<robot name=\"x\"><link name=\"root\"/></robot>".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: HumanMotionError.self) { try Humanoid.load(urdf: url) }
        try "not xml".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: HumanMotionError.self) { try Humanoid.load(urdf: url) }
    }
}

@Suite struct MotionClipTests {
    @Test func walkClipLoadsWithItsDocumentedProperties() throws {
        let walk = try TestData.clip("walk")
        #expect(walk.poses.count == 39 && walk.loops)
        #expect(abs(walk.duration - 1.2666) < 1e-3 && abs(walk.frameRate - 30) < 0.1)
        #expect(walk.poses[0].rootPosition == Vec3(0, 0.847532, 0))
        for p in walk.poses { for q in p.rotations { #expect(abs(q.squaredNorm - 1) < 1e-12) } }
        // Feet on the ground in the first frame: the toe keypoints within 4 cm of y = 0; head above 1.4 m.
        let k = TestData.humanoid.keypoints(walk.poses[0])
        #expect(abs(k[7].y) < 0.04 && abs(k[14].y) < 0.04, "toes at \(k[7].y), \(k[14].y)")
        #expect(k[3].y > 1.4)
        // Interpolation reproduces the frames and stays between them.
        let mid = walk.pose(at: (walk.times[3] + walk.times[4]) / 2)
        #expect(walk.pose(at: walk.times[3]) == walk.poses[3])
        let x = mid.rootPosition.x
        #expect(x >= min(walk.poses[3].rootPosition.x, walk.poses[4].rootPosition.x))
    }

    @Test func everyShippedClipLoads() throws {
        let names = MotionData.clipNames(in: TestData.folder)
        #expect(names.count == 20 && names.contains("dance_a") && names.contains("walker/turn_left0"))
        for n in names {
            let c = try TestData.clip(n)
            #expect(c.duration > 0.7, "\(n)")
        }
    }

    @Test func malformedClipsAreRejectedNamingTheFrame() {
        let h = TestData.humanoid
        func parse(_ s: String) -> String? {
            do { _ = try MotionClip.parse(Data(s.utf8), name: "t", path: "t.txt", humanoid: h); return nil } catch {
                return error.description
            }
        }
        let frame = "[0.1, 0,1,0, 1,0,0,0" + String(repeating: ", 1,0,0,0", count: 3) + ", 0" + String(repeating: ", 1,0,0,0", count: 2)
            + ", 0" + ", 1,0,0,0" + ", 0" + String(repeating: ", 1,0,0,0", count: 2) + ", 0]"
        #expect(parse("{\"Loop\":\"none\",\"Frames\":[\(frame),\(frame)]}") == nil)
        #expect(parse("{\"Frames\":[\(frame)]}")?.contains("at least 2") == true)
        #expect(parse("{\"Frames\":[\(frame),[1,2,3]]}")?.contains("frame 1") == true)
        #expect(parse("[1,2]")?.contains("JSON object") == true)
        #expect(parse("{not json")?.contains("not a JSON clip") == true)
    }
}

@Suite struct QuaternionTests {
    @Test func quaternionExpLogRoundTrip() {
        var g = Xoshiro256StarStar(seed: 9)
        for _ in 0..<100 {
            let r = Vec3(g.uniform(-1, 1), g.uniform(-1, 1), g.uniform(-1, 1)) * 1.5
            let back = Quat.exp(r).log
            #expect(norm(back - r) < 1e-12)
            let q = Quat.exp(r)
            let v = Vec3(1, 2, 3)
            #expect(norm(q.rotate(v) - q.matrix * v) < 1e-12)
        }
    }
}
