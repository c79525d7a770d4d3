import _Differentiation
import OptimusNumerics

/// A 3-vector of Doubles (x, y, z); the world is y-up, +x forward, +z right (the clips' convention).
public typealias Vec3 = SIMD3<Double>

@inlinable package func dot(_ a: Vec3, _ b: Vec3) -> Double { (a * b).sum() }
@inlinable package func cross(_ a: Vec3, _ b: Vec3) -> Vec3 {
    Vec3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}
@inlinable package func norm(_ a: Vec3) -> Double { dot(a, a).squareRoot() }

/// A 3×3 matrix stored by rows.
public struct Mat3: Equatable, Sendable {
    public var r0: Vec3, r1: Vec3, r2: Vec3

    @inlinable public init(_ r0: Vec3, _ r1: Vec3, _ r2: Vec3) {
        self.r0 = r0
        self.r1 = r1
        self.r2 = r2
    }

    public static let identity = Mat3(Vec3(1, 0, 0), Vec3(0, 1, 0), Vec3(0, 0, 1))
    public static let zero = Mat3(.zero, .zero, .zero)

    @inlinable public static func diagonal(_ d: Vec3) -> Mat3 { Mat3(Vec3(d.x, 0, 0), Vec3(0, d.y, 0), Vec3(0, 0, d.z)) }

    /// The cross-product matrix [a]×, with [a]× b = a × b.
    @inlinable public static func skew(_ a: Vec3) -> Mat3 {
        Mat3(Vec3(0, -a.z, a.y), Vec3(a.z, 0, -a.x), Vec3(-a.y, a.x, 0))
    }

    /// a bᵀ.
    @inlinable public static func outer(_ a: Vec3, _ b: Vec3) -> Mat3 { Mat3(a.x * b, a.y * b, a.z * b) }

    @inlinable public var transposed: Mat3 {
        Mat3(Vec3(r0.x, r1.x, r2.x), Vec3(r0.y, r1.y, r2.y), Vec3(r0.z, r1.z, r2.z))
    }

    @inlinable public subscript(i: Int, j: Int) -> Double {
        get { (i == 0 ? r0 : i == 1 ? r1 : r2)[j] }
        set {
            switch i {
            case 0: r0[j] = newValue
            case 1: r1[j] = newValue
            default: r2[j] = newValue
            }
        }
    }

    @inlinable public static func * (m: Mat3, v: Vec3) -> Vec3 { Vec3(dot(m.r0, v), dot(m.r1, v), dot(m.r2, v)) }

    @inlinable public static func * (a: Mat3, b: Mat3) -> Mat3 {
        let bt = b.transposed
        return Mat3(Vec3(dot(a.r0, bt.r0), dot(a.r0, bt.r1), dot(a.r0, bt.r2)),
                    Vec3(dot(a.r1, bt.r0), dot(a.r1, bt.r1), dot(a.r1, bt.r2)),
                    Vec3(dot(a.r2, bt.r0), dot(a.r2, bt.r1), dot(a.r2, bt.r2)))
    }

    @inlinable public static func + (a: Mat3, b: Mat3) -> Mat3 { Mat3(a.r0 + b.r0, a.r1 + b.r1, a.r2 + b.r2) }
    @inlinable public static func - (a: Mat3, b: Mat3) -> Mat3 { Mat3(a.r0 - b.r0, a.r1 - b.r1, a.r2 - b.r2) }
    @inlinable public static func * (s: Double, a: Mat3) -> Mat3 { Mat3(s * a.r0, s * a.r1, s * a.r2) }
    @inlinable public static prefix func - (a: Mat3) -> Mat3 { Mat3(-a.r0, -a.r1, -a.r2) }

    /// mᵀ v.
    @inlinable public func transposeTimes(_ v: Vec3) -> Vec3 { v.x * r0 + v.y * r1 + v.z * r2 }

    @inlinable public var determinant: Double { dot(r0, cross(r1, r2)) }

    /// The inverse (the caller guarantees a non-singular matrix; symmetric positive-definite blocks in practice).
    @inlinable public var inverse: Mat3 {
        let c0 = cross(r1, r2), c1 = cross(r2, r0), c2 = cross(r0, r1)
        let det = dot(r0, c0)
        // Columns of the inverse are the cofactor rows divided by the determinant.
        return Mat3(c0 / det, c1 / det, c2 / det).transposed
    }

