import Dispatch
import LearnedOptimizers
import MetaTraining
import OptimusNumerics

extension MetaTrainingRun {
    /// Mean meta-loss of a checkpoint on `tasks` tasks drawn with `seed` from the configuration's task family (each run
    /// for `steps` steps): checking a trained optimizer, or choosing between checkpoints, on more tasks than the
    /// run's own validation used (and on a seed other than the run's validation seed).
    public static func heldOutLoss(configuration: TrainingConfiguration, checkpoint: Checkpoint, tasks: Int, seed: UInt64,
                                   steps: Int) throws -> Double {
        try configuration.validate()
        guard tasks >= 1, steps >= 1 else { throw MetaTrainingError.invalid("tasks/steps", "must be ≥ 1") }
        BLAS.setThreadCount(1)
        func loss<Family: TrainingTaskFamily>(_ family: Family) throws -> Double {
            var g = Xoshiro256StarStar(seed: seed)
            let specs = (0..<tasks).map { _ in family.sample(using: &g) }
            return try LearnedOptimizerRegistry.visit(checkpoint, with: HeldOutVisitor(
                family: family, specs: specs, steps: steps, normalizer: configuration.normalizer,
                score: configuration.validation.score))
        }
        return try loss(try taskFamily(configuration))
    }

    /// ``validationLoss(_:theta:family:tasks:steps:normalizer:score:)`` of the checkpoint's model.
    struct HeldOutVisitor<Family: TrainingTaskFamily>: LearnedOptimizerVisitor {
        let family: Family
        let specs: [Family.Spec]
        let steps: Int
        let normalizer: MetaLossNormalizer
        let score: ValidationScore

        func visit<M: DifferentiableLearnedOptimizer>(_ model: M, theta: [Float]) -> Double where M.Stepper.State: Codable {
            validationLoss(model, theta: theta, family: family, tasks: specs, steps: steps, normalizer: normalizer,
                           score: score)
        }
    }

    /// Mean over fixed held-out tasks (each run for `steps` steps, in task order) of the normalized meta-loss: per task
    /// the mean over its steps (``ValidationScore/mean``) or that of the best value it evaluated
    /// (``ValidationScore/best``).
    public static func validationLoss<M: LearnedOptimizer, Tasks: TrainingTaskFamily>(
        _ model: M, theta: [Float], family: Tasks, tasks: [Tasks.Spec], steps: Int, normalizer: MetaLossNormalizer,
        score: ValidationScore = .mean
    ) -> Double {
        let optimizer = model.optimizer(theta: theta, horizon: steps)
        var losses = [Double](repeating: 0, count: tasks.count)
        losses.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: tasks.count) { i in
                let (objective, x0, fStar) = family.build(tasks[i])
                var s = optimizer.makeState(start: x0)
                let f0 = objective.value(at: x0)
                var sum = 0.0, best = normalizer.upperClip
                for _ in 0..<steps {
                    let (f, g) = objective.valueAndGradient(at: s.point)
                    let finite = f.isFinite && g.allSatisfy(\.isFinite)
                    let loss = normalizer.loss(value: finite ? f : .nan, start: f0, fStar: fStar)
                    sum += loss
                    best = min(best, loss)  // the loss is monotone in f: the best value's loss
                    _ = optimizer.update(&s, value: finite ? f : .nan, gradient: g)
                }
                out[i] = score == .mean ? sum / Double(steps) : best
            }
        }
        return Statistics.mean(losses)
    }
}

/// What a validation run of a learned optimizer scores.
public enum ValidationScore: String, Codable, CaseIterable, Equatable, Sendable {
    /// The mean normalized meta-loss over the run's steps (the training meta-loss with uniform weighting).
    case mean
    /// The normalized meta-loss of the best value the run evaluated: what a caller that keeps the best point gets
    /// after the budget (a reconstruction window after its 50 evaluations).
    case best
}
