import Foundation

/// One iteration of a run, as recorded when ``MinimizationOptions/recordTrace`` is on.
public struct TraceEntry: Sendable, Codable, Equatable {
    /// k (0 for x₀).
    public var iteration: Int
    /// f(x_k).
    public var value: Double
    /// The best value evaluated so far (including line-search trials).
    public var bestValue: Double
    /// ‖∇f(x_k)‖∞.
    public var gradientNorm: Double
    /// Objective evaluations so far.
    public var evaluations: Int
    /// x_k, when ``MinimizationOptions/recordIterates`` is on.
    public var x: [Double]?
}

/// The outcome of a minimization: the best point, counts, the reason it stopped, and an optional trace.
///
/// `x`/`value` is the best point evaluated (finite value and gradient), which can differ from the last iterate
/// (`finalPoint`/`finalValue`) for methods without monotone decrease (Adam, momentum) or after a failure.
public struct MinimizationResult: Sendable, Codable, Equatable {
    /// The optimizer's name.
    public var optimizer: String
    /// The best point evaluated.
    public var x: [Double]
    /// f at the best point; NaN if no finite point was ever evaluated.
    public var value: Double
    /// f(x₀); NaN if x₀ could not be evaluated.
    public var initialValue: Double
    /// The last iterate x_k.
    public var finalPoint: [Double]
    /// f(x_k) of the last iterate.
    public var finalValue: Double
    /// ‖∇f‖∞ at the last iterate.
    public var finalGradientNorm: Double
    /// Iterations completed (accepted iterates after x₀).
    public var iterations: Int
    /// Objective values computed.
    public var functionEvaluations: Int
    /// Gradients computed (every evaluation computes both, so this equals `functionEvaluations`).
    public var gradientEvaluations: Int
    /// Why the run stopped.
    public var termination: TerminationReason
    /// Wall-clock seconds.
    public var seconds: Double
    /// One entry per iteration (x₀ first), if recorded.
    public var trace: [TraceEntry]?

    /// Why some of the values are not finite (written as JSON `null`), or nil when they all are. A non-finite result
    /// is an outcome, not an error: the run happened, and f could not be evaluated to a number at those points.
    /// `valueField` is the name under which ``value`` is written (`bestValue` by the CLI, `value` by the server).
    public func nullReason(valueField: String = "value") -> String? {
        var fields: [String] = []
        if !initialValue.isFinite { fields.append("initialValue") }
        if !value.isFinite { fields.append(valueField) }
        if !finalValue.isFinite { fields.append("finalValue") }
        if !finalGradientNorm.isFinite { fields.append("finalGradientNorm") }
        guard !fields.isEmpty else { return nil }
        let why = value.isFinite
            ? "f or its gradient is not finite at those points"
            : "no point with a finite f and gradient was evaluated (f overflows or is undefined there: a start too far "
                + "out or outside the function's domain)"
        return "\(fields.joined(separator: ", ")) null: \(why); termination \(termination.rawValue)"
    }

    /// One line: "bfgs: f = 1.2e-12 after 34 iterations (41 evaluations), gradientTolerance, 0.002 s".
    public var summary: String {
        "\(optimizer): f = \(format(value)) after \(iterations) iterations (\(functionEvaluations) evaluations), "
            + "\(termination.rawValue), \(format(seconds)) s"
    }

    /// A multi-line report in the spirit of Ceres' `Solver::Summary::FullReport()`.
    public var fullReport: String {
        """
        Optimizer            \(optimizer)
        Termination          \(termination.rawValue)\(termination.isConvergence ? " (converged)" : "")
        Initial value        \(format(initialValue))
        Best value           \(format(value))
        Final iterate value  \(format(finalValue))
        Final ‖∇f‖∞          \(format(finalGradientNorm))
        Iterations           \(iterations)
        Evaluations          \(functionEvaluations) (value), \(gradientEvaluations) (gradient)
        Dimension            \(x.count)
        Wall time            \(format(seconds)) s
        """
    }

    private func format(_ v: Double) -> String { String(format: "%.6g", v) }
}
