import Foundation
import LearnedOptimizers
import Objectives
import Optimizers
import OptimusNumerics
import OptimusSupport

/// A benchmark suite: problems, solvers, starts, budget and seeds: everything `optimus evaluate` runs, as data.
///
/// Suites are JSON files (fields missing from a file take the defaults below, unknown fields are rejected); the
/// built-in suites ``paper`` and ``quick`` are the same type. `optimus evaluate --print-suite paper` writes one as a
/// template. Every random draw is derived from ``seed`` (see ``Seeds``), so a suite file fully determines its runs.
public struct EvaluationSuite: Codable, Equatable, Sendable {
    /// One test problem: a benchmark function at one dimension (with the suite's random offset).
    public struct Problem: Codable, Hashable, Sendable {
        public var function: BenchmarkFunction
        public var dimension: Int
        public init(_ function: BenchmarkFunction, _ dimension: Int) {
            self.function = function
            self.dimension = dimension
        }
        /// "rosenbrock-250".
        public var id: String { "\(function.rawValue)-\(dimension)" }
    }

    /// The learning-rate grid of the first-order baselines (paper: 100 rates log-spaced in [1e−6, 1]).
    public struct LearningRateGrid: Codable, Equatable, Sendable {
        public var count: Int = 100
        public var minimum: Double = 1e-6
        public var maximum: Double = 1
        public init() {}
        public var rates: [Double] { Statistics.logspace(log10(minimum), log10(maximum), count: count) }
    }

    /// Fig. 5 left/mid: final value against dimension on one function, for the learned optimizers.
    public struct Generalization: Codable, Equatable, Sendable {
        public var function: BenchmarkFunction = .rosenbrock
        public var dimensions: [Int] = [10, 20, 50, 100, 200, 500, 1000]
        public var starts: Int = 8
        public var solvers: [String] = ["optimus", "adafactor-mlp", "lbfgs"]
        public init() {}
    }

    /// Fig. 5 right: |cos| of each step with −∇f and with the Newton direction −H⁻¹∇f along trajectories.
    public struct StepDirections: Codable, Equatable, Sendable {
        public var function: BenchmarkFunction = .rosenbrock
        public var dimension: Int = 2
        public var starts: Int = 64
        public var iterations: Int = 50
        public var solvers: [String] = ["optimus", "adafactor-mlp", "bfgs"]
        public init() {}
    }

    public var name: String = "custom"
    public var problems: [Problem] = []
    /// Solver names: `gd`, `momentum`, `adam` (tuned per problem), `bfgs`, `lbfgs`, and learned optimizers by name.
    public var solvers: [String] = ["momentum", "adam", "bfgs", "lbfgs", "adafactor-mlp", "optimus"]
    /// Evaluation starts per problem.
    public var starts: Int = 8
    /// Starts per problem for learning-rate tuning (separate from the evaluation starts; paper: 64).
    public var tuningStarts: Int = 64
    public var learningRates = LearningRateGrid()
    /// Iteration budget of every run (paper: 100). Learned optimizers also get the paper's stopping rule, applied to
    /// the recorded trace.
    public var iterations: Int = 100
    /// Base seed of offsets and starts.
    public var seed: UInt64 = 2023
    /// Offsets are uniform in ±`offsetFraction`·(domain width) per coordinate (the training distribution's rule).
    public var offsetFraction: Double = 0.1
    public var generalization: Generalization? = nil
    public var stepDirections: StepDirections? = nil

    public init() {}

    /// The paper's Section 5.1: 15 functions × d ∈ {250, 500, 1000}, 8 starts, learning rates tuned on 64 other
    /// starts, 100 iterations; Rosenbrock generalization 10…1000; step directions on 2-D Rosenbrock (64 starts).
    public static var paper: EvaluationSuite {
        var s = EvaluationSuite()
        s.name = "paper"
        s.problems = BenchmarkFunction.paperSuite.flatMap { f in [250, 500, 1000].map { Problem(f, $0) } }
        s.generalization = Generalization()
        s.stepDirections = StepDirections()
        return s
    }

