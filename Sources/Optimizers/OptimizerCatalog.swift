/// Builds optimizers by name, for the command line and the server.
public enum OptimizerCatalog {
    /// The classical optimizers, by command-line name.
    public static let classicalNames = ["gd", "momentum", "adam", "bfgs", "lbfgs"]

    /// The optimizer called `name` (see ``classicalNames``), with `learningRate` for the first-order methods
    /// (default 1e−3) and the given line search for the quasi-Newton ones.
    ///
    /// - Throws: ``OptimizationError/unknownOptimizer(_:valid:)`` for an unknown name,
    ///   ``OptimizationError/invalidOption(field:value:valid:)`` for a rate that is not finite and positive, or a rate
    ///   given to a method that has none.
    public static func classical(
        named name: String, learningRate: Double? = nil, lineSearch: LineSearchMethod = .strongWolfe
    ) throws(OptimizationError) -> any Optimizer {
        if let lr = learningRate {
            try require(lr > 0 && lr.isFinite, "learningRate", lr, "a finite number > 0")
        }
        switch name.lowercased() {
        case "gd": return GradientDescent(learningRate: learningRate ?? 1e-3)
        case "momentum": return Momentum(learningRate: learningRate ?? 1e-3)
        case "adam": return Adam(learningRate: learningRate ?? 1e-3)
        case "bfgs", "lbfgs":
            if let lr = learningRate {
                throw .invalidOption(field: "learningRate", value: "\(lr)",
                                     valid: "omitted for \(name) (it uses a line search)")
            }
            return name.lowercased() == "bfgs" ? BFGS(lineSearch: lineSearch) : LBFGS(lineSearch: lineSearch)
        default:
            throw .unknownOptimizer(name, valid: classicalNames)
        }
    }

    /// A factory from learning rate to optimizer for the first-order method called `name` (`gd`, `momentum`,
    /// `adam`), or nil for other names. For ``LearningRateSearch``.
    public static func firstOrderFactory(named name: String) -> (@Sendable (Double) -> AnyOptimizer)? {
        switch name.lowercased() {
        case "gd": { AnyOptimizer(GradientDescent(learningRate: $0)) }
        case "momentum": { AnyOptimizer(Momentum(learningRate: $0)) }
        case "adam": { AnyOptimizer(Adam(learningRate: $0)) }
        default: nil
        }
    }

    /// Whether the optimizer called `name` takes a learning rate.
    public static func takesLearningRate(_ name: String) -> Bool {
        ["gd", "momentum", "adam"].contains(name.lowercased())
    }
}
