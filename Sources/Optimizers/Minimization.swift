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

@inline(__always)
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    var m = 0.0
    for i in a.indices { m = max(m, abs(a[i] - b[i])) }
    return m
}
