import OptimusNumerics

/// Basin hopping (Wales & Doye 1997) around any local optimizer.
///
/// The run alternates local searches and random hops: a local search of at most `localIterations` iterations (or
/// until ‖∇f‖∞ ≤ `localGradientTolerance`, or the local method stops) starts from a perturbed point; its best point
/// x̂ replaces the current minimum x_c with the Metropolis probability min(1, exp(−(f(x̂) − f(x_c))/T)); the next
/// local search starts at x_c + u, u uniform in [−`stepSize`, `stepSize`]ᵈ. The paper (Table 4) runs Optimus this
/// way to trade evaluations for better minima.
///
/// The driver's iteration budget counts local iterations; the driver keeps the best point of all hops. Convergence
/// tests of the driver do not apply (a converged local search triggers a hop instead).
public struct BasinHopping<Local: Optimizer>: Optimizer {
    public var name: String { "basinhopping(\(local.name))" }
    public var appliesConvergenceTests: Bool { false }
    /// The local method.
    public var local: Local
    /// Iterations per local search (the paper's "fixed number of iterations"). Default 20.
    public var localIterations: Int
    /// Ends a local search early when ‖∇f‖∞ ≤ this. Default 1e−8.
    public var localGradientTolerance: Double
    /// Half-width of the uniform perturbation. Default 0.5.
    public var stepSize: Double
    /// Metropolis temperature T > 0 (in units of f). Default 1.
    public var temperature: Double
    /// Seed of the perturbations and acceptance draws.
    public var seed: UInt64

    public init(
        local: Local, localIterations: Int = 20, localGradientTolerance: Double = 1e-8, stepSize: Double = 0.5,
        temperature: Double = 1, seed: UInt64 = 0
    ) {
        self.local = local
        self.localIterations = localIterations
        self.localGradientTolerance = localGradientTolerance
        self.stepSize = stepSize
        self.temperature = temperature
        self.seed = seed
    }

    public struct State: OptimizerState {
        /// The local search in progress.
        public internal(set) var localState: Local.State
        var generator: Xoshiro256StarStar
        var localIterationCount = -1
        var localBest: (x: [Double], value: Double)?
        /// The current (accepted) minimum x_c and f(x_c).
        public internal(set) var current: (x: [Double], value: Double)?
        /// Number of hops made.
        public internal(set) var hops = 0
        public var point: [Double] { localState.point }
        public var iterate: [Double] { localState.iterate }
        public var iterateValue: Double { localState.iterateValue }
        public var iterateGradient: [Double] { localState.iterateGradient }
    }

    public func makeState(start x0: [Double]) -> State {
        State(localState: local.makeState(start: x0), generator: Xoshiro256StarStar(seed: seed))
    }

    public func update(_ s: inout State, value: Double, gradient: [Double]) -> OptimizerEvent {
        let event = local.update(&s.localState, value: value, gradient: gradient)
        switch event {
        case .evaluate:
            return .evaluate
        case .accepted:
            s.localIterationCount += 1
            let f = s.localState.iterateValue
            if s.localBest == nil || f < s.localBest!.value { s.localBest = (s.localState.iterate, f) }
            let g = s.localState.iterateGradient
            if s.localIterationCount >= localIterations || g.infinityNorm <= localGradientTolerance {
                hop(&s)
            }
            return .accepted
        case .stopped(let reason):
            if s.localBest == nil && s.current == nil { return .stopped(reason) }
            hop(&s)
            return .evaluate
        }
    }

    private func hop(_ s: inout State) {
        if let candidate = s.localBest {
            if let c = s.current {
                let accept = candidate.value < c.value
                    || s.generator.nextUnit() < exp(-(candidate.value - c.value) / temperature)
                if accept { s.current = candidate }
            } else {
                s.current = candidate
            }
        }
        guard let c = s.current else { return }
        let start = c.x.map { $0 + s.generator.uniform(-stepSize, stepSize) }
        s.localState = local.makeState(start: start)
        s.localIterationCount = -1
        s.localBest = nil
        s.hops += 1
    }
}
