import LearnedOptimizers
import Objectives
import OptimusNumerics
import Optimizers

/// What PES unrolls: a family of inner optimization problems driven by meta-parameters θ.
public protocol InnerProblem: Sendable {
    /// The state of one inner trajectory (task, iterate, optimizer state). Copyable: antithetic pairs start equal.
    associatedtype State: Codable & Sendable
    /// The optimizer for one θ (built once per particle and sign per truncation).
    associatedtype Stepper: Sendable
    /// Number of meta-parameters.
    var parameterCount: Int { get }
    func stepper(theta: [Float]) -> Stepper
    /// A new trajectory (task, start, optimizer state) drawn from `generator`.
    func reset(generator: inout Xoshiro256StarStar) -> State
    /// One train step: the (normalized) loss at the current iterate, then the update.
    func step(_ stepper: Stepper, state: inout State) -> Double
}

/// A family of training tasks for meta-training: task specs are drawn from a seeded generator and are Codable (so a
/// trajectory's task is part of the checkpointed training state and can be replayed); building a spec gives the
/// objective, its start and the f* of the meta-loss.
public protocol TrainingTaskFamily: Sendable {
    associatedtype Spec: Codable & Sendable
    func sample(using g: inout Xoshiro256StarStar) -> Spec
    /// The objective, the start x₀ and the reference value f* of ``MetaLossNormalizer`` (the known minimum, or a lower
    /// bound such as 0 for a nonnegative loss).
    func build(_ spec: Spec) -> (objective: any Objective, start: [Double], fStar: Double)
}

extension TaskDistribution: TrainingTaskFamily {
    public func build(_ spec: TaskSpec) -> (objective: any Objective, start: [Double], fStar: Double) {
        let (objective, x0) = spec.build()
        return (objective, x0, objective.fStar)
    }
}

/// Learned-optimizer meta-training on a task family (the benchmark distribution, or reconstruction windows).
public struct LearnedOptimizerProblem<Model: LearnedOptimizer, Tasks: TrainingTaskFamily>: InnerProblem
where Model.Stepper.State: Codable {
    public let model: Model
    public let tasks: Tasks
    public let normalizer: MetaLossNormalizer

    public init(model: Model, tasks: Tasks, normalizer: MetaLossNormalizer = .init()) {
        self.model = model
        self.tasks = tasks
        self.normalizer = normalizer
    }

    public struct State: Codable, Sendable {
        public var task: Tasks.Spec
        public var optimizer: Model.Stepper.State
        public var startValue: Double
        public var fStar: Double
    }

    public var parameterCount: Int { model.parameterCount }

    public func stepper(theta: [Float]) -> Model.Stepper { model.optimizer(theta: theta, horizon: nil) }

    public func reset(generator: inout Xoshiro256StarStar) -> State {
        let task = tasks.sample(using: &generator)
        let (objective, x0, fStar) = tasks.build(task)
        // The optimizer's state does not depend on θ (only on x₀), so any θ builds it.
        let stepper = model.optimizer(theta: [Float](repeating: 0, count: model.parameterCount), horizon: nil)
        return State(task: task, optimizer: stepper.makeState(start: x0), startValue: objective.value(at: x0),
                     fStar: fStar)
    }

    public func step(_ stepper: Model.Stepper, state: inout State) -> Double {
        let (objective, _, _) = tasks.build(state.task)
        let (f, g) = objective.valueAndGradient(at: state.optimizer.point)
        let finite = f.isFinite && g.allSatisfy(\.isFinite)
        _ = stepper.update(&state.optimizer, value: finite ? f : .nan, gradient: g)
        return normalizer.loss(value: finite ? f : .nan, start: state.startValue, fStar: state.fStar)
    }
}

/// An inner problem whose truncated unroll has an exact gradient in θ (backpropagation through the steps).
public protocol DifferentiableInnerProblem: InnerProblem {
    /// Runs `steps` consecutive steps of the trajectory in `state` with meta-parameters θ, advancing `state` exactly as
    /// `steps` calls of ``InnerProblem/step(_:state:)`` with `stepper(theta:)` would, and returns each step's loss and
    /// the gradient in θ of their sum (the state at entry treated as a constant). `finite == false` when anything
    /// became non-finite: the gradient must then be discarded (zeroed and counted).
    func unrollWithGradient(theta: [Float], state: inout State, steps: Int) -> UnrollGradient
}

extension LearnedOptimizerProblem: DifferentiableInnerProblem where Model: DifferentiableLearnedOptimizer {
    public func unrollWithGradient(theta: [Float], state: inout State, steps: Int) -> UnrollGradient {
        let (objective, _, _) = tasks.build(state.task)
        let normalizer = self.normalizer, start = state.startValue, fStar = state.fStar
        return model.unrollGradient(theta: theta, state: &state.optimizer, objective: objective, steps: steps) { f in
            normalizer.lossAndDerivative(value: f, start: start, fStar: fStar)
        }
    }
}
