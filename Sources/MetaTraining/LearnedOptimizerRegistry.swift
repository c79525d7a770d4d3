import LearnedOptimizers
import Optimizers

/// A learned optimizer meta-training can train with every estimator: differentiable (backprop, hybrid) and with a
/// Codable optimizer state (the particles' inner states are part of the training-state file).
public protocol TrainableLearnedOptimizer: DifferentiableLearnedOptimizer where Stepper.State: Codable {}

extension AdafactorMLP: TrainableLearnedOptimizer {}
extension Optimus: TrainableLearnedOptimizer {}

/// Something done with the model stored in a checkpoint, whatever its kind: ``LearnedOptimizerRegistry/visit(_:with:)``
/// decodes the model and θ and calls ``visit(_:theta:)`` with the concrete model type, so generic code (a training
/// run, a validation loss) is written once instead of once per kind.
public protocol LearnedOptimizerVisitor {
    associatedtype Result
    func visit<M: DifferentiableLearnedOptimizer>(_ model: M, theta: [Float]) throws -> Result
    where M.Stepper.State: Codable
}

/// The learned-optimizer kinds meta-training knows, resolved from a checkpoint's kind in this one place.
public enum LearnedOptimizerRegistry {
    /// The model types, one per checkpoint kind (adding a model is adding it here).
    public static let models: [any TrainableLearnedOptimizer.Type] = [AdafactorMLP.self, Optimus.self]

    /// The checkpoint kinds, in registry order.
    public static var kinds: [String] { models.map { $0.kind } }

    /// Decodes the checkpoint's model (validated configuration) and θ and hands them to `visitor`. Throws
    /// ``MetaTrainingError/invalid(_:_:)`` naming the kind and the known ones for an unknown kind, and the
    /// checkpoint's own errors for a malformed one.
    public static func visit<V: LearnedOptimizerVisitor>(_ checkpoint: Checkpoint, with visitor: V) throws -> V.Result {
        guard let type = models.first(where: { $0.kind == checkpoint.kind }) else {
            throw MetaTrainingError.invalid("kind", "'\(checkpoint.kind)' is not a learned optimizer kind meta-training "
                + "knows; valid: \(kinds.joined(separator: ", "))")
        }
        func open<M: TrainableLearnedOptimizer>(_ type: M.Type) throws -> V.Result {
            let model = try checkpoint.model(M.self)
            return try visitor.visit(model, theta: try checkpoint.parameters(for: model))
        }
        return try open(type)
    }
}
