/// Element-wise helpers on dense vectors (`[Float]`, `[Double]`).
///
/// Vectors are plain arrays (see ``BLAS``). These helpers are deliberately not operators: `+` on arrays already means
/// concatenation in Swift.
extension Array where Element: BLASScalar {
    /// A vector of `count` zeros.
    @inlinable
    public static func zeros(_ count: Int) -> [Element] { [Element](repeating: 0, count: count) }

    /// xᵀy (BLAS dot).
    @inlinable
    public func dot(_ other: [Element]) -> Element { BLAS.dot(self, other) }

    /// ‖x‖₂ (BLAS nrm2, no overflow).
    @inlinable
    public var norm: Element { BLAS.norm(self) }

    /// ‖x‖∞ = maxᵢ |xᵢ|; NaN if any element is NaN.
    @inlinable
    public var infinityNorm: Element {
        var m: Element = 0
        for v in self {
            if v.isNaN { return .nan }
            m = Swift.max(m, abs(v))
        }
        return m
    }

    /// True when every element is finite.
    @inlinable
    public var isFinite: Bool { allSatisfy { $0.isFinite } }

    /// x + α·y as a new vector.
    @inlinable
    public func adding(_ other: [Element], scaledBy alpha: Element = 1) -> [Element] {
        var r = self
        BLAS.axpy(alpha, other, &r)
        return r
    }

    /// x − y as a new vector.
    @inlinable
    public func subtracting(_ other: [Element]) -> [Element] { adding(other, scaledBy: -1) }

    /// α·x as a new vector.
    @inlinable
    public func scaled(by alpha: Element) -> [Element] {
        var r = self
        BLAS.scale(alpha, &r)
        return r
    }
}