    /// A few small problems, for an end-to-end check in minutes (CI runs it in a debug build).
    public static var quick: EvaluationSuite {
        var s = EvaluationSuite()
        s.name = "quick"
        s.problems = [Problem(.sphere, 10), Problem(.rosenbrock, 10), Problem(.rastrigin, 10), Problem(.zakharov, 20),
                      Problem(.levy, 20), Problem(.dixonPrice, 30)]
        s.starts = 4
        s.tuningStarts = 8
        s.learningRates.count = 25
        s.iterations = 100
        var g = Generalization()
        g.dimensions = [5, 10, 20]
        g.starts = 2
        s.generalization = g
        var d = StepDirections()
        d.starts = 8
        d.iterations = 15
        s.stepDirections = d
        return s
    }

    /// `make demo`'s suite: six problems of the paper's 15 functions at d = 10 and 100 (not chosen for any solver),
    /// 8 starts, the paper's 100-rate grid on 8 separate tuning starts, 100 iterations. A few seconds on 2 cores.
    public static var demo: EvaluationSuite {
        var s = EvaluationSuite()
        s.name = "demo"
        s.problems = [Problem(.rosenbrock, 10), Problem(.rastrigin, 10), Problem(.zakharov, 10),
                      Problem(.dixonPrice, 100), Problem(.sumSquares, 100), Problem(.styblinskiTang, 100)]
        s.starts = 8
        s.tuningStarts = 8
        return s
    }

    public static let builtInNames = ["paper", "quick", "demo"]

    /// A built-in suite by name.
    public static func builtIn(_ name: String) -> EvaluationSuite? {
        switch name {
        case "paper": paper
        case "quick": quick
        case "demo": demo
        default: nil
        }
    }

    /// Throws an error naming the first invalid field.
    public func validate() throws(EvaluationError) {
        guard !problems.isEmpty else { throw .invalid("problems", "must list at least one problem") }
        for (i, p) in problems.enumerated() {
            guard p.function.isValid(dimension: p.dimension), p.dimension <= 10_000 else {
                throw .invalid("problems[\(i)].dimension", "\(p.dimension) is not valid for \(p.function.rawValue): "
                    + "\(p.function.validDimensions), at most 10000")
            }
        }
        guard Set(problems).count == problems.count else { throw .invalid("problems", "lists a problem twice") }
        guard !solvers.isEmpty, Set(solvers).count == solvers.count else {
            throw .invalid("solvers", "must list at least one solver, each once")
        }
        for s in solvers { try Self.validateSolver(s, field: "solvers") }
        guard starts >= 1 else { throw .invalid("starts", "must be ≥ 1") }
        guard tuningStarts >= 1 else { throw .invalid("tuningStarts", "must be ≥ 1") }
        guard learningRates.count >= 1, learningRates.minimum > 0, learningRates.maximum >= learningRates.minimum,
              learningRates.maximum.isFinite
        else {
            throw .invalid("learningRates", "need count ≥ 1 and 0 < minimum ≤ maximum < ∞")
        }
        guard iterations >= 1, iterations <= 100_000 else { throw .invalid("iterations", "must be in 1…100000") }
        guard offsetFraction >= 0, offsetFraction <= 1 else { throw .invalid("offsetFraction", "must be in [0, 1]") }
        if let g = generalization {
            guard !g.dimensions.isEmpty, g.dimensions.allSatisfy({ g.function.isValid(dimension: $0) && $0 <= 10_000 })
            else {
                throw .invalid("generalization.dimensions", "must be non-empty, each \(g.function.validDimensions), ≤ 10000")
            }
            guard g.starts >= 1 else { throw .invalid("generalization.starts", "must be ≥ 1") }
            for s in g.solvers { try Self.validateSolver(s, field: "generalization.solvers") }
        }
        if let d = stepDirections {
            guard d.function.isValid(dimension: d.dimension), d.dimension <= 200 else {
                throw .invalid("stepDirections.dimension", "must be \(d.function.validDimensions) and ≤ 200 (dense Hessians)")
            }
            guard d.starts >= 1, d.iterations >= 1 else {
                throw .invalid("stepDirections", "starts ≥ 1 and iterations ≥ 1")
            }
            for s in d.solvers { try Self.validateSolver(s, field: "stepDirections.solvers") }
        }
    }

