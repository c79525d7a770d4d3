import Synchronization

/// Wraps an objective and counts its evaluations (thread-safe).
///
/// Counting is exact under concurrent use: the counters sit behind a `Mutex`. The `minimize` driver counts on its own;
/// use this wrapper to count evaluations made anywhere else (a user's loop, a grid search, a server).
///
/// ``hessianVectorProduct(at:direction:)`` is forwarded to the base (so its analytic product, if any, is used) and is
/// **not** counted: the counters count calls of ``value(at:)`` and ``valueAndGradient(at:gradient:)`` only. Where the
/// base falls back to finite differences, its two gradient evaluations per product are not counted either.
public final class CountingObjective<Base: Objective>: Objective {
    /// The wrapped objective.
    public let base: Base
    private let counts = Mutex<(values: Int, gradients: Int)>((0, 0))

    public init(_ base: Base) { self.base = base }

    public var dimension: Int { base.dimension }

    /// Number of calls that asked for the value only.
    public var valueEvaluations: Int { counts.withLock { $0.values } }
    /// Number of calls that asked for value and gradient.
    public var gradientEvaluations: Int { counts.withLock { $0.gradients } }
    /// All calls: value-only plus value-and-gradient.
    public var totalEvaluations: Int { counts.withLock { $0.values + $0.gradients } }

    /// Sets both counters to zero.
    public func reset() { counts.withLock { $0 = (0, 0) } }

    public func value(at x: [Double]) -> Double {
        counts.withLock { $0.values += 1 }
        return base.value(at: x)
    }

    public func valueAndGradient(at x: [Double], gradient: inout [Double]) -> Double {
        counts.withLock { $0.gradients += 1 }
        return base.valueAndGradient(at: x, gradient: &gradient)
    }

    /// The base's ∇²f(x)·v; not counted (see the type's documentation).
    public func hessianVectorProduct(at x: [Double], direction v: [Double]) -> [Double] {
        base.hessianVectorProduct(at: x, direction: v)
    }
}
