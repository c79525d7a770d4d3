import OptimusNumerics

/// An objective seen through an affine change of variables and a change of units:
///
///     g(x) = a·f(y),   y = c + S·Q·(x/σ − c),
///     ∇g(x) = (a/σ)·Qᵀ·(S ⊙ ∇f(y)),   ∇²g(x)·v = (a/σ²)·Qᵀ·S·∇²f(y)·S·Q·v,
///
/// with a center c, an orthogonal Q (a rotation, so the curvature is not axis-aligned), a positive diagonal stretch S
/// (which multiplies the condition number of f's curvature by up to (max S/min S)²), a parameter scale σ (the
/// minimizer and the domain scale by σ) and an objective scale a (f* scales by a). g's minimum is a·f*, at the
/// preimage of f's minimizer (``preimage(_:)``). The training distribution uses it to teach a learned optimizer curvature
/// that is not aligned with the axes and step sizes that are not tied to one scale.
public struct AffineObjective: Objective {
    public let base: any Objective
    public let center: [Double]
    /// Q, d × d orthogonal, or nil for the identity.
    public let rotation: Matrix<Double>?
    /// S, or nil for ones.
    public let stretch: [Double]?
    public let parameterScale: Double
    public let objectiveScale: Double

    public init(base: any Objective, center: [Double], rotation: Matrix<Double>? = nil, stretch: [Double]? = nil,
                parameterScale: Double = 1, objectiveScale: Double = 1) {
        let d = base.dimension
        precondition(center.count == d, "AffineObjective: the center has \(center.count) values, expected \(d)")
        precondition(rotation.map { $0.rows == d && $0.columns == d } ?? true, "AffineObjective: Q must be \(d) × \(d)")
        precondition(stretch.map { $0.count == d && $0.allSatisfy { $0 > 0 && $0.isFinite } } ?? true,
                     "AffineObjective: one finite stretch > 0 per coordinate")
        precondition(parameterScale > 0 && parameterScale.isFinite && objectiveScale > 0 && objectiveScale.isFinite,
                     "AffineObjective: scales must be finite and > 0")
        self.base = base
        self.center = center
        self.rotation = rotation
        self.stretch = stretch
        self.parameterScale = parameterScale
        self.objectiveScale = objectiveScale
    }

    public var dimension: Int { base.dimension }

    /// y = c + S·Q·(x/σ − c).
    public func image(_ x: [Double]) -> [Double] {
        var u = (0..<dimension).map { x[$0] / parameterScale - center[$0] }
        if let q = rotation { u = BLAS.gemv(q, u) }
        if let s = stretch { for i in u.indices { u[i] *= s[i] } }
        for i in u.indices { u[i] += center[i] }
        return u
    }

    /// x = σ·(c + Qᵀ·S⁻¹·(y − c)): the point whose image is y (a start drawn in f's domain maps to a start of g with
    /// the same value).
    public func preimage(_ y: [Double]) -> [Double] {
        var u = (0..<dimension).map { y[$0] - center[$0] }
        if let s = stretch { for i in u.indices { u[i] /= s[i] } }
        if let q = rotation { u = BLAS.gemv(q, transposed: true, u) }
        return (0..<dimension).map { parameterScale * (center[$0] + u[$0]) }
    }

    /// Maps a vector of y-space (gradient) back: (a/σ)·Qᵀ·(S ⊙ w).
    private func pullBack(_ w: [Double], factor: Double) -> [Double] {
        var u = w
        if let s = stretch { for i in u.indices { u[i] *= s[i] } }
        if let q = rotation { u = BLAS.gemv(q, transposed: true, u) }
        for i in u.indices { u[i] *= factor }
        return u
    }

    public func value(at x: [Double]) -> Double { objectiveScale * base.value(at: image(x)) }

    public func valueAndGradient(at x: [Double], gradient: inout [Double]) -> Double {
        let f = base.valueAndGradient(at: image(x), gradient: &gradient)
        gradient = pullBack(gradient, factor: objectiveScale / parameterScale)
        return objectiveScale * f
    }

    public func hessianVectorProduct(at x: [Double], direction v: [Double]) -> [Double] {
        precondition(v.count == dimension, "AffineObjective: v has \(v.count) values, expected \(dimension)")
        var w = v
        if let q = rotation { w = BLAS.gemv(q, w) }
        if let s = stretch { for i in w.indices { w[i] *= s[i] } }
        let hw = base.hessianVectorProduct(at: image(x), direction: w)
        return pullBack(hw, factor: objectiveScale / (parameterScale * parameterScale))
    }
}

/// f(y) = ½·Σ λ_i (y_i − m_i)²: the separable quadratic that ``AffineObjective`` rotates (condition number
/// max λ/min λ). f* = 0 at m.
public struct DiagonalQuadratic: Objective {
    public let curvatures: [Double]
    public let minimizer: [Double]

    public init(curvatures: [Double], minimizer: [Double]) {
        precondition(curvatures.count == minimizer.count && curvatures.allSatisfy { $0 > 0 && $0.isFinite },
                     "DiagonalQuadratic: one finite curvature > 0 per coordinate")
        self.curvatures = curvatures
        self.minimizer = minimizer
    }

    public var dimension: Int { curvatures.count }

    public func valueAndGradient(at y: [Double], gradient: inout [Double]) -> Double {
        var f = 0.0
        for i in 0..<dimension {
            let r = y[i] - minimizer[i]
            gradient[i] = curvatures[i] * r
            f += 0.5 * curvatures[i] * r * r
        }
        return f
    }

    public func hessianVectorProduct(at y: [Double], direction v: [Double]) -> [Double] {
        (0..<dimension).map { curvatures[$0] * v[$0] }
    }
}

extension Matrix where Scalar == Double {
    /// A d × d orthogonal matrix distributed uniformly (Haar measure): the Q of the QR factorization of a matrix of
    /// independent standard normals, with the signs fixed so that R has a positive diagonal (Mezzadri 2007). Modified
    /// Gram–Schmidt on the columns, O(d³).
    public static func randomOrthogonal(_ d: Int, using g: inout Xoshiro256StarStar) -> Matrix<Double> {
        var columns = (0..<d).map { _ in g.normal(count: d) }
        for j in 0..<d {
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<d { dot += columns[k][i] * columns[j][i] }
                for i in 0..<d { columns[j][i] -= dot * columns[k][i] }
            }
            var norm = 0.0
            for i in 0..<d { norm += columns[j][i] * columns[j][i] }
            norm = norm.squareRoot()
            // R_jj = norm > 0: the sign convention that makes Q Haar-distributed.
            for i in 0..<d { columns[j][i] /= norm }
        }
        var q = Matrix<Double>(rows: d, columns: d)
        for i in 0..<d { for j in 0..<d { q[i, j] = columns[j][i] } }
        return q
    }
}
