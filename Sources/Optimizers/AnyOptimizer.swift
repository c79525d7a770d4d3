/// A type-erased optimizer, for APIs that need one concrete type (for example a factory closure whose optimizer is
/// chosen at run time by name). Behaves exactly like the wrapped optimizer.
public struct AnyOptimizer: Optimizer {
    /// The wrapped optimizer.
    public let base: any Optimizer

    public init(_ base: any Optimizer) {
        if let already = base as? AnyOptimizer { self = already } else { self.base = base }
    }

    public var name: String { base.name }
    public var appliesConvergenceTests: Bool { base.appliesConvergenceTests }
    public var detectsStalls: Bool { base.detectsStalls }
    public func memoryBytes(dimension d: Int) -> Int { base.memoryBytes(dimension: d) }

    /// The wrapped optimizer's state.
    public struct State: OptimizerState {
        /// The wrapped state.
        public internal(set) var base: any OptimizerState
        public var point: [Double] { base.point }
        public var iterate: [Double] { base.iterate }
        public var iterateValue: Double { base.iterateValue }
        public var iterateGradient: [Double] { base.iterateGradient }
    }

    public func makeState(start x0: [Double]) -> State { State(base: base.makeState(start: x0)) }

    public func update(_ state: inout State, value: Double, gradient: [Double]) -> OptimizerEvent {
        func forward<O: Optimizer>(_ optimizer: O) -> OptimizerEvent {
            guard var s = state.base as? O.State else {
                preconditionFailure("AnyOptimizer: state of \(type(of: state.base)) does not belong to \(O.self)")
            }
            state.base = PlaceholderState()  // release the box so `s` is uniquely referenced (no copy of its arrays)
            let event = optimizer.update(&s, value: value, gradient: gradient)
            state.base = s
            return event
        }
        return forward(base)
    }
}

private struct PlaceholderState: OptimizerState {
    var point: [Double] { [] }
    var iterate: [Double] { [] }
    var iterateValue: Double { .nan }
    var iterateGradient: [Double] { [] }
}
