import Foundation
import OptimusNumerics

/// The generic minimization driver as an ask/tell state machine.
///
/// `Minimization` owns everything that is not specific to one method: budgets, convergence tests, the paper's
/// stopping rule, evaluation counts, the best point and the trace. ``minimize(_:from:using:options:callback:)`` is a
/// loop over it, and `optimus serve` drives the very same type with values that come from another process, so the
/// two paths give bit-identical iterates.
///
/// ```swift
/// var run = try Minimization(optimizer: LBFGS(), start: x0, options: .init(maxIterations: 100))
/// while let x = run.nextPoint {
///     let (f, g) = myObjective(x)
///     run.tell(value: f, gradient: g)
/// }
/// print(run.result.summary)
/// ```
public struct Minimization<O: Optimizer>: Sendable {
    /// The optimizer's configuration.
    public let optimizer: O
    /// Budgets and tests.
    public let options: MinimizationOptions
    /// The optimizer's state (exposed for inspection and for checkpointing).
    public private(set) var state: O.State

    private var evaluations = 0
    private var iterations = -1  // becomes 0 when x₀ is accepted
    private var best: (x: [Double], value: Double)
    private var initialValue = Double.nan
    private var recentValues: [Double] = []
    private var previousIterate: (x: [Double], value: Double)?
    /// The last ``StallDetection/window`` + 1 accepted values, oldest first (optimizers that detect stalls).
    private var stallValues: [Double] = []
    private var trace: [TraceEntry] = []
    private var termination: TerminationReason?
    private let startTime: ContinuousClock.Instant
    private var elapsed: Duration = .zero

    /// Starts a run at x₀. Throws if x₀ is empty or not finite, or an option is invalid.
    public init(optimizer: O, start x0: [Double], options: MinimizationOptions = .init()) throws(OptimizationError) {
        guard !x0.isEmpty else { throw .emptyStart }
        guard x0.allSatisfy(\.isFinite) else { throw .nonFiniteStart(field: "x0") }
        try options.validate()
        self.optimizer = optimizer
        self.options = options
        self.state = optimizer.makeState(start: x0)
        self.best = (x0, .nan)
        self.startTime = ContinuousClock.now
        checkBudgetsBeforeEvaluation()
    }

    /// The next point to evaluate ("ask"), or nil when the run has ended.
    public var nextPoint: [Double]? { termination == nil ? state.point : nil }

    /// Whether the run has ended.
    public var isFinished: Bool { termination != nil }

    /// Stops the run now with reason ``TerminationReason/callback`` (no effect on a finished run).
    public mutating func stop() {
        if termination == nil { finish(.callback) }
    }

    /// Feeds f and ∇f at ``nextPoint`` ("tell"). Non-finite values or gradients are reported outcomes: the optimizer
    /// steps back or the run ends with ``TerminationReason/nonFiniteObjective``. Returns true when an iteration was
    /// completed by this evaluation. Calling it after the run has ended does nothing and returns false.
    @discardableResult
    public mutating func tell(value: Double, gradient: [Double]) -> Bool {
        guard termination == nil else { return false }
        precondition(gradient.count == state.point.count,
                     "tell: gradient has \(gradient.count) values, expected \(state.point.count)")
        evaluations += 1
        let finite = value.isFinite && gradient.allSatisfy(\.isFinite)
        if finite && !(value >= best.value) {  // also replaces the initial NaN
            best = (state.point, value)
        }
        let event = optimizer.update(&state, value: finite ? value : .nan, gradient: gradient)
        var completed = false
        switch event {
        case .evaluate:
            break
        case .accepted:
            completed = true
            acceptIterate()
        case .stopped(let reason):
            if iterations < 0, case .nonFiniteObjective = reason { iterations = 0 }
            finish(reason)
        }
        if termination == nil { checkBudgetsBeforeEvaluation() }
        return completed
    }

    /// The result so far (final once ``isFinished``).
    public var result: MinimizationResult {
        let g = state.iterateGradient
        return MinimizationResult(
            optimizer: optimizer.name,
            x: best.x, value: best.value, initialValue: initialValue,
            finalPoint: state.iterate, finalValue: state.iterateValue,
            finalGradientNorm: g.isEmpty ? .nan : g.infinityNorm,
            iterations: max(0, iterations),
            functionEvaluations: evaluations, gradientEvaluations: evaluations,
            termination: termination ?? .iterationLimit,
            seconds: (termination == nil ? ContinuousClock.now - startTime : elapsed).inSeconds,
            trace: options.recordTrace ? trace : nil)
    }

