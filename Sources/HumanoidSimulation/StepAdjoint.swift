import _Differentiation
/// Derivatives of one simulation step x' = step(x, u).
///
/// The adjoint (vector–Jacobian product) records the step's own arithmetic, written once over ``ADScalar``, on a
/// ``Tape`` and sweeps it backwards: exact to rounding, with the cost of a few forward steps and memory for one step
/// only (the tape is reset per step; the rollout adjoint recomputes steps from checkpoints). The tangent (Jacobian–
/// vector product) runs the same code on ``Dual`` numbers; both are tested against each other and against central
/// finite differences.
extension Simulator {
    /// (x̄, ū) = (∂x'/∂x)ᵀ x̄′, (∂x'/∂u)ᵀ x̄′ for one semi-implicit Euler step.
    public func stepAdjoint(_ x: [Double], target u: [Double]?, cotangent: [Double], tape: Tape)
        -> (state: [Double], target: [Double]?)
    {
        tape.reset()
        let xv = x.map { tape.variable($0) }
        let uv = u?.map { tape.variable($0) }
        let out: [TapeScalar] = step(xv, target: uv)
        let adjoint = tape.adjoints(seeds: zip(out, cotangent).map { ($0, $1) })
        return (xv.map { adjoint[Int($0.index)] }, uv?.map { adjoint[Int($0.index)] })
    }

    /// (∂x'/∂x) dx + (∂x'/∂u) du for one step.
    public func stepTangent(_ x: [Double], target u: [Double]?, dx: [Double], du: [Double]?) -> [Double] {
        let xd = zip(x, dx).map { Dual($0, tangent: $1) }
        let ud = u.map { u in zip(u, du ?? [Double](repeating: 0, count: u.count)).map { Dual($0, tangent: $1) } }
        let out: [Dual] = step(xd, target: ud)
        return out.map(\.tangent)
    }
}
