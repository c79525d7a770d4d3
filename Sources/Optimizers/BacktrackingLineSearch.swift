/// Armijo backtracking: accept the first step with sufficient decrease,
///
///     φ(α) ≤ φ(0) + c₁·α·φ'(0),
///
/// otherwise shrink α to the minimizer of the quadratic through φ(0), φ'(0) and φ(α), safeguarded to
/// [`minShrink`·α, `maxShrink`·α] (a non-finite φ shrinks by `minShrink`). Cheaper than strong Wolfe per iteration but
/// gives no curvature guarantee, so BFGS may skip updates when yᵀs ≤ 0.
public struct BacktrackingLineSearch: LineSearch, Equatable, Codable {
    /// c₁ in the sufficient-decrease condition. Default 1e−4.
    public var c1: Double
    /// Smallest shrink factor per step. Default 0.1.
    public var minShrink: Double
    /// Largest shrink factor per step. Default 0.5.
    public var maxShrink: Double
    /// Maximum number of φ evaluations per search. Default 50.
    public var maxEvaluations: Int

    public init(c1: Double = 1e-4, minShrink: Double = 0.1, maxShrink: Double = 0.5, maxEvaluations: Int = 50) {
        self.c1 = c1
        self.minShrink = minShrink
        self.maxShrink = maxShrink
        self.maxEvaluations = maxEvaluations
    }

    public struct State: LineSearchState {
        public internal(set) var step: Double
        public internal(set) var evaluations = 0
        let phi0: Double
        let dphi0: Double
        public var bestSufficientStep: Double? { nil }
    }

    public func start(value0: Double, derivative0: Double, initialStep: Double) -> State {
        State(step: initialStep, phi0: value0, dphi0: derivative0)
    }

    public func update(_ s: inout State, phi: Double, derivative: Double) -> LineSearchOutcome {
        s.evaluations += 1
        let alpha = s.step
        if phi.isFinite && hasSufficientDecrease(phi, step: alpha, c1: c1, phi0: s.phi0, dphi0: s.dphi0) {
            return .done(step: alpha)
        }
        if s.evaluations >= maxEvaluations { return .failed }
        var next = minShrink * alpha
        if phi.isFinite, let q = quadraticMinimizer(0, s.phi0, s.dphi0, alpha, phi) {
            next = min(max(q, minShrink * alpha), maxShrink * alpha)
        }
        if next <= 0 || next == alpha { return .failed }
        s.step = next
        return .evaluate
    }
}