    static let solverNames = OptimizerCatalog.classicalNames + LearnedOptimizerCatalog.names

    static func validateSolver(_ name: String, field: String) throws(EvaluationError) {
        guard solverNames.contains(name) else {
            throw .invalid(field, "'\(name)' is not a solver; valid: \(solverNames.joined(separator: ", "))")
        }
    }

    /// Decodes a suite file: missing fields take their defaults, unknown fields are rejected, function names may be
    /// spelled as `optimus functions` accepts them.
    public static func decode(_ data: Data) throws(EvaluationError) -> EvaluationSuite {
        let decoder = JSONDecoder()
        do {
            return try decoder.decode(EvaluationSuite.self, from: data)
        } catch let e as EvaluationError {
            throw e
        } catch let DecodingError.dataCorrupted(context) {
            throw .invalid(path(context.codingPath), context.debugDescription)
        } catch let DecodingError.typeMismatch(_, context) {
            throw .invalid(path(context.codingPath), context.debugDescription)
        } catch let DecodingError.valueNotFound(_, context) {
            throw .invalid(path(context.codingPath), context.debugDescription)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalid(path(context.codingPath + [key]), "missing")
        } catch {
            throw .invalid("suite", "\(error)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "suite" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }
}

// MARK: - Decoding with defaults and strict keys

extension KeyedDecodingContainer where Key == AnyCodingKey {
    /// Throws ``EvaluationError/invalid(_:_:)`` naming the first field not in `valid` (``UnknownField``).
    func rejectUnknown(_ valid: [String]) throws {
        if let unknown = unknownField(valid: valid) { throw EvaluationError.invalid(unknown.field, unknown.message) }
    }

    /// The benchmark function named by field `key` (spelled as `optimus functions` accepts it); `value` when the field
    /// is absent, or a missing-field error without one. An unknown name is an error naming the field.
    func function(_ key: String, default value: BenchmarkFunction? = nil) throws -> BenchmarkFunction {
        let name = try value.map { try self.value(key, default: $0.rawValue) }
            ?? decode(String.self, forKey: AnyCodingKey(stringValue: key))
        guard let f = BenchmarkFunction(name: name) else {
            throw EvaluationError.invalid((codingPath.map(\.stringValue) + [key]).joined(separator: "."),
                                          ObjectiveError.unknownFunction(name).description)
        }
        return f
    }
}

extension EvaluationSuite {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        let d = EvaluationSuite()
        try c.rejectUnknown(["name", "problems", "solvers", "starts", "tuningStarts", "learningRates", "iterations",
                             "seed", "offsetFraction", "generalization", "stepDirections"])
        name = try c.value("name", default: d.name)
        problems = try c.value("problems", default: d.problems)
        solvers = try c.value("solvers", default: d.solvers)
        starts = try c.value("starts", default: d.starts)
        tuningStarts = try c.value("tuningStarts", default: d.tuningStarts)
        learningRates = try c.value("learningRates", default: d.learningRates)
        iterations = try c.value("iterations", default: d.iterations)
        seed = try c.value("seed", default: d.seed)
        offsetFraction = try c.value("offsetFraction", default: d.offsetFraction)
        generalization = try c.value("generalization", default: d.generalization)
        stepDirections = try c.value("stepDirections", default: d.stepDirections)
    }
}

extension EvaluationSuite.Problem {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknown(["function", "dimension"])
        function = try c.function("function")
        dimension = try c.decode(Int.self, forKey: AnyCodingKey(stringValue: "dimension"))
    }
}

extension EvaluationSuite.LearningRateGrid {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknown(["count", "minimum", "maximum"])
        let d = Self()
        count = try c.value("count", default: d.count)
        minimum = try c.value("minimum", default: d.minimum)
        maximum = try c.value("maximum", default: d.maximum)
    }
}

