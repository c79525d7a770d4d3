/// A safeguard around any method: when an iterate's value rises above the best value so far by more than a relative
/// margin (or is not finite), the method starts afresh from the best point.
///
/// A learned optimizer has no line search: a step it proposes is taken, and on a problem unlike its training tasks one
/// bad step can throw it into a region it needs many iterations to leave (on a dance window, the loss rose to 1.6× its
/// start and stayed above the best for 15 iterations). This wrapper cuts such excursions short: after an accepted
/// iterate with f(x_k) > f_best + `margin`·|f_best|, the method's state is rebuilt at the best point x_best (its
/// memory, a learned optimizer's preconditioner, is reset) and is told f and ∇f there from the record, so a restart
/// costs no evaluation. Iterates that stay within the margin, including the ordinary ups and downs of a method
/// without line search, are left alone.
public struct RestartOnIncrease<Local: Optimizer>: Optimizer {
    public var name: String { "restart(\(local.name))" }
    public var appliesConvergenceTests: Bool { local.appliesConvergenceTests }
    public var detectsStalls: Bool { local.detectsStalls }
    /// The method.
    public var local: Local
    /// Restart when f(x_k) > f_best + margin·|f_best|. Must be finite and ≥ 0.
    public var margin: Double

    public init(local: Local, margin: Double = 0.25) {
        self.local = local
        self.margin = margin
    }

    public func memoryBytes(dimension d: Int) -> Int { local.memoryBytes(dimension: d) + 16 * d }

    public struct State: OptimizerState {
        /// The method's run since the last restart.
        public internal(set) var localState: Local.State
        /// The best iterate so far: x, f(x) and ∇f(x).
        public internal(set) var best: (x: [Double], value: Double, gradient: [Double])?
        /// Number of restarts made.
        public internal(set) var restarts = 0
        public var point: [Double] { localState.point }
        public var iterate: [Double] { localState.iterate }
        public var iterateValue: Double { localState.iterateValue }
        public var iterateGradient: [Double] { localState.iterateGradient }
    }

    public func makeState(start x0: [Double]) -> State { State(localState: local.makeState(start: x0)) }

    public func update(_ s: inout State, value: Double, gradient: [Double]) -> OptimizerEvent {
        let event = local.update(&s.localState, value: value, gradient: gradient)
        switch event {
        case .evaluate:
            return .evaluate
        case .accepted:
            let f = s.localState.iterateValue
            if f.isFinite, s.best == nil || f < s.best!.value {
                s.best = (s.localState.iterate, f, s.localState.iterateGradient)
                return .accepted
            }
            guard let best = s.best, !(f <= best.value + margin * abs(best.value)) else { return .accepted }
            return restart(&s, from: best)
        case .stopped(let reason):
            guard let best = s.best else { return .stopped(reason) }
            if case .stopped = restart(&s, from: best) { return .stopped(reason) }
            return .accepted
        }
    }

    /// A fresh run of the method at the best point, told its recorded value and gradient.
    private func restart(_ s: inout State, from best: (x: [Double], value: Double, gradient: [Double]))
        -> OptimizerEvent
    {
        s.localState = local.makeState(start: best.x)
        s.restarts += 1
        return local.update(&s.localState, value: best.value, gradient: best.gradient)
    }
}
