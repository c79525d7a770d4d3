/// A line search for a step satisfying the strong Wolfe conditions (Nocedal & Wright, *Numerical Optimization*,
/// 2nd ed., Algorithms 3.5 "bracketing" and 3.6 "zoom"):
///
///     φ(α) ≤ φ(0) + c₁·α·φ'(0)          (sufficient decrease)
///     |φ'(α)| ≤ c₂·|φ'(0)|               (curvature)
///
/// Bracketing extrapolates the step by `expansion` until φ rises or φ' turns non-negative; zoom then shrinks the
/// bracket with safeguarded cubic interpolation: the cubic's minimizer is used when it lies inside the bracket (at
/// least 1 % of the width from either end), and bisection is used instead when it does not, or when the bracket has
/// not shrunk to 2/3 of its width over the last two trials (the safeguard of Moré & Thuente 1994), so convergence is
/// superlinear near the minimizer and at worst linear.
/// A trial where f is not finite counts as "too far": the bracket closes on it and zoom bisects.
///
/// If the budget `maxEvaluations` runs out, or the bracket shrinks below floating-point resolution, the search
/// returns the best step with sufficient decrease that it found (the curvature condition may then fail; BFGS skips
/// its update in that case). It fails only if no such step was found.
public struct StrongWolfeLineSearch: LineSearch, Equatable, Codable {
    /// c₁ in the sufficient-decrease condition, 0 < c₁ < c₂. Default 1e−4.
    public var c1: Double
    /// c₂ in the curvature condition, c₁ < c₂ < 1. Default 0.9 (quasi-Newton); 0.1 for nonlinear CG.
    public var c2: Double
    /// Maximum number of φ evaluations per search. Default 30.
    public var maxEvaluations: Int
    /// Growth factor of the trial step while bracketing. Default 4.
    public var expansion: Double

    public init(c1: Double = 1e-4, c2: Double = 0.9, maxEvaluations: Int = 30, expansion: Double = 4) {
        self.c1 = c1
        self.c2 = c2
        self.maxEvaluations = maxEvaluations
        self.expansion = expansion
    }

    public struct State: LineSearchState {
        public internal(set) var step: Double
        public internal(set) var evaluations = 0
        let phi0: Double
        let dphi0: Double
        var zooming = false
        // Bracketing: the previous trial.
        var previous: (step: Double, phi: Double, dphi: Double)
        // Zoom: the end with the lower value (satisfies sufficient decrease) and the other end.
        var low: (step: Double, phi: Double, dphi: Double) = (0, 0, 0)
        var high: (step: Double, phi: Double, dphi: Double) = (0, 0, 0)
        /// The best step with sufficient decrease seen so far (0 if none).
        var bestSufficient: (step: Double, phi: Double) = (0, .infinity)
        /// Bracket widths after the last two zoom trials (for the bisection safeguard).
        var widths: (Double, Double) = (.infinity, .infinity)
        public var bestSufficientStep: Double? { bestSufficient.step > 0 ? bestSufficient.step : nil }
    }

    public func start(value0: Double, derivative0: Double, initialStep: Double) -> State {
        State(step: initialStep, phi0: value0, dphi0: derivative0, previous: (0, value0, derivative0))
    }

    public func update(_ s: inout State, phi: Double, derivative dphi: Double) -> LineSearchOutcome {
        s.evaluations += 1
        let alpha = s.step
        let finite = phi.isFinite && dphi.isFinite
        let sufficient = finite && hasSufficientDecrease(phi, step: alpha, c1: c1, phi0: s.phi0, dphi0: s.dphi0)
        if sufficient && phi < s.bestSufficient.phi { s.bestSufficient = (alpha, phi) }
        if sufficient && abs(dphi) <= -c2 * s.dphi0 { return .done(step: alpha) }

        if !s.zooming {
            if !sufficient || (s.evaluations > 1 && phi >= s.previous.phi) {
                s.zooming = true
                s.low = s.previous
                s.high = (alpha, finite ? phi : .nan, finite ? dphi : .nan)
            } else if dphi >= 0 {
                s.zooming = true
                s.low = (alpha, phi, dphi)
                s.high = s.previous
            } else {
                s.previous = (alpha, phi, dphi)
                s.step = alpha * expansion
                return s.evaluations >= maxEvaluations ? fallback(s) : .evaluate
            }
        } else {
            if !sufficient || phi >= s.low.phi {
                s.high = (alpha, finite ? phi : .nan, finite ? dphi : .nan)
            } else {
                if dphi * (s.high.step - s.low.step) >= 0 { s.high = s.low }
                s.low = (alpha, phi, dphi)
            }
        }
        if s.evaluations >= maxEvaluations { return fallback(s) }
        let width = abs(s.high.step - s.low.step)
        if width <= 1e-15 * max(s.low.step, s.high.step) { return fallback(s) }
        let stalled = width > (2.0 / 3.0) * s.widths.0
        s.widths = (s.widths.1, width)
        s.step = stalled ? 0.5 * (s.low.step + s.high.step) : zoomTrial(s)
        return .evaluate
    }

    /// The next trial inside the bracket: the cubic interpolant's minimizer if it lies at least 1 % of the width
    /// inside, else the midpoint.
    private func zoomTrial(_ s: State) -> Double {
        let (lo, hi) = (s.low, s.high)
        let a = min(lo.step, hi.step), b = max(lo.step, hi.step)
        let margin = 0.01 * (b - a)
        if hi.phi.isFinite, let t = cubicMinimizer(lo.step, lo.phi, lo.dphi, hi.step, hi.phi, hi.dphi),
           t >= a + margin, t <= b - margin {
            return t
        }
        return 0.5 * (lo.step + hi.step)
    }

    private func fallback(_ s: State) -> LineSearchOutcome {
        s.bestSufficient.step > 0 ? .done(step: s.bestSufficient.step) : .failed
    }
}
