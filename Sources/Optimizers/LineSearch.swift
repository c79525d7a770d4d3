/// A line search on φ(α) = f(x + α·d), written as a resumable state machine so that it can be driven by ask/tell.
///
/// The caller starts it with φ(0), φ'(0) < 0 and a first trial step, evaluates φ and φ' at ``LineSearchState/step``,
/// and passes them to ``update(_:phi:derivative:)`` until the outcome is ``LineSearchOutcome/done(step:)`` or
/// ``LineSearchOutcome/failed``. The accepted step is always one that was evaluated, so the caller can reuse its
/// value and gradient. Line searches are separate, injectable pieces, testable on any one-dimensional function.
public protocol LineSearch: Sendable {
    associatedtype State: LineSearchState
    /// Begins a search. `derivative0` must be negative (a descent direction); `initialStep` > 0.
    func start(value0: Double, derivative0: Double, initialStep: Double) -> State
    /// Consumes φ(α) and φ'(α) at `state.step` (`phi` is NaN where f could not be evaluated).
    func update(_ state: inout State, phi: Double, derivative: Double) -> LineSearchOutcome
}

/// The part of a line-search state the caller reads.
public protocol LineSearchState: Sendable {
    /// The step α to evaluate next.
    var step: Double { get }
    /// Evaluations made so far.
    var evaluations: Int { get }
    /// The evaluated step with sufficient decrease and the lowest φ so far, if any: the only step other than the
    /// latest trial that ``LineSearchOutcome/done(step:)`` may return.
    var bestSufficientStep: Double? { get }
}

/// The result of one ``LineSearch/update(_:phi:derivative:)``.
public enum LineSearchOutcome: Equatable, Sendable {
    /// Evaluate φ at `state.step` next.
    case evaluate
    /// Accept this step (it was evaluated earlier or just now).
    case done(step: Double)
    /// No acceptable step: no point with sufficient decrease was found.
    case failed
}

/// The line searches available to the quasi-Newton methods, as a value (so an optimizer's configuration stays a
/// plain, `Codable` struct).
public enum LineSearchMethod: Sendable, Equatable, Codable {
    /// Strong Wolfe conditions (Nocedal & Wright, Algorithms 3.5 and 3.6).
    case strongWolfe(StrongWolfeLineSearch)
    /// Armijo backtracking with safeguarded quadratic interpolation.
    case backtracking(BacktrackingLineSearch)

    /// Strong Wolfe with c₁ = 1e−4, c₂ = 0.9 (the usual quasi-Newton setting).
    public static let strongWolfe = LineSearchMethod.strongWolfe(StrongWolfeLineSearch())
    /// Backtracking with c₁ = 1e−4.
    public static let backtracking = LineSearchMethod.backtracking(BacktrackingLineSearch())

    /// The state of either search.
    public enum State: LineSearchState {
        case strongWolfe(StrongWolfeLineSearch.State)
        case backtracking(BacktrackingLineSearch.State)
        public var step: Double {
            switch self {
            case .strongWolfe(let s): s.step
            case .backtracking(let s): s.step
            }
        }
        public var evaluations: Int {
            switch self {
            case .strongWolfe(let s): s.evaluations
            case .backtracking(let s): s.evaluations
            }
        }
        public var bestSufficientStep: Double? {
            switch self {
            case .strongWolfe(let s): s.bestSufficientStep
            case .backtracking(let s): s.bestSufficientStep
            }
        }
    }

    func start(value0: Double, derivative0: Double, initialStep: Double) -> State {
        switch self {
        case .strongWolfe(let ls): .strongWolfe(ls.start(value0: value0, derivative0: derivative0, initialStep: initialStep))
        case .backtracking(let ls): .backtracking(ls.start(value0: value0, derivative0: derivative0, initialStep: initialStep))
        }
    }

    func update(_ state: inout State, phi: Double, derivative: Double) -> LineSearchOutcome {
        switch (self, state) {
        case (.strongWolfe(let ls), .strongWolfe(var s)):
            let o = ls.update(&s, phi: phi, derivative: derivative)
            state = .strongWolfe(s)
            return o
        case (.backtracking(let ls), .backtracking(var s)):
            let o = ls.update(&s, phi: phi, derivative: derivative)
            state = .backtracking(s)
            return o
        default:
            preconditionFailure("line search state does not match its method")
        }
    }
}

/// The sufficient-decrease (Armijo) condition of both line searches, φ(α) ≤ φ(0) + c₁·α·φ'(0); false for a NaN φ.
@inlinable
func hasSufficientDecrease(_ phi: Double, step alpha: Double, c1: Double, phi0: Double, dphi0: Double) -> Bool {
    phi <= phi0 + c1 * alpha * dphi0
}

/// The minimizer of the cubic that interpolates (a, fa, da) and (b, fb, db), or nil if it does not exist.
/// Nocedal & Wright (3.59).
@inlinable
func cubicMinimizer(_ a: Double, _ fa: Double, _ da: Double, _ b: Double, _ fb: Double, _ db: Double) -> Double? {
    let d1 = da + db - 3 * (fa - fb) / (a - b)
    let disc = d1 * d1 - da * db
    guard disc >= 0 else { return nil }
    let d2 = (b > a ? 1.0 : -1.0) * disc.squareRoot()
    let denom = db - da + 2 * d2
    guard denom != 0 else { return nil }
    let t = b - (b - a) * (db + d2 - d1) / denom
    return t.isFinite ? t : nil
}

/// The minimizer of the quadratic through (a, fa) with slope da and (b, fb), or nil if it opens downward.
@inlinable
func quadraticMinimizer(_ a: Double, _ fa: Double, _ da: Double, _ b: Double, _ fb: Double) -> Double? {
    let h = b - a
    let c = (fb - fa - da * h) / (h * h)
    guard c > 0 else { return nil }
    let t = a - da / (2 * c)
    return t.isFinite ? t : nil
}
