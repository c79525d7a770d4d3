import Foundation
import LearnedOptimizers
import Optimizers
import OptimusSupport

/// A protocol error: a code, the field it concerns and a message saying what is valid.
struct FieldError: Error {
    var code: String
    var field: String
    var message: String
    init(_ field: String, _ message: String, code: String = "invalid_value") {
        self.code = code
        self.field = field
        self.message = message
    }
}

/// The `options` object of a start message, validated.
struct ParsedOptions {
    var minimization = MinimizationOptions()
    var learningRate: Double?
    var lineSearch: LineSearchMethod = .strongWolfe
    var seed: UInt64 = 0
}

/// Field names of `options` (camelCase, as in ``Optimizers/MinimizationOptions``).
let optionFields: Set<String> = [
    "maxIterations", "maxEvaluations", "timeLimit", "gradientTolerance", "valueTolerance", "stepTolerance",
    "stoppingRule", "learningRate", "lineSearch", "seed", "trace", "iterates",
]

func parseOptions(_ o: [String: JSONValue]) -> Result<ParsedOptions, FieldError> {
    if let unknown = UnknownField.first(in: o.keys.sorted(), valid: optionFields.sorted()) {
        return .failure(FieldError(unknown.field, "unknown option; valid: \(unknown.valid.joined(separator: ", "))",
                                   code: "unknown_field"))
    }
    var p = ParsedOptions()
    func nonNegativeInt(_ key: String, minimum: Int) -> Result<Int?, FieldError> {
        guard let v = o[key], !v.isNull else { return .success(nil) }
        guard let i = v.integer, i >= minimum else {
            return .failure(FieldError(key, "must be an integer ≥ \(minimum)"))
        }
        return .success(i)
    }
    func nonNegativeNumber(_ key: String, positive: Bool = false) -> Result<Double?, FieldError> {
        guard let v = o[key], !v.isNull else { return .success(nil) }
        guard let d = v.number, d.isFinite, positive ? d > 0 : d >= 0 else {
            return .failure(FieldError(key, positive ? "must be a finite number > 0" : "must be a finite number ≥ 0"))
        }
        return .success(d)
    }
    do {
        if let v = try nonNegativeInt("maxIterations", minimum: 0).get() { p.minimization.maxIterations = v }
        p.minimization.maxEvaluations = try nonNegativeInt("maxEvaluations", minimum: 1).get()
        p.minimization.timeLimit = try nonNegativeNumber("timeLimit", positive: true).get()
        if let v = try nonNegativeNumber("gradientTolerance").get() { p.minimization.gradientTolerance = v }
        if let v = try nonNegativeNumber("valueTolerance").get() { p.minimization.valueTolerance = v }
        if let v = try nonNegativeNumber("stepTolerance").get() { p.minimization.stepTolerance = v }
        p.learningRate = try nonNegativeNumber("learningRate", positive: true).get()
    } catch {
        return .failure(error)
    }
    if let v = o["stoppingRule"], !v.isNull {
        if let b = v.bool {
            p.minimization.stoppingRule = b ? .paper : nil
        } else if let rule = v.object {
            if let unknown = UnknownField.first(in: rule.keys.sorted(), valid: ["window", "beta", "epsilon"],
                                                prefix: "stoppingRule.") {
                return .failure(FieldError(unknown.field, unknown.message, code: "unknown_field"))
            }
            var r = StoppingRule.paper
            if let w = rule["window"] {
                guard let i = w.integer, i >= 1 else { return .failure(FieldError("stoppingRule.window", "must be an integer ≥ 1")) }
                r.window = i
            }
            if let b = rule["beta"] {
                guard let d = b.number, d > 0, d.isFinite else { return .failure(FieldError("stoppingRule.beta", "must be a finite number > 0")) }
                r.beta = d
            }
            if let e = rule["epsilon"] {
                guard let d = e.number, d.isFinite else { return .failure(FieldError("stoppingRule.epsilon", "must be a finite number")) }
                r.epsilon = d
            }
            p.minimization.stoppingRule = r
        } else {
            return .failure(FieldError("stoppingRule", "must be true, false or {window, beta, epsilon}"))
        }
    }
    if let v = o["lineSearch"], !v.isNull {
        switch v.string {
        case "strong-wolfe": p.lineSearch = .strongWolfe
        case "backtracking": p.lineSearch = .backtracking
        default: return .failure(FieldError("lineSearch", "must be \"strong-wolfe\" or \"backtracking\""))
        }
    }
    if let v = o["seed"], !v.isNull {
        guard let d = v.number, d >= 0, d.rounded() == d, d < 9.0e15 else {
            return .failure(FieldError("seed", "must be an integer between 0 and 9e15"))
        }
        p.seed = UInt64(d)
    }
    for key in ["trace", "iterates"] {
        if let v = o[key], !v.isNull, v.bool == nil { return .failure(FieldError(key, "must be true or false")) }
    }
    p.minimization.recordTrace = o["trace"]?.bool == true || o["iterates"]?.bool == true
    p.minimization.recordIterates = o["iterates"]?.bool == true
    return .success(p)
}

/// The optimizer named in a start message.
func makeOptimizer(name: String, options: ParsedOptions, checkpoint: JSONValue?, preset: JSONValue?) -> Result<AnyOptimizer, FieldError> {
    let lower = name.lowercased()
    if LearnedOptimizerCatalog.names.contains(lower) {
        if options.learningRate != nil {
            return .failure(FieldError("options.learningRate", "\(lower) takes no learning rate"))
        }
        var path: String?
        if let c = checkpoint, !c.isNull {
            guard let p = c.string else { return .failure(FieldError("checkpoint", "must be a file path string")) }
            path = p
        }
        var presetName: String?
        if path == nil, let p = preset, !p.isNull {  // a preset beside a checkpoint is not looked at
            guard let s = p.string else { return .failure(FieldError("preset", "must be a string")) }
            presetName = s
        }
        let stored: Checkpoint
        switch LearnedOptimizerCatalog.source(name: lower, checkpoint: path, preset: presetName) {
        case .file(let p):  // the given file, or the trained checkpoint shipped with the package
            do { stored = try Checkpoint.read(from: URL(fileURLWithPath: p)) } catch {
                return .failure(FieldError("checkpoint", error.description, code: "bad_checkpoint"))
            }
        case .untrained(let presetName):
            guard let c = LearnedOptimizerCatalog.untrained(name: lower, preset: presetName, seed: options.seed) else {
                return .failure(FieldError("preset", "'\(presetName)' is not valid for \(lower); valid: "
                    + LearnedOptimizerCatalog.presets(for: lower).joined(separator: ", ")))
            }
            stored = c
        }
        do { return .success(AnyOptimizer(try LearnedOptimizerCatalog.optimizer(from: stored))) } catch {
            return .failure(FieldError("checkpoint", error.description, code: "bad_checkpoint"))
        }
    }
    if let c = checkpoint, !c.isNull {
        return .failure(FieldError("checkpoint", "only learned optimizers take a checkpoint"))
    }
    do {
        return .success(AnyOptimizer(try OptimizerCatalog.classical(named: lower, learningRate: options.learningRate,
                                                                     lineSearch: options.lineSearch)))
    } catch {
        if case .unknownOptimizer = error {
            return .failure(FieldError("optimizer", "'\(name)' is unknown; valid: "
                + (OptimizerCatalog.classicalNames + LearnedOptimizerCatalog.names).joined(separator: ", ")))
        }
        return .failure(FieldError("options.learningRate", error.description))
    }
}
