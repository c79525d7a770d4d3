import _Differentiation
// 3-D and spatial algebra over any ``ADScalar``: the simulator's arithmetic, written once for plain values, forward
// tangents and the reverse-mode tape. Conventions as in Math3D.swift and Spatial.swift (rows, w-first quaternions,
// spatial vectors (angular, linear) at the body origin in body coordinates). Package-wide and inlinable, so that the
// reconstruction loss of HumanMotion computes with the same types, specialized.

@usableFromInline package struct V3<S: ADScalar>: Sendable {
    @usableFromInline package var x: S, y: S, z: S
    @inlinable package init(_ x: S, _ y: S, _ z: S) {
        self.x = x
        self.y = y
        self.z = z
    }
    @inlinable package init(_ v: Vec3) { self.init(S(v.x), S(v.y), S(v.z)) }
    @inlinable package static var zero: V3 { V3(S(0), S(0), S(0)) }
    @inlinable package var plain: Vec3 { Vec3(x.value, y.value, z.value) }

    @inlinable package static func + (a: V3, b: V3) -> V3 { V3(a.x + b.x, a.y + b.y, a.z + b.z) }
    @inlinable package static func - (a: V3, b: V3) -> V3 { V3(a.x - b.x, a.y - b.y, a.z - b.z) }
    @inlinable package static prefix func - (a: V3) -> V3 { V3(-a.x, -a.y, -a.z) }
    @inlinable package static func * (s: S, a: V3) -> V3 { V3(s * a.x, s * a.y, s * a.z) }
    @inlinable package static func * (s: Double, a: V3) -> V3 { V3(s * a.x, s * a.y, s * a.z) }
    @inlinable package static func += (a: inout V3, b: V3) { a = a + b }
    @inlinable package func dot(_ b: V3) -> S { x * b.x + y * b.y + z * b.z }
    @inlinable package func cross(_ b: V3) -> V3 { V3(y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x) }
    @inlinable subscript(i: Int) -> S { i == 0 ? x : i == 1 ? y : z }
}

@usableFromInline package struct M3<S: ADScalar>: Sendable {
    @usableFromInline package var r0: V3<S>, r1: V3<S>, r2: V3<S>
    @inlinable package init(_ r0: V3<S>, _ r1: V3<S>, _ r2: V3<S>) {
        self.r0 = r0
        self.r1 = r1
        self.r2 = r2
    }
    @inlinable package init(_ m: Mat3) { self.init(V3(m.r0), V3(m.r1), V3(m.r2)) }
    @inlinable package static var zero: M3 { M3(.zero, .zero, .zero) }
    @inlinable package static func diagonal(_ d: S) -> M3 {
        let z = S(0)
        return M3(V3(d, z, z), V3(z, d, z), V3(z, z, d))
    }
    @inlinable package static func skew(_ a: V3<S>) -> M3 {
        let z = S(0)
        return M3(V3(z, -a.z, a.y), V3(a.z, z, -a.x), V3(-a.y, a.x, z))
    }
    @inlinable package static func outer(_ a: V3<S>, _ b: V3<S>) -> M3 { M3(a.x * b, a.y * b, a.z * b) }
    @inlinable package var transposed: M3 { M3(V3(r0.x, r1.x, r2.x), V3(r0.y, r1.y, r2.y), V3(r0.z, r1.z, r2.z)) }
    @inlinable package static func * (m: M3, v: V3<S>) -> V3<S> { V3(m.r0.dot(v), m.r1.dot(v), m.r2.dot(v)) }
    @inlinable package func transposeTimes(_ v: V3<S>) -> V3<S> { v.x * r0 + v.y * r1 + v.z * r2 }
    @inlinable package static func * (a: M3, b: M3) -> M3 {
        M3(b.transposeTimes(a.r0), b.transposeTimes(a.r1), b.transposeTimes(a.r2))
    }
    @inlinable package static func + (a: M3, b: M3) -> M3 { M3(a.r0 + b.r0, a.r1 + b.r1, a.r2 + b.r2) }
    @inlinable package static func - (a: M3, b: M3) -> M3 { M3(a.r0 - b.r0, a.r1 - b.r1, a.r2 - b.r2) }
    @inlinable package static func * (s: S, a: M3) -> M3 { M3(s * a.r0, s * a.r1, s * a.r2) }
    @inlinable package var inverse: M3 {
        let c0 = r1.cross(r2), c1 = r2.cross(r0), c2 = r0.cross(r1)
        let inv = S(1) / r0.dot(c0)
        return M3(inv * c0, inv * c1, inv * c2).transposed
    }
}