    /// Iterations completed so far.
    public var iterationCount: Int { max(0, iterations) }
    /// Evaluations so far.
    public var evaluationCount: Int { evaluations }
    /// The best finite value evaluated so far (NaN before any).
    public var bestValue: Double { best.value }

    // MARK: - Internals

    private mutating func acceptIterate() {
        iterations += 1
        let f = state.iterateValue
        let x = state.iterate
        let gNorm = state.iterateGradient.infinityNorm
        if iterations == 0 { initialValue = f }
        if options.recordTrace {
            trace.append(TraceEntry(iteration: iterations, value: f, bestValue: best.value, gradientNorm: gNorm,
                                    evaluations: evaluations, x: options.recordIterates ? x : nil))
        }
        defer {
            previousIterate = (x, f)
            if let rule = options.stoppingRule {
                recentValues.append(f)
                if recentValues.count > rule.window { recentValues.removeFirst() }
            }
        }
        if optimizer.appliesConvergenceTests {
            if options.gradientTolerance > 0 && gNorm <= options.gradientTolerance {
                return finish(.gradientTolerance)
            }
            if let rule = options.stoppingRule, rule.fires(current: f, previous: recentValues) {
                return finish(.stoppingRule)
            }
            if let prev = previousIterate {
                if options.valueTolerance > 0 && abs(f - prev.value) <= options.valueTolerance * max(1, abs(f)) {
                    return finish(.valueTolerance)
                }
                if options.stepTolerance > 0 && maxAbsDifference(x, prev.x) <= options.stepTolerance {
                    return finish(.stepTolerance)
                }
            }
        }
        if iterations >= options.maxIterations { return finish(.iterationLimit) }
        if optimizer.detectsStalls {
            if let prev = previousIterate, x == prev.x { return finish(.stalled) }
            stallValues.append(f)
            if stallValues.count > StallDetection.window + 1 { stallValues.removeFirst() }
            if stallValues.count == StallDetection.window + 1, StallDetection.isStalled(from: stallValues[0], to: f) {
                return finish(.stalled)
            }
        }
    }

    private mutating func checkBudgetsBeforeEvaluation() {
        if let m = options.maxEvaluations, evaluations >= m { return finish(.evaluationLimit) }
        if let t = options.timeLimit, (ContinuousClock.now - startTime).inSeconds >= t { return finish(.timeLimit) }
    }

    private mutating func finish(_ reason: TerminationReason) {
        termination = reason
        elapsed = ContinuousClock.now - startTime
    }

}

/// Stall detection for line-search descent methods (``Optimizer/detectsStalls``: BFGS, L-BFGS).
///
/// The run ends with ``TerminationReason/stalled`` when an accepted iterate is the previous iterate itself (the line
/// search returned the same point: its step is below the resolution of x), or when f has not decreased by more than a
/// relative ``relativeDecrease`` over the last ``window`` iterations. A line search enforces a decrease at every
/// iteration, so ten iterations without one beyond rounding mean the method is stuck; L-BFGS on Rastrigin at d = 10
/// with the gradient test off used to spend 5.9 million evaluations at one value. The test is independent of the
/// tolerances, so it also fires with `gradientTolerance` 0; it is checked after the iteration budget, so a run that
/// spends its budget reports ``TerminationReason/iterationLimit`` as before.
public enum StallDetection {
    /// Iterations over which f must decrease: 10.
    public static let window = 10
    /// The smallest relative decrease over the window that counts as progress: 10⁻¹⁵ (a few units in the last place
    /// of a Double).
    public static let relativeDecrease = 1e-15

    /// Whether going from `old` to `new` over the window is no progress: new > old − 10⁻¹⁵·|old|.
    public static func isStalled(from old: Double, to new: Double) -> Bool {
        !(old - new > relativeDecrease * abs(old))
    }
}

@inline(__always)
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    var m = 0.0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}
