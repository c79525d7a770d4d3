import Objectives

/// What a ``minimize(_:from:using:options:callback:)`` callback sees after each iteration.
public struct IterationInfo: Sendable {
    /// k (0 for x₀).
    public var iteration: Int
    /// f(x_k).
    public var value: Double
    /// The best value so far.
    public var bestValue: Double
    /// Evaluations so far.
    public var evaluations: Int
}

/// Minimizes `objective` from `x0` with `optimizer`.
///
/// A thin loop over ``Minimization``: evaluate `nextPoint`, `tell` the value and gradient, repeat until the run ends.
/// The callback, if given, runs after every iteration and returns `true` to stop (termination `.callback`).
///
/// - Throws: ``OptimizationError`` when x₀ has the wrong length or is not finite, or an option is invalid. Numerical
///   failure never throws; it is a ``TerminationReason``.
public func minimize<O: Optimizer>(
    _ objective: some Objective, from x0: [Double], using optimizer: O,
    options: MinimizationOptions = .init(), callback: ((IterationInfo) -> Bool)? = nil
) throws(OptimizationError) -> MinimizationResult {
    guard x0.count == objective.dimension else {
        throw .wrongLength(field: "x0", expected: objective.dimension, actual: x0.count)
    }
    var run = try Minimization(optimizer: optimizer, start: x0, options: options)
    var gradient = [Double](repeating: 0, count: x0.count)
    while let x = run.nextPoint {
        let f = objective.valueAndGradient(at: x, gradient: &gradient)
        if run.tell(value: f, gradient: gradient), let callback {
            let info = IterationInfo(iteration: run.iterationCount, value: run.state.iterateValue,
                                     bestValue: run.bestValue, evaluations: run.evaluationCount)
            if callback(info) {
                run.stop()
            }
        }
    }
    return run.result
}