@usableFromInline package struct Q<S: ADScalar>: Sendable {
    @usableFromInline package var w: S, x: S, y: S, z: S
    @inlinable package init(_ w: S, _ x: S, _ y: S, _ z: S) {
        self.w = w
        self.x = x
        self.y = y
        self.z = z
    }
    @inlinable package init(_ q: Quat) { self.init(S(q.w), S(q.x), S(q.y), S(q.z)) }
    @inlinable package var plain: Quat { Quat(w: w.value, x: x.value, y: y.value, z: z.value) }
    @inlinable package var vector: V3<S> { V3(x, y, z) }
    @inlinable package var conjugate: Q { Q(w, -x, -y, -z) }
    @inlinable package var normalized: Q {
        let inv = S(1) / (w * w + x * x + y * y + z * z).squareRoot()
        return Q(inv * w, inv * x, inv * y, inv * z)
    }
    @inlinable package static func * (a: Q, b: Q) -> Q {
        Q(a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
          a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
          a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
          a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w)
    }
    /// Rotation matrix of a unit quaternion.
    @inlinable package var matrix: M3<S> {
        let xx = x * x, yy = y * y, zz = z * z, xy = x * y, xz = x * z, yz = y * z, wx = w * x, wy = w * y, wz = w * z
        let one = S(1)
        return M3(V3(one - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy)),
                  V3(2 * (xy + wz), one - 2 * (xx + zz), 2 * (yz - wx)),
                  V3(2 * (xz - wy), 2 * (yz + wx), one - 2 * (xx + yy)))
    }
    /// exp of a rotation vector; second-order series below 1e−6 rad (exact to rounding there).
    @inlinable package static func exp(_ r: V3<S>) -> Q {
        let a2 = r.dot(r)
        if a2.value < 1e-12 {
            return Q(S(1) - 0.125 * a2, 0.5 * r.x, 0.5 * r.y, 0.5 * r.z).normalized
        }
        let angle = a2.squareRoot()
        let half = 0.5 * angle
        let s = S.sin(half) / angle
        return Q(S.cos(half), s * r.x, s * r.y, s * r.z)
    }
    /// Rotation vector on the shortest path (w ≥ 0).
    @inlinable package var log: V3<S> {
        var q = self
        if q.w.value < 0 { q = Q(-w, -x, -y, -z) }
        let s2 = q.x * q.x + q.y * q.y + q.z * q.z
        if s2.value < 1e-16 { return (S(2) / q.w) * q.vector }
        let s = s2.squareRoot()
        return (2 * S.atan2(s, q.w) / s) * q.vector
    }
}

@usableFromInline package struct SV<S: ADScalar>: Sendable {
    @usableFromInline package var angular: V3<S>, linear: V3<S>
    @inlinable package init(_ angular: V3<S>, _ linear: V3<S>) {
        self.angular = angular
        self.linear = linear
    }
    @inlinable package static var zero: SV { SV(.zero, .zero) }
    @inlinable package static func + (a: SV, b: SV) -> SV { SV(a.angular + b.angular, a.linear + b.linear) }
    @inlinable package static func - (a: SV, b: SV) -> SV { SV(a.angular - b.angular, a.linear - b.linear) }
    @inlinable package static prefix func - (a: SV) -> SV { SV(-a.angular, -a.linear) }
    @inlinable package static func * (s: S, a: SV) -> SV { SV(s * a.angular, s * a.linear) }
    @inlinable package static func += (a: inout SV, b: SV) { a = a + b }
    @inlinable package func crossMotion(_ m: SV) -> SV {
        SV(angular.cross(m.angular), angular.cross(m.linear) + linear.cross(m.angular))
    }
    @inlinable package func crossForce(_ f: SV) -> SV {
        SV(angular.cross(f.angular) + linear.cross(f.linear), angular.cross(f.linear))
    }
    @inlinable package func dot(_ f: SV) -> S { angular.dot(f.angular) + linear.dot(f.linear) }
}

/// Symmetric 6×6 inertia [[A, B], [Bᵀ, D]].
@usableFromInline package struct SI<S: ADScalar>: Sendable {
    @usableFromInline package var a: M3<S>, b: M3<S>, d: M3<S>
    @inlinable package init(a: M3<S>, b: M3<S>, d: M3<S>) {
        self.a = a
        self.b = b
        self.d = d
    }
    @inlinable package init(_ i: SpatialInertia) { self.init(a: M3(i.a), b: M3(i.b), d: M3(i.d)) }
    @inlinable package static func * (i: SI, m: SV<S>) -> SV<S> {
        SV(i.a * m.angular + i.b * m.linear, i.b.transposeTimes(m.angular) + i.d * m.linear)
    }
    @inlinable package static func + (x: SI, y: SI) -> SI { SI(a: x.a + y.a, b: x.b + y.b, d: x.d + y.d) }
    /// Xᵀ I X for the motion transform (rotation E parent→child, child origin r in the parent).
    @inlinable package func toParent(rotation e: M3<S>, offset r: V3<S>) -> SI {
        let et = e.transposed
        let a1 = et * a * e, b1 = et * b * e, d1 = et * d * e
        let s = M3<S>.skew(r)
        return SI(a: a1 - b1 * s + s * b1.transposed - s * d1 * s, b: b1 + s * d1, d: d1)
    }
    @inlinable package func solve(_ y: SV<S>) -> SV<S> {
        let dInverse = d.inverse
        let bDinv = b * dInverse
        let schur = a - bDinv * b.transposed
        let angular = schur.inverse * (y.angular - bDinv * y.linear)
        return SV(angular, dInverse * (y.linear - b.transposeTimes(angular)))
    }
}

/// Parent → child motion transform.
@usableFromInline package struct SX<S: ADScalar>: Sendable {
    @usableFromInline package var rotation: M3<S>
    @usableFromInline package var offset: V3<S>
    @inlinable package init(rotation: M3<S>, offset: V3<S>) {
        self.rotation = rotation
        self.offset = offset
    }
    @inlinable package func motion(_ m: SV<S>) -> SV<S> {
        SV(rotation * m.angular, rotation * (m.linear - offset.cross(m.angular)))
    }
    @inlinable package func forceToParent(_ f: SV<S>) -> SV<S> {
        let lin = rotation.transposeTimes(f.linear)
        return SV(rotation.transposeTimes(f.angular) + offset.cross(lin), lin)
    }
}
