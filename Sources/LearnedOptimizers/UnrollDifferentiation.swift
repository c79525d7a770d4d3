import NeuralNetworks
import Objectives
import OptimusNumerics
import Optimizers

/// The precision of the network inside a differentiated unroll.
public enum GradientPrecision: String, Codable, Sendable {
    /// Float, the same operations as the optimizer's own step (its trajectory is bit-identical to `update`'s).
    case single
    /// Double throughout: the reference path that gradient checks compare against finite differences.
    case double
}

/// A learned optimizer differentiated through a ``StepTape``: the public unroll entry points, their checks and the
/// dispatch on ``GradientPrecision`` are written once here. A model supplies what the exact meta-gradient does not
/// cover and the unroll with its network in a precision T.
protocol TapedLearnedOptimizer: DifferentiableLearnedOptimizer {
    /// Why the exact meta-gradient does not cover this configuration (the message of the precondition that stops the
    /// unroll), nil when it does.
    var exactGradientLimitation: String? { get }
    /// The differentiated unroll with θ and the network in T (Float: the optimizer's own trajectory, bit for bit).
    func unroll<T: NetworkScalar>(
        theta: [T], state: inout Stepper.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient
}

extension TapedLearnedOptimizer {
    public func unrollGradient(
        theta: [Float], state: inout Stepper.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient {
        unrollGradient(theta: theta, state: &state, objective: objective, steps: steps, loss: loss, precision: .single)
    }

    /// ``DifferentiableLearnedOptimizer/unrollGradient(theta:state:objective:steps:loss:)`` with the network in the
    /// given precision. With `.single` the trajectory is bit-identical to the optimizer's own `update`; with `.double`
    /// the network (and Optimus's B) run in Double inside the unroll, and what the state keeps in Float (Optimus's B
    /// and power vector) is rounded to Float when the state is written back.
    public func unrollGradient(
        theta: [Float], state: inout Stepper.State, objective: any Objective, steps: Int, loss: StepLoss,
        precision: GradientPrecision
    ) -> UnrollGradient {
        requireParameterCount(of: theta)
        if let limitation = exactGradientLimitation { preconditionFailure(limitation) }
        switch precision {
        case .single:
            return unroll(theta: theta, state: &state, objective: objective, steps: steps, loss: loss)
        case .double:
            return unrollGradient(theta: theta.map(Double.init), state: &state, objective: objective, steps: steps,
                                  loss: loss)
        }
    }

    /// The Double reference path with θ itself in Double (finite differences in θ need more than Float's 24 bits).
    func unrollGradient(
        theta: [Double], state: inout Stepper.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient {
        unroll(theta: theta, state: &state, objective: objective, steps: steps, loss: loss)
    }
}

/// One learned optimizer's step, recorded for its backward pass: the part that differs between models. The unroll
/// (objective, Hessian–vector products, meta-loss, the order of the adjoint sweep) is shared by
/// `differentiateUnroll(_:state:point:objective:steps:loss:parameterCount:)`.
protocol StepTape {
    associatedtype State
    associatedtype Record
    /// Adjoints of the optimizer's state besides the point (accumulators, B, …), carried backward across steps.
    associatedtype Carried
    /// Advances `state` exactly as the optimizer's `update` does with a finite value and gradient; returns the record.
    func forward(_ state: inout State, value: Double, gradient: [Double]) -> Record
    /// Zero adjoints for a state of dimension n (the truncation's end: later steps are not in this unroll).
    func zeroCarried(dimension n: Int) -> Carried
    /// Given ∂L/∂Δ (Δ = x_t − x_{t+1}) and the carried adjoints of the state after the step, accumulates ∂L/∂θ into
    /// `gradient`, replaces `carried` by the adjoints of the state before the step and returns ∂L/∂x_t and ∂L/∂g_t
    /// through the step (not through the objective).
    func backward(_ record: Record, delta: [Double], carried: inout Carried, gradient: inout [Double])
        -> (point: [Double], gradient: [Double])
    /// Adds to `gradient` what the tape accumulated in `carried` instead of in `gradient` (after the last backward
    /// step of the unroll).
    func finish(_ carried: Carried, gradient: inout [Double])
}

extension StepTape {
    func finish(_ carried: Carried, gradient: inout [Double]) {}
}

/// Reverse-mode differentiation of `steps` inner steps of a learned optimizer:
///
///     forward:  f_t, g_t = f(x_t), ∇f(x_t);  ℓ_t = ℓ(f_t);  x_{t+1} = x_t − Δ_t(θ, x_t, g_t, state_t)
///     backward: x̄_t = x̄_{t+1} + (∂Δ_t/∂x_t)ᵀ(−x̄_{t+1}) + ∇²f(x_t)·ḡ_t + ℓ'(f_t)·g_t,
///               ḡ_t = (∂Δ_t/∂g_t)ᵀ(−x̄_{t+1}),  θ̄ += (∂Δ_t/∂θ)ᵀ(−x̄_{t+1})
///
/// with the optimizer's other state (accumulators, B) carried backward by the tape. The state at entry is a constant
/// (truncated backpropagation). A non-finite value or gradient stops the optimizer (as `update` does) and marks the
/// result not finite.
func differentiateUnroll<Tape: StepTape>(
    _ tape: Tape, state: inout Tape.State, point: (Tape.State) -> [Double], objective: any Objective, steps: Int,
    loss: StepLoss, parameterCount: Int
) -> UnrollGradient {
    var records: [Tape.Record] = []
    var points: [[Double]] = [], gradients: [[Double]] = [], slopes: [Double] = []
    var losses: [Double] = []
    var finite = true
    for _ in 0..<steps {
        let x = point(state)
        let (f, g) = objective.valueAndGradient(at: x)
        let ok = f.isFinite && g.allSatisfy(\.isFinite)
        let (l, slope) = loss(ok ? f : .nan)
        losses.append(l)
        guard ok else {
            // The optimizer stops here and at every later step; the gradient would describe a different function.
            finite = false
            continue
        }
        points.append(x)
        gradients.append(g)
        slopes.append(slope)
        records.append(tape.forward(&state, value: f, gradient: g))
    }
    var thetaGradient = [Double](repeating: 0, count: parameterCount)
    guard finite, let n = points.first?.count else {
        return UnrollGradient(losses: losses, gradient: thetaGradient, finite: finite)
    }
    // The loss ℓ_K at the point after the last step belongs to the next truncation: x̄_K = 0.
    var xBar = [Double](repeating: 0, count: n)
    var carried = tape.zeroCarried(dimension: n)
    for t in stride(from: records.count - 1, through: 0, by: -1) {
        let delta = xBar.map { -$0 }
        let (dx, dg) = tape.backward(records[t], delta: delta, carried: &carried, gradient: &thetaGradient)
        let hv = dg.contains { $0 != 0 }
            ? objective.hessianVectorProduct(at: points[t], direction: dg) : [Double](repeating: 0, count: n)
        for i in 0..<n { xBar[i] += dx[i] + hv[i] + slopes[t] * gradients[t][i] }
    }
    tape.finish(carried, gradient: &thetaGradient)
    if !thetaGradient.allSatisfy(\.isFinite) { finite = false }
    return UnrollGradient(losses: losses, gradient: thetaGradient, finite: finite)
}
