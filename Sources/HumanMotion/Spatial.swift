/// A spatial vector in Featherstone's 6-D algebra, expressed in a body frame at the body's origin: a motion
/// (angular velocity ω, linear velocity v of the origin) or a force (moment n about the origin, force f).
public struct Spatial: Equatable, Sendable {
    public var angular: Vec3
    public var linear: Vec3

    @inlinable public init(_ angular: Vec3, _ linear: Vec3) {
        self.angular = angular
        self.linear = linear
    }

    public static let zero = Spatial(.zero, .zero)

    @inlinable public static func + (a: Spatial, b: Spatial) -> Spatial { Spatial(a.angular + b.angular, a.linear + b.linear) }
    @inlinable public static func - (a: Spatial, b: Spatial) -> Spatial { Spatial(a.angular - b.angular, a.linear - b.linear) }
    @inlinable public static func * (s: Double, a: Spatial) -> Spatial { Spatial(s * a.angular, s * a.linear) }
    @inlinable public static prefix func - (a: Spatial) -> Spatial { Spatial(-a.angular, -a.linear) }
    @inlinable public static func += (a: inout Spatial, b: Spatial) { a = a + b }

    /// Motion × motion: (ω, v) × (ω′, v′) = (ω × ω′, ω × v′ + v × ω′).
    @inlinable public func crossMotion(_ m: Spatial) -> Spatial {
        Spatial(cross(angular, m.angular), cross(angular, m.linear) + cross(linear, m.angular))
    }

    /// Motion ×* force: (ω, v) ×* (n, f) = (ω × n + v × f, ω × f).
    @inlinable public func crossForce(_ f: Spatial) -> Spatial {
        Spatial(cross(angular, f.angular) + cross(linear, f.linear), cross(angular, f.linear))
    }

    /// The power pairing mᵀf of a motion and a force.
    @inlinable public func dot(_ f: Spatial) -> Double { HumanMotion.dot(angular, f.angular) + HumanMotion.dot(linear, f.linear) }
}

/// A symmetric 6×6 spatial inertia [[A, B], [Bᵀ, D]] at a body origin (rigid-body or articulated).
public struct SpatialInertia: Equatable, Sendable {
    public var a: Mat3
    public var b: Mat3
    public var d: Mat3

    @inlinable public init(a: Mat3, b: Mat3, d: Mat3) {
        self.a = a
        self.b = b
        self.d = d
    }

    /// A rigid body of mass m with centre of mass c and rotational inertia I_c about it:
    /// A = I_c − m[c]×[c]×, B = m[c]×, D = m·1.
    public init(mass m: Double, centerOfMass c: Vec3, inertia: Mat3) {
        let s = Mat3.skew(c)
        a = inertia - m * (s * s)
        b = m * s
        d = Mat3.diagonal(Vec3(repeating: m))
    }

    @inlinable public static func * (i: SpatialInertia, m: Spatial) -> Spatial {
        Spatial(i.a * m.angular + i.b * m.linear, i.b.transposeTimes(m.angular) + i.d * m.linear)
    }

    @inlinable public static func + (x: SpatialInertia, y: SpatialInertia) -> SpatialInertia {
        SpatialInertia(a: x.a + y.a, b: x.b + y.b, d: x.d + y.d)
    }

    /// This inertia (given in a child frame) expressed in the parent frame, Xᵀ I X for the motion transform X from
    /// parent to child (rotation E = parent→child, child origin at r in the parent).
    @inlinable public func toParent(rotation e: Mat3, offset r: Vec3) -> SpatialInertia {
        let et = e.transposed
        let a1 = et * a * e, b1 = et * b * e, d1 = et * d * e
        let s = Mat3.skew(r)
        let sb = s * b1.transposed
        return SpatialInertia(a: a1 - b1 * s + sb - s * d1 * s, b: b1 + s * d1, d: d1)
    }

    /// Solves I·x = y (I symmetric positive definite): block elimination with the Schur complement of D.
    public func solve(_ y: Spatial) -> Spatial {
        let dInverse = d.inverse
        let bDinv = b * dInverse
        let schur = a - bDinv * b.transposed
        let angular = schur.inverse * (y.angular - bDinv * y.linear)
        let linear = dInverse * (y.linear - b.transposeTimes(angular))
        return Spatial(angular, linear)
    }
}

/// The motion transform from a parent frame to a child frame: rotation E (parent → child coordinates) and the child's
/// origin r in parent coordinates.
public struct SpatialTransform: Equatable, Sendable {
    public var rotation: Mat3
    public var offset: Vec3

    /// Parent motion in child coordinates: (Eω, E(v − r × ω)).
    @inlinable public func motion(_ m: Spatial) -> Spatial {
        Spatial(rotation * m.angular, rotation * (m.linear - cross(offset, m.angular)))
    }

    /// Child force in parent coordinates: (Eᵀn + r × Eᵀf, Eᵀf).
    @inlinable public func forceToParent(_ f: Spatial) -> Spatial {
        let lin = rotation.transposeTimes(f.linear)
        return Spatial(rotation.transposeTimes(f.angular) + cross(offset, lin), lin)
    }
}
