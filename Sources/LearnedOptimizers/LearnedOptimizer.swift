import NeuralNetworks
import Optimizers

/// A learned optimizer: an architecture whose meta-parameters θ (one flat `[Float]` with named tensors) turn into an
/// ordinary ``Optimizers/Optimizer``.
///
/// Everything downstream (the `minimize` driver, evaluation, the server, PES) treats the result like BFGS. The
/// optimizer's state is a value type, so copying it forks a run (antithetic PES pairs).
public protocol LearnedOptimizer: Sendable {
    /// The optimizer θ turns into.
    associatedtype Stepper: Optimizer
    /// Configuration (architecture hyperparameters), stored in checkpoints.
    associatedtype Configuration: Codable & Sendable & Equatable

    /// The model kind written to checkpoints (`"adafactor-mlp"`, `"optimus"`).
    static var kind: String { get }
    /// The architecture's hyperparameters.
    var configuration: Configuration { get }
    /// Names, shapes and offsets of θ.
    var layout: ParameterLayout { get }
    /// Builds the architecture for a configuration (valid by ``validate(_:)``).
    init(configuration: Configuration)
    /// Throws ``CheckpointError/unsupported(_:)`` naming the first field outside its documented range. A checkpoint's
    /// configuration is untrusted input: it is validated before any model is built from it.
    static func validate(_ configuration: Configuration) throws(CheckpointError)
    /// Initial θ drawn from `seed`.
    func initialParameters(seed: UInt64) -> [Float]
    /// The optimizer with meta-parameters θ for runs of `horizon` steps (recorded, not used as a feature).
    func optimizer(theta: [Float], horizon: Int?) -> Stepper
}

/// Throws ``CheckpointError/unsupported(_:)`` "configuration.FIELD is VALUE; valid: VALID" unless `ok`: the one check
/// behind every model's ``LearnedOptimizer/validate(_:)``.
func requireConfiguration(_ ok: Bool, _ field: String, _ value: some CustomStringConvertible, valid: String)
    throws(CheckpointError)
{
    guard ok else { throw .unsupported("configuration.\(field) is \(value); valid: \(valid)") }
}

extension LearnedOptimizer {
    /// Number of meta-parameters.
    public var parameterCount: Int { layout.count }

    /// Stops unless θ has one value per meta-parameter (the check before θ is used; the failure names the caller).
    func requireParameterCount(of theta: [some BinaryFloatingPoint], file: StaticString = #file, line: UInt = #line) {
        precondition(theta.count == layout.count, "θ has \(theta.count) values, the layout \(layout.count)",
                     file: file, line: line)
    }
}
