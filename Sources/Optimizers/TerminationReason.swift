/// Why a minimization stopped. Every run ends with exactly one reason; numerical trouble is a reason, not an error.
public enum TerminationReason: String, Codable, Sendable, CaseIterable {
    /// ‖∇f(x_k)‖∞ ≤ `gradientTolerance`, or the gradient is exactly zero.
    case gradientTolerance
    /// |f(x_k) − f(x_{k−1})| ≤ `valueTolerance`·max(1, |f(x_k)|).
    case valueTolerance
    /// ‖x_k − x_{k−1}‖∞ ≤ `stepTolerance`.
    case stepTolerance
    /// The paper's relative-decrease rule fired (``StoppingRule``).
    case stoppingRule
    /// The iteration budget is spent.
    case iterationLimit
    /// The evaluation budget is spent.
    case evaluationLimit
    /// The wall-clock budget is spent.
    case timeLimit
    /// A line search found no acceptable step, even along steepest descent: usually convergence to the limit of
    /// floating-point precision, sometimes a non-smooth objective. The best point is still returned.
    case lineSearchFailed
    /// The objective returned NaN or ±∞ (value or gradient) where the optimizer could not step back; the best finite
    /// point is returned.
    case nonFiniteObjective
    /// The quasi-Newton method made no progress (``StallDetection``): an accepted iterate equal to the previous one, or
    /// f not lower by more than a relative 10⁻¹⁵ over the last ``StallDetection/window`` iterations. Usually a point
    /// where f cannot decrease further in floating point (a local minimum whose gradient stays above the
    /// tolerance, or any point with the gradient test off); without it such a run spent its whole budget, millions of
    /// evaluations, at the same f. The best point is returned.
    case stalled
    /// The user's callback asked to stop.
    case callback

    /// True for the reasons that indicate convergence rather than a spent budget or a failure.
    public var isConvergence: Bool {
        switch self {
        case .gradientTolerance, .valueTolerance, .stepTolerance, .stoppingRule: true
        default: false
        }
    }
}
