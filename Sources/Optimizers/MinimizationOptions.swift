/// Budgets and convergence tests of a minimization. Every limit is optional; a zero tolerance disables its test.
///
/// Defaults follow Optim.jl where the paper is silent: 1000 iterations, ‖∇f‖∞ ≤ 1e−8, value and step tests off.
/// The paper's benchmark uses `maxIterations = 100` and no tolerances.
public struct MinimizationOptions: Sendable, Codable, Equatable {
    /// Maximum number of iterations (accepted iterates after x₀). Must be ≥ 0.
    public var maxIterations: Int
    /// Maximum number of objective evaluations (value and gradient together), or nil for no limit. Must be ≥ 1.
    public var maxEvaluations: Int?
    /// Wall-clock budget in seconds, or nil for none. Must be > 0.
    public var timeLimit: Double?
    /// Stop when ‖∇f(x_k)‖∞ ≤ this. Default 1e−8; 0 disables.
    public var gradientTolerance: Double
    /// Stop when |f_k − f_{k−1}| ≤ this·max(1, |f_k|). Default 0 (off).
    public var valueTolerance: Double
    /// Stop when ‖x_k − x_{k−1}‖∞ ≤ this. Default 0 (off).
    public var stepTolerance: Double
    /// The paper's stopping rule, or nil (default) for none.
    public var stoppingRule: StoppingRule?
    /// Record one ``TraceEntry`` per iteration in the result.
    public var recordTrace: Bool
    /// Also record every iterate x_k in the trace (costs d values per iteration).
    public var recordIterates: Bool

    public init(
        maxIterations: Int = 1000, maxEvaluations: Int? = nil, timeLimit: Double? = nil,
        gradientTolerance: Double = 1e-8, valueTolerance: Double = 0, stepTolerance: Double = 0,
        stoppingRule: StoppingRule? = nil, recordTrace: Bool = false, recordIterates: Bool = false
    ) {
        self.maxIterations = maxIterations
        self.maxEvaluations = maxEvaluations
        self.timeLimit = timeLimit
        self.gradientTolerance = gradientTolerance
        self.valueTolerance = valueTolerance
        self.stepTolerance = stepTolerance
        self.stoppingRule = stoppingRule
        self.recordTrace = recordTrace
        self.recordIterates = recordIterates
    }

    /// Throws an error naming the first invalid field.
    public func validate() throws(OptimizationError) {
        try require(maxIterations >= 0, "maxIterations", maxIterations, "an integer ≥ 0")
        if let e = maxEvaluations { try require(e >= 1, "maxEvaluations", e, "an integer ≥ 1") }
        if let t = timeLimit { try require(t > 0 && t.isFinite, "timeLimit", t, "a finite number of seconds > 0") }
        try require(gradientTolerance >= 0 && gradientTolerance.isFinite, "gradientTolerance", gradientTolerance,
                    "a finite number ≥ 0")
        try require(valueTolerance >= 0 && valueTolerance.isFinite, "valueTolerance", valueTolerance,
                    "a finite number ≥ 0")
        try require(stepTolerance >= 0 && stepTolerance.isFinite, "stepTolerance", stepTolerance,
                    "a finite number ≥ 0")
        try stoppingRule?.validate()
    }
}

/// The stopping rule of the paper (Section 4, "Stopping Criterion"): stop at iteration k when
///
///     f(x_k) > (1/N) Σ_{i=1}^{N} β·f(x_{k−i}) + ε,
///
/// i.e. when the value rises above the average of the previous N iterates. Not applied in the first N iterations.
/// The paper uses N = 5 and does not state β or ε; the defaults β = 1, ε = 0 make the rule "stop when f is above the
/// mean of the last five values".
public struct StoppingRule: Sendable, Codable, Equatable {
    /// N, the window. Must be ≥ 1. Paper: 5.
    public var window: Int
    /// β, the factor on past values. Must be finite and > 0. Default 1.
    public var beta: Double
    /// ε, the additive slack. Must be finite. Default 0.
    public var epsilon: Double

    public init(window: Int = 5, beta: Double = 1, epsilon: Double = 0) {
        self.window = window
        self.beta = beta
        self.epsilon = epsilon
    }

    /// The paper's setting (N = 5, β = 1, ε = 0).
    public static let paper = StoppingRule()

    /// Throws an error naming the first invalid field.
    public func validate() throws(OptimizationError) {
        try require(window >= 1, "stoppingRule.window", window, "an integer ≥ 1")
        try require(beta > 0 && beta.isFinite, "stoppingRule.beta", beta, "a finite number > 0")
        try require(epsilon.isFinite, "stoppingRule.epsilon", epsilon, "a finite number")
    }

    /// Whether the rule fires for value `current` after the `previous` values (oldest first).
    public func fires(current: Double, previous: some Collection<Double>) -> Bool {
        guard previous.count >= window else { return false }
        var sum = 0.0
        for v in previous.suffix(window) { sum += beta * v }
        return current > sum / Double(window) + epsilon
    }
}
