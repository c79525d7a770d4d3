import Foundation
import HumanoidSimulation

/// The project's copy of the humanoid data (`data/humanoid-motions`, found from this file's path), shared by the
/// simulator's and the reconstruction's tests.
public enum TestData {
    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/humanoid-motions")
    public static let humanoid: Humanoid = try! Humanoid.load(urdf: folder.appendingPathComponent("humanoid.urdf"))
    public static func clip(_ name: String) throws -> MotionClip {
        try MotionClip.load(MotionData.clipURL(name, in: folder), humanoid: humanoid)
    }
}

/// Σ aᵢ·bᵢ, summed in index order (the gradient tests compare adjoints and tangents through it).
public func dotProduct(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}