    @inlinable public var trace: Double { r0.x + r1.y + r2.z }
}

/// A quaternion w + xi + yj + zk (stored w first, as in the clip files). Unit quaternions are rotations.
public struct Quat: Equatable, Sendable {
    public var w: Double, x: Double, y: Double, z: Double

    @inlinable public init(w: Double, x: Double, y: Double, z: Double) {
        self.w = w
        self.x = x
        self.y = y
        self.z = z
    }

    @inlinable public init(w: Double, v: Vec3) { self.init(w: w, x: v.x, y: v.y, z: v.z) }

    public static let identity = Quat(w: 1, x: 0, y: 0, z: 0)

    @inlinable public var vector: Vec3 { Vec3(x, y, z) }
    @inlinable public var conjugate: Quat { Quat(w: w, x: -x, y: -y, z: -z) }
    @inlinable public var squaredNorm: Double { w * w + x * x + y * y + z * z }
    @inlinable public var normalized: Quat {
        let n = squaredNorm.squareRoot()
        return Quat(w: w / n, x: x / n, y: y / n, z: z / n)
    }

    @inlinable public static func * (a: Quat, b: Quat) -> Quat {
        Quat(w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
             x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
             y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
             z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w)
    }

    /// Rotates v (for a unit quaternion): v + 2w(u × v) + 2u × (u × v).
    @inlinable public func rotate(_ v: Vec3) -> Vec3 {
        let u = vector
        let t = 2 * cross(u, v)
        return v + w * t + cross(u, t)
    }

    /// The rotation matrix of a unit quaternion.
    @inlinable public var matrix: Mat3 {
        let xx = x * x, yy = y * y, zz = z * z, xy = x * y, xz = x * z, yz = y * z, wx = w * x, wy = w * y, wz = w * z
        return Mat3(Vec3(1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy)),
                    Vec3(2 * (xy + wz), 1 - 2 * (xx + zz), 2 * (yz - wx)),
                    Vec3(2 * (xz - wy), 2 * (yz + wx), 1 - 2 * (xx + yy)))
    }

    /// exp of a rotation vector (axis × angle).
    @inlinable public static func exp(_ r: Vec3) -> Quat {
        let angle = norm(r)
        if angle < 1e-8 {  // second-order series, exact to rounding here
            return Quat(w: 1 - angle * angle / 8, v: 0.5 * r).normalized
        }
        let h = 0.5 * angle
        return Quat(w: cos(h), v: (sin(h) / angle) * r)
    }

    /// The rotation vector of a unit quaternion on the shortest path (w ≥ 0 hemisphere): angle in [0, π].
    @inlinable public var log: Vec3 {
        var q = self
        if q.w < 0 { q = Quat(w: -w, x: -x, y: -y, z: -z) }
        let s = norm(q.vector)
        if s < 1e-8 { return 2 * q.vector / max(q.w, 1e-300) }
        let angle = 2 * atan2(s, q.w)
        return (angle / s) * q.vector
    }

    /// A rotation about a unit axis.
    @inlinable public static func axisAngle(_ axis: Vec3, _ angle: Double) -> Quat {
        Quat(w: cos(angle / 2), v: sin(angle / 2) * axis)
    }

    /// Normalized linear interpolation on the shorter arc (t ∈ [0, 1]).
    @inlinable public static func nlerp(_ a: Quat, _ b: Quat, _ t: Double) -> Quat {
        let sign: Double = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z < 0 ? -1 : 1
        return Quat(w: (1 - t) * a.w + t * sign * b.w, x: (1 - t) * a.x + t * sign * b.x,
                    y: (1 - t) * a.y + t * sign * b.y, z: (1 - t) * a.z + t * sign * b.z).normalized
    }

    /// Spherical linear interpolation on the shorter arc.
    public static func slerp(_ a: Quat, _ b: Quat, _ t: Double) -> Quat {
        var c = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z
        var bb = b
        if c < 0 {
            c = -c
            bb = Quat(w: -b.w, x: -b.x, y: -b.y, z: -b.z)
        }
        if c > 0.9995 { return nlerp(a, bb, t) }
        let theta = acos(min(1, c))
        let s = sin(theta)
        let wa = sin((1 - t) * theta) / s, wb = sin(t * theta) / s
        return Quat(w: wa * a.w + wb * bb.w, x: wa * a.x + wb * bb.x, y: wa * a.y + wb * bb.y, z: wa * a.z + wb * bb.z)
    }
}
