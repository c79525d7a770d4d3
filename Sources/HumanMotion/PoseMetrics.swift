import _Differentiation
import HumanoidSimulation

/// The pose metrics of the paper's Section 5.2 (definitions in `docs/physics-motion.md`, *Pose metrics*), computed on
/// keypoint sequences `[frame][keypoint]` in metres.
///
/// - MPJPE-G (mm): mean Euclidean keypoint error in world coordinates.
/// - MPJPE (mm): after aligning each frame's pelvis (keypoint 0).
/// - MPJPE-PA (mm): after each frame's best similarity transform (rotation, translation, scale; Umeyama/Horn).
/// - MPJPE-2d (px): mean pixel error of the keypoints projected by the camera.
/// - TV (m/s²): mean norm of the second difference (x[t+1] − 2x[t] + x[t−1])/dt² over frames and keypoints: the
///   acceleration jitter, independent of the frame rate.
/// - Foot skate (%): percentage of frame transitions where a foot (toe keypoint) is below 5 cm in both frames and
///   moves horizontally faster than 0.6 m/s (2 cm per frame at 30 Hz, the usual threshold).
public enum PoseMetrics {
    public struct Values: Codable, Equatable, Sendable {
        public var mpjpeG: Double
        public var mpjpe: Double
        public var mpjpePA: Double
        public var mpjpe2d: Double
        public var totalVariation: Double
        public var footSkatePercent: Double
    }

    public static func all(predicted: [[Vec3]], truth: [[Vec3]], dt: Double, camera: PinholeCamera) -> Values {
        Values(mpjpeG: mpjpeG(predicted, truth), mpjpe: mpjpe(predicted, truth), mpjpePA: mpjpePA(predicted, truth),
               mpjpe2d: mpjpe2d(predicted, truth, camera: camera), totalVariation: totalVariation(predicted, dt: dt),
               footSkatePercent: footSkatePercent(predicted, dt: dt))
    }

    static func meanError(_ a: [[Vec3]], _ b: [[Vec3]], _ align: ([Vec3], [Vec3]) -> [Vec3]) -> Double {
        precondition(a.count == b.count, "PoseMetrics: \(a.count) predicted frames, \(b.count) true frames")
        var sum = 0.0
        var count = 0
        for (p, t) in zip(a, b) {
            let aligned = align(p, t)
            for (x, y) in zip(aligned, t) {
                sum += norm(x - y)
                count += 1
            }
        }
        return count == 0 ? .nan : 1000 * sum / Double(count)
    }

    public static func mpjpeG(_ predicted: [[Vec3]], _ truth: [[Vec3]]) -> Double {
        meanError(predicted, truth) { p, _ in p }
    }

    public static func mpjpe(_ predicted: [[Vec3]], _ truth: [[Vec3]]) -> Double {
        meanError(predicted, truth) { p, t in p.map { $0 - p[0] + t[0] } }
    }

    public static func mpjpePA(_ predicted: [[Vec3]], _ truth: [[Vec3]]) -> Double {
        meanError(predicted, truth) { p, t in
            let s = similarity(from: p, to: t)
            return p.map { s.scale * s.rotation.rotate($0) + s.translation }
        }
    }

    public static func mpjpe2d(_ predicted: [[Vec3]], _ truth: [[Vec3]], camera: PinholeCamera) -> Double {
        var sum = 0.0
        var count = 0
        for (p, t) in zip(predicted, truth) {
            for (x, y) in zip(p, t) {
                guard let u = camera.project(x), let v = camera.project(y) else { continue }
                let d = u - v
                sum += (d * d).sum().squareRoot()
                count += 1
            }
        }
        return count == 0 ? .nan : sum / Double(count)
    }

    public static func totalVariation(_ x: [[Vec3]], dt: Double) -> Double {
        guard x.count >= 3 else { return 0 }
        var sum = 0.0
        var count = 0
        for t in 1..<(x.count - 1) {
            for k in x[t].indices {
                sum += norm(x[t + 1][k] - 2 * x[t][k] + x[t - 1][k]) / (dt * dt)
                count += 1
            }
        }
        return sum / Double(count)
    }

    public static func footSkatePercent(_ x: [[Vec3]], dt: Double, height: Double = 0.05, speed: Double = 0.6) -> Double {
        guard x.count >= 2 else { return 0 }
        var skating = 0
        for t in 1..<x.count {
            var slides = false
            for (_, toe) in Humanoid.footKeypoints where toe < x[t].count {
                let a = x[t - 1][toe], b = x[t][toe]
                guard a.y < height, b.y < height else { continue }
                let horizontal = Vec3(b.x - a.x, 0, b.z - a.z)
                if norm(horizontal) / dt > speed { slides = true }
            }
            if slides { skating += 1 }
        }
        return 100 * Double(skating) / Double(x.count - 1)
    }

    /// The similarity transform y ≈ s·R·x + t minimizing Σ‖s R xᵢ + t − yᵢ‖² (Horn's quaternion method: R from the
    /// dominant eigenvector of a symmetric 4×4 matrix; no SVD needed).
    public static func similarity(from x: [Vec3], to y: [Vec3]) -> (scale: Double, rotation: Quat, translation: Vec3) {
        let n = Double(x.count)
        let mx = x.reduce(Vec3.zero, +) / n, my = y.reduce(Vec3.zero, +) / n
        var s = Mat3.zero
        var xx = 0.0
        for (a, b) in zip(x, y) {
            let p = a - mx, q = b - my
            s = s + Mat3.outer(p, q)
            xx += dot(p, p)
        }
        let (sxx, sxy, sxz) = (s[0, 0], s[0, 1], s[0, 2])
        let (syx, syy, syz) = (s[1, 0], s[1, 1], s[1, 2])
        let (szx, szy, szz) = (s[2, 0], s[2, 1], s[2, 2])
        let n4: [[Double]] = [
            [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
            [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
            [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
            [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
        ]
        let v = dominantEigenvector(n4)
        let r = Quat(w: v[0], x: v[1], y: v[2], z: v[3]).normalized
        var num = 0.0
        for (a, b) in zip(x, y) { num += dot(b - my, r.rotate(a - mx)) }
        let scale = xx > 0 ? num / xx : 1
        return (scale, r, my - scale * r.rotate(mx))
    }

    /// The eigenvector of the largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi rotations).
    static func dominantEigenvector(_ m: [[Double]]) -> [Double] {
        var a = m
        var v: [[Double]] = (0..<4).map { i in (0..<4).map { $0 == i ? 1.0 : 0 } }
        for _ in 0..<50 {
            var off = 0.0
            for i in 0..<4 { for j in (i + 1)..<4 { off += a[i][j] * a[i][j] } }
            if off < 1e-30 { break }
            for p in 0..<3 {
                for q in (p + 1)..<4 where abs(a[p][q]) > 1e-300 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<4 {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<4 {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<4 {
                        let vkp = v[k][p], vkq = v[k][q]
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        var best = 0
        for i in 1..<4 where a[i][i] > a[best][best] { best = i }
        return (0..<4).map { v[$0][best] }
    }
}
