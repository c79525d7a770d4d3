import Foundation
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
    associatedtype Spec: Codable & Sendable & Hashable
    func sample(using g: inout Xoshiro256StarStar) -> Spec
    /// The objective, the start x₀ and the reference value f* of ``MetaLossNormalizer`` (the known minimum, or a lower
    /// bound such as 0 for a nonnegative loss).
    func build(_ spec: Spec) -> (objective: any Objective, start: [Double], fStar: Double)
}

/// Learned-optimizer meta-training on a task family (any ``TrainingTaskFamily``; the benchmark distribution and
/// reconstruction windows are in the TaskFamilies module).
public struct LearnedOptimizerProblem<Model: LearnedOptimizer, Tasks: TrainingTaskFamily>: InnerProblem
where Model.Stepper.State: Codable {
    public let model: Model
    public let tasks: Tasks
    public let normalizer: MetaLossNormalizer
    /// The objectives of the tasks in flight, built once per task rather than once per inner step.
    let objectives: ObjectiveCache<Tasks.Spec>

    public init(model: Model, tasks: Tasks, normalizer: MetaLossNormalizer = .init()) {
        self.model = model
        self.tasks = tasks
        self.normalizer = normalizer
        objectives = ObjectiveCache(capacity: 512)
    }

    /// The task's objective, from the cache (building is deterministic, so a hit is exactly what a rebuild gives).
    func objective(_ spec: Tasks.Spec) -> any Objective {
        objectives.value(for: spec) { tasks.build($0).objective }
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
        let objective = objective(state.task)
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
        let objective = objective(state.task)
        let normalizer = self.normalizer, start = state.startValue, fStar = state.fStar
        return model.unrollGradient(theta: theta, state: &state.optimizer, objective: objective, steps: steps) { f in
            normalizer.lossAndDerivative(value: f, start: start, fStar: fStar)
        }
    }
}

/// A bounded, thread-safe map from task specs to their built objectives: a trajectory's objective is needed at each
/// of its inner steps (by both members of an antithetic pair, on any thread), and building one can cost far more than
/// a step (a rotated task's Q is O(d³); a motion window re-synthesizes its observations). The oldest entries are
/// evicted first; an evicted task is simply built again.
final class ObjectiveCache<Spec: Hashable & Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Spec: any Objective] = [:]
    private var order: [Spec] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func value(for spec: Spec, build: (Spec) -> any Objective) -> any Objective {
        lock.lock()
        if let hit = entries[spec] {
            lock.unlock()
            return hit
        }
        lock.unlock()
        let built = build(spec)  // outside the lock: other threads keep going
        lock.lock()
        defer { lock.unlock() }
        if let raced = entries[spec] { return raced }
        entries[spec] = built
        order.append(spec)
        if entries.count > capacity {
            entries[order[head]] = nil
            head += 1
            if head > capacity {  // compact the queue now and then
                order.removeFirst(head)
                head = 0
            }
        }
        return built
    }
}
