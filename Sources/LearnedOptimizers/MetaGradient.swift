import Objectives
import Optimizers

/// The exact gradient in θ of a truncated unroll: what backpropagation through K inner steps returns.
public struct UnrollGradient: Sendable {
    /// ℓ_t of each step (at the iterate before that step's update), as ``DifferentiableLearnedOptimizer`` was told.
    public var losses: [Double]
    /// ∂(Σ_t ℓ_t)/∂θ, one entry per meta-parameter.
    public var gradient: [Double]
    /// False when a value, gradient or intermediate became non-finite: the gradient is then meaningless (the caller
    /// zeroes it and counts it), the losses and the advanced state are still valid.
    public var finite: Bool

    public init(losses: [Double], gradient: [Double], finite: Bool) {
        self.losses = losses
        self.gradient = gradient
        self.finite = finite
    }
}

/// The per-step meta-loss ℓ(f) of an inner step and its derivative dℓ/df (so that ∂ℓ/∂x = dℓ/df·∇f). A non-finite f
/// gets a constant loss with derivative 0.
public typealias StepLoss = @Sendable (_ value: Double) -> (loss: Double, derivative: Double)

/// A learned optimizer whose inner steps can be differentiated exactly in its meta-parameters.
public protocol DifferentiableLearnedOptimizer: LearnedOptimizer {
    /// Runs `steps` inner steps on `objective` from `state` with meta-parameters θ, exactly as
    /// `optimizer(theta:).update` would (it advances `state`), and returns each step's loss ℓ(f(x_t)) and the gradient
    /// of Σ_t ℓ_t with respect to θ, by reverse-mode differentiation through the steps, the features, the
    /// accumulators and the objective's gradient (through its Hessian–vector products). The state at entry is a
    /// constant: this is the truncated (not the full-trajectory) gradient.
    func unrollGradient(
        theta: [Float], state: inout Stepper.State, objective: any Objective, steps: Int, loss: StepLoss
    ) -> UnrollGradient
}