extension EvaluationSuite.Generalization {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknown(["function", "dimensions", "starts", "solvers"])
        let d = Self()
        function = try c.function("function", default: d.function)
        dimensions = try c.value("dimensions", default: d.dimensions)
        starts = try c.value("starts", default: d.starts)
        solvers = try c.value("solvers", default: d.solvers)
    }
}

extension EvaluationSuite.StepDirections {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        try c.rejectUnknown(["function", "dimension", "starts", "iterations", "solvers"])
        let d = Self()
        function = try c.function("function", default: d.function)
        dimension = try c.value("dimension", default: d.dimension)
        starts = try c.value("starts", default: d.starts)
        iterations = try c.value("iterations", default: d.iterations)
        solvers = try c.value("solvers", default: d.solvers)
    }
}

/// Invalid suites, records or report inputs. The message names the field or file.
public enum EvaluationError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A field of the suite or the command is not valid.
    case invalid(String, String)
    /// An input file (suite, records, manifest) cannot be read or is not valid.
    case file(String, String)
    /// An output file or folder cannot be created or written (the CLI exits 73 for it, not 65).
    case cannotWrite(String, String)
    public var description: String {
        switch self {
        case .invalid(let field, let message): "\(field): \(message)"
        case .file(let path, let message), .cannotWrite(let path, let message): "\(path): \(message)"
        }
    }
}

/// Seeds of offsets and starts, derived from the suite seed and the problem so that adding a problem or a solver to a
/// suite does not change any other run's start.
public enum Seeds {
    /// SplitMix64-style mixing of the parts into one seed.
    public static func derive(_ parts: UInt64...) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for p in parts {
            h = (h ^ p) &* 0xBF58_476D_1CE4_E5B9
            h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        return h
    }

    /// A stable 64-bit code of a string (FNV-1a), for deriving seeds from names.
    public static func code(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    static let offsetStream: UInt64 = 1, evaluationStream: UInt64 = 2, tuningStream: UInt64 = 3

    /// The offset seed of a problem.
    public static func offset(suite seed: UInt64, problem: EvaluationSuite.Problem) -> UInt64 {
        derive(seed, offsetStream, code(problem.function.rawValue), UInt64(problem.dimension))
    }

    /// The seed of evaluation start `index` (or tuning start, with `tuning`).
    public static func start(suite seed: UInt64, problem: EvaluationSuite.Problem, index: Int, tuning: Bool = false)
        -> UInt64
    {
        derive(seed, tuning ? tuningStream : evaluationStream, code(problem.function.rawValue),
               UInt64(problem.dimension), UInt64(index))
    }
}

extension EvaluationSuite.Problem {
    /// The shifted objective of this problem in a suite with `seed` and `offsetFraction`.
    public func objective(seed: UInt64, offsetFraction: Double) -> BenchmarkObjective {
        let r = function.domain(dimension: dimension)
        var g = Xoshiro256StarStar(seed: Seeds.offset(suite: seed, problem: self))
        let offset = (0..<dimension).map { _ in g.uniform(-offsetFraction, offsetFraction) * (r.upperBound - r.lowerBound) }
        guard let objective = try? BenchmarkObjective(function, dimension: dimension, offset: offset) else {
            preconditionFailure("Problem \(id): invalid after validation")
        }
        return objective
    }

    /// Start `index` (uniform in the shifted domain).
    public func start(_ objective: BenchmarkObjective, seed: UInt64, index: Int, tuning: Bool = false) -> [Double] {
        var g = Xoshiro256StarStar(seed: Seeds.start(suite: seed, problem: self, index: index, tuning: tuning))
        return objective.randomStart(using: &g)
    }
}
