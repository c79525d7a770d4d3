import _Differentiation
/// A rigid body's spatial inertia at its body origin, [[A, B], [Bᵀ, D]] with A = I_c − m[c]×[c]×, B = m[c]×,
/// D = m·1 (mass m, centre of mass c, rotational inertia I_c about it): the constant the dynamics start from.
public struct SpatialInertia: Equatable, Sendable {
    public var a: Mat3
    public var b: Mat3
    public var d: Mat3

    public init(mass m: Double, centerOfMass c: Vec3, inertia: Mat3) {
        let s = Mat3.skew(c)
        a = inertia - m * (s * s)
        b = m * s
        d = Mat3.diagonal(Vec3(repeating: m))
    }
}
