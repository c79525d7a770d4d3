import ArgumentParser
import Foundation
import OptimusKit

/// `optimus minimize`: minimizes one benchmark function with one optimizer.
struct Minimize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Minimize a benchmark function with one optimizer.",
        discussion: """
            The start is uniform in the function's domain from --seed, or read from --x0 FILE (a JSON array or \
            whitespace/comma-separated numbers). Classical optimizers: \(OptimizerCatalog.classicalNames.joined(separator: ", ")). \
            Learned optimizers: \(LearnedOptimizerCatalog.names.joined(separator: ", ")); optimus and adafactor-mlp \
            load the trained checkpoint shipped in checkpoints/ unless --checkpoint FILE or --preset is given (the \
            output names the file used).
            """)

    @Option(help: "Benchmark function (see `optimus functions`).")
    var function: String

    @Option(parsing: .unconditional, help: "Number of variables d (≥ 2).")
    var dimension: Int

    @Option(help: "Optimizer: \((OptimizerCatalog.classicalNames + LearnedOptimizerCatalog.names).joined(separator: ", ")).")
    var optimizer: String

    @Option(help: "Checkpoint of a learned optimizer (safetensors).")
    var checkpoint: String?

    @Option(help: "Preset of an untrained learned optimizer (when no --checkpoint): adafactor-mlp reference|paper, optimus paper|small.")
    var preset: String?

    @Option(parsing: .unconditional, help: "Maximum number of iterations.")
    var iterations: Int = 1000

    @Option(parsing: .unconditional, help: "Maximum number of objective evaluations (default: no limit).")
    var evaluations: Int?

    @Option(parsing: .unconditional, help: "Wall-clock limit in seconds (default: none).")
    var timeLimit: Double?

    @Option(parsing: .unconditional, help: "Stop when ‖∇f‖∞ ≤ this (0 disables).")
    var gradientTolerance: Double = 1e-8

    @Option(parsing: .unconditional, help: "Seed of the random start (and of anything else random).", transform: parseSeed)
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Learning rate of gd, momentum and adam (default 1e-3).")
    var learningRate: Double?

    @OptionGroup var search: LineSearchOption

    @Option(name: .customLong("x0"), help: "File with the starting point (JSON array or numbers).")
    var x0Path: String?

    @OptionGroup var memory: MemoryBudgetOption

    @Flag(help: "Apply the paper's stopping rule (N = 5, β = 1, ε = 0).")
    var stoppingRule = false

    @Flag(help: "Include the per-iteration trace in the JSON output.")
    var trace = false

    @Flag(help: "Include every iterate x_k in the trace (implies --trace).")
    var iterates = false

    @OptionGroup var format: JSONOutputOption

    func validate() throws {
        guard let f = BenchmarkFunction(name: function) else {
            throw ValidationError(ObjectiveError.unknownFunction(function).description)
        }
        guard f.isValid(dimension: dimension), dimension <= BenchmarkObjective.maximumDimension else {
            throw ValidationError(ObjectiveError.invalidDimension(function: f, dimension: dimension).description)
        }
        let known = OptimizerCatalog.classicalNames + LearnedOptimizerCatalog.names
        guard known.contains(optimizer.lowercased()) else {
            throw ValidationError(OptimizationError.unknownOptimizer(optimizer, valid: known).description)
        }
        guard iterations >= 0 else { throw ValidationError("iterations: \(iterations) must be ≥ 0") }
        if let e = evaluations, e < 1 { throw ValidationError("evaluations: \(e) must be ≥ 1") }
        if let t = timeLimit, !(t > 0 && t.isFinite) { throw ValidationError("time-limit: \(t) must be > 0 seconds") }
        guard gradientTolerance >= 0 && gradientTolerance.isFinite else {
            throw ValidationError("gradient-tolerance: \(gradientTolerance) must be a finite number ≥ 0")
        }
        if let lr = learningRate {
            guard lr > 0 && lr.isFinite else { throw ValidationError("learning-rate: \(lr) must be a finite number > 0") }
            guard OptimizerCatalog.takesLearningRate(optimizer) else {
                throw ValidationError("learning-rate: \(optimizer) takes no learning rate (it uses a line search)")
            }
        }
        try search.check()
        let learned = LearnedOptimizerCatalog.names.contains(optimizer.lowercased())
        if let p = preset {
            guard learned else { throw ValidationError("preset: only learned optimizers take a preset") }
            guard LearnedOptimizerCatalog.presets(for: optimizer.lowercased()).contains(p) else {
                throw ValidationError("preset: '\(p)' is not valid for \(optimizer); valid: "
                    + LearnedOptimizerCatalog.presets(for: optimizer.lowercased()).joined(separator: ", "))
            }
        }
        if checkpoint != nil && !learned {
            throw ValidationError("checkpoint: only learned optimizers (\(LearnedOptimizerCatalog.names.joined(separator: ", "))) take a checkpoint")
        }
    }

    struct Output: Encodable {
        var function: String
        var dimension: Int
        var optimizer: String
        var seed: UInt64
        var start: String
        var initialValue: Double
        var finalValue: Double
        var bestValue: Double
        var finalGradientNorm: Double
        var fStar: Double
        var iterations: Int
        var functionEvaluations: Int
        var gradientEvaluations: Int
        var termination: String
        var seconds: Double
        var learningRate: Double?
        var lineSearch: String?
        /// The learned optimizer's checkpoint: "checkpoints/optimus-functions.safetensors (optimus, …)" or
        /// "untrained (…)"; nil for classical optimizers.
        var checkpoint: String?
        /// Why some numbers are `null` (JSON has no NaN or infinity); absent when every number is finite.
        var nullReason: String?
        var x: [Double]
        var trace: [TraceEntry]?
    }

    func run() throws {
        let objective: BenchmarkObjective
        do { objective = try BenchmarkObjective(name: function, dimension: dimension) } catch {
            throw failure(error.description, code: ExitStatus.usage)
        }
        var x0: [Double]
        if let path = x0Path {
            x0 = try readPoint(path: path, field: "x0")
            guard x0.count == dimension else {
                throw failure("x0: '\(path)' has \(x0.count) values, expected \(dimension) (the dimension)",
                              code: ExitStatus.dataError)
            }
            guard x0.allSatisfy(\.isFinite) else {
                throw failure("x0: '\(path)' contains NaN or an infinite value", code: ExitStatus.dataError)
            }
        } else {
            var generator = Xoshiro256StarStar(seed: seed)
            x0 = objective.randomStart(using: &generator)
        }
        let (chosen, loaded) = try resolveOptimizer(named: optimizer, checkpoint: checkpoint, preset: preset, seed: seed,
                                                    learningRate: learningRate, lineSearch: search.method)
        // Refused before the run allocates anything (a dense d×d matrix for BFGS and Optimus).
        do { try memory.memoryBudget.check(chosen, dimension: dimension) } catch {
            throw failure(error.description, code: ExitStatus.usage)
        }
        let options = MinimizationOptions(
            maxIterations: iterations, maxEvaluations: evaluations, timeLimit: timeLimit,
            gradientTolerance: gradientTolerance, stoppingRule: stoppingRule ? .paper : nil, recordTrace: trace || iterates,
            recordIterates: iterates)
        let result: MinimizationResult
        do { result = try minimize(objective, from: x0, using: chosen, options: options) } catch {
            throw failure(error.description, code: ExitStatus.usage)
        }
        let takesRate = OptimizerCatalog.takesLearningRate(optimizer)
        let output = Output(
            function: objective.function.rawValue, dimension: dimension, optimizer: result.optimizer, seed: seed,
            start: x0Path.map { "file:\($0)" } ?? "uniform-domain",
            initialValue: result.initialValue, finalValue: result.finalValue, bestValue: result.value,
            finalGradientNorm: result.finalGradientNorm,
            fStar: objective.fStar, iterations: result.iterations,
            functionEvaluations: result.functionEvaluations, gradientEvaluations: result.gradientEvaluations,
            termination: result.termination.rawValue, seconds: result.seconds,
            learningRate: takesRate ? (learningRate ?? 1e-3) : nil,
            lineSearch: OptimizerCatalog.classicalNames.contains(optimizer.lowercased()) && !takesRate ? search.lineSearch : nil,
            checkpoint: loaded?.description, nullReason: result.nullReason(valueField: "bestValue"), x: result.x, trace: result.trace)
        if format.json {
            try printJSON(output)
        } else {
            print("\(objective.function.displayName), d = \(dimension), start seed \(seed)")
            if let loaded { print("Checkpoint           \(loaded.description)") }
            print(result.fullReport)
            print("f*                   \(fmt(objective.fStar))")
            print("Best f − f*          \(fmt(result.value - objective.fStar))")
        }
    }
}
