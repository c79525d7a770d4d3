/// An iterative minimizer written as a resumable state machine ("ask/tell").
///
/// Configuration (the conforming type: learning rate, memory, line search) is kept apart from the state of a run
/// (``State``, a value type that can be copied, stored and resumed). The protocol is two functions:
///
/// 1. ``makeState(start:)`` creates the state of a run whose first point to evaluate is x₀.
/// 2. ``update(_:value:gradient:)`` receives f and ∇f at `state.point` (the "tell") and moves the state on, so that
///    `state.point` is the next point to evaluate (the "ask").
///
/// A line-search method asks for several points per iteration; ``OptimizerEvent/accepted`` marks the evaluations that
/// complete an iteration (including x₀). The generic driver ``Minimization`` adds budgets, tolerances, stopping rules
/// and the best point; ``minimize(_:from:using:options:callback:)`` runs it against an ``Objective``. A server that
/// receives values from another process drives the same ``Minimization``, so both paths produce identical iterates.
public protocol Optimizer: Sendable {
    /// The state of one run. A value type: copying it forks the run.
    associatedtype State: OptimizerState

    /// A short name used in results and on the command line (`"bfgs"`).
    var name: String { get }

    /// Whether the driver's convergence tests (gradient, value, step tolerance, stopping rule) apply to this
    /// optimizer's iterates. Global wrappers such as ``BasinHopping`` run local convergence themselves and return false.
    var appliesConvergenceTests: Bool { get }

    /// Whether the driver ends a run that no longer makes progress with ``TerminationReason/stalled`` (see
    /// ``StallDetection``). True for BFGS and L-BFGS, whose line search guarantees a decrease at every iteration, so
    /// no decrease means no progress; false by default, because a first-order or learned method may legitimately
    /// hover at one value for a while (and the paper's benchmark runs them for a fixed budget).
    var detectsStalls: Bool { get }

    /// The bytes a run at dimension d needs: the state and the workspaces of one step (the table in ``MemoryBudget``).
    /// Checked against the budget before a run is started. Default: ``MemoryBudget/linear(dimension:vectors:)``.
    func memoryBytes(dimension d: Int) -> Int

    /// The state of a new run starting at x₀; its ``OptimizerState/point`` is x₀.
    func makeState(start x0: [Double]) -> State

    /// Consumes f and ∇f at `state.point`. `value` is NaN when the objective could not be evaluated there (the driver
    /// maps any non-finite value or gradient to NaN), in which case `gradient` must not be used.
    func update(_ state: inout State, value: Double, gradient: [Double]) -> OptimizerEvent
}

extension Optimizer {
    public var appliesConvergenceTests: Bool { true }
    public var detectsStalls: Bool { false }
    public func memoryBytes(dimension d: Int) -> Int { MemoryBudget.linear(dimension: d) }
}

/// The state of a run, as the driver sees it.
public protocol OptimizerState: Sendable {
    /// The next point to evaluate.
    var point: [Double] { get }
    /// The current iterate x_k (the last accepted point).
    var iterate: [Double] { get }
    /// f(x_k); NaN before x₀ has been evaluated.
    var iterateValue: Double { get }
    /// ∇f(x_k); empty before x₀ has been evaluated.
    var iterateGradient: [Double] { get }
}

/// What an ``Optimizer/update(_:value:gradient:)`` call did.
public enum OptimizerEvent: Equatable, Sendable {
    /// The optimizer needs `state.point` evaluated to continue the current iteration (for example inside a line
    /// search).
    case evaluate
    /// The evaluated point became the new iterate x_k (x₀ on the first call); `state.point` is the next point.
    case accepted
    /// The optimizer cannot continue; the run ends with this reason.
    case stopped(TerminationReason)
}
