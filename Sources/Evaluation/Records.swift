import Foundation
import OptimusNumerics
import OptimusSupport

/// One run of one solver from one start on one problem: a line of `records.jsonl` (and `generalization.jsonl`).
///
/// Traces are indexed by iteration k = 0 (x₀) … `iterations`: `values[k]` = f(x_k), `best[k]` = the best value
/// evaluated up to iteration k (including line-search trials), `evaluations[k]` = evaluations used up to it.
public struct RunRecord: Codable, Equatable, Sendable {
    public var problem: String
    public var function: String
    public var dimension: Int
    public var solver: String
    /// Start index (0-based) and the seeds of the start and of the problem's offset.
    public var start: Int
    public var startSeed: UInt64
    public var offsetSeed: UInt64
    /// The tuned learning rate (momentum, adam), else nil.
    public var learningRate: Double?
    public var fStar: Double
    public var initialValue: Double
    public var values: [Double]
    public var best: [Double]
    public var evaluations: [Int]
    /// Why the run ended (`iterationLimit` for a full budget).
    public var termination: String
    public var seconds: Double
    /// For learned optimizers: the iteration at which the paper's stopping rule (N = 5, β = 1, ε = 0) fires, or nil
    /// if it never fires within the budget. The rule only ends a run, so the stopped run is this trace's prefix.
    public var stoppingIteration: Int?

    /// The best value within the budget (last element of `best`).
    public var bestValue: Double { best.last ?? .nan }

    public init(problem: String, function: String, dimension: Int, solver: String, start: Int, startSeed: UInt64,
                offsetSeed: UInt64, learningRate: Double?, fStar: Double, initialValue: Double, values: [Double],
                best: [Double], evaluations: [Int], termination: String, seconds: Double, stoppingIteration: Int?) {
        self.problem = problem
        self.function = function
        self.dimension = dimension
        self.solver = solver
        self.start = start
        self.startSeed = startSeed
        self.offsetSeed = offsetSeed
        self.learningRate = learningRate
        self.fStar = fStar
        self.initialValue = initialValue
        self.values = values
        self.best = best
        self.evaluations = evaluations
        self.termination = termination
        self.seconds = seconds
        self.stoppingIteration = stoppingIteration
    }

    /// Non-finite values (an x₀ that cannot be evaluated, a diverged trace) are written as `null` and read as NaN.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        problem = try c.decode(String.self, forKey: .problem)
        function = try c.decode(String.self, forKey: .function)
        dimension = try c.decode(Int.self, forKey: .dimension)
        solver = try c.decode(String.self, forKey: .solver)
        start = try c.decode(Int.self, forKey: .start)
        startSeed = try c.decode(UInt64.self, forKey: .startSeed)
        offsetSeed = try c.decode(UInt64.self, forKey: .offsetSeed)
        learningRate = try c.decodeNumberIfPresent(forKey: .learningRate)
        fStar = try c.decodeNumber(forKey: .fStar)
        initialValue = try c.decodeNumber(forKey: .initialValue)
        values = try c.decodeNumbers(forKey: .values)
        best = try c.decodeNumbers(forKey: .best)
        evaluations = try c.decode([Int].self, forKey: .evaluations)
        termination = try c.decode(String.self, forKey: .termination)
        seconds = try c.decodeNumber(forKey: .seconds)
        stoppingIteration = try c.decodeIfPresent(Int.self, forKey: .stoppingIteration)
    }

    /// The best value when the run is stopped by the paper's rule (the full budget if it never fires).
    public var bestValueWithStoppingRule: Double {
        guard let k = stoppingIteration, k < best.count else { return bestValue }
        return best[k]
    }

    /// Key identifying the run, for resuming.
    public var key: String { "\(problem)|\(solver)|\(start)" }
}

/// The tuned learning rate of one first-order solver on one problem: a line of `tuning.jsonl`.
public struct TuningRecord: Codable, Equatable, Sendable {
    public var problem: String
    public var solver: String
    public var learningRate: Double
    /// Mean final value of each rate over the tuning starts (+∞ where a run diverged, written as `null`).
    public var meanFinalValues: [Double]
    public var atGridEdge: Bool
    public var allDiverged: Bool
    public var seconds: Double
    public var key: String { "\(problem)|\(solver)" }

    public init(problem: String, solver: String, learningRate: Double, meanFinalValues: [Double], atGridEdge: Bool,
                allDiverged: Bool, seconds: Double) {
        self.problem = problem
        self.solver = solver
        self.learningRate = learningRate
        self.meanFinalValues = meanFinalValues
        self.atGridEdge = atGridEdge
        self.allDiverged = allDiverged
        self.seconds = seconds
    }

    /// A `null` mean final value is a diverged rate: read back as +∞.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        problem = try c.decode(String.self, forKey: .problem)
        solver = try c.decode(String.self, forKey: .solver)
        learningRate = try c.decodeNumber(forKey: .learningRate)
        meanFinalValues = try c.decodeNumbers(forKey: .meanFinalValues, null: .infinity)
        atGridEdge = try c.decode(Bool.self, forKey: .atGridEdge)
        allDiverged = try c.decode(Bool.self, forKey: .allDiverged)
        seconds = try c.decodeNumber(forKey: .seconds)
    }
}

/// |cos| of each step with −∇f and with the Newton direction along one trajectory: a line of `step-directions.jsonl`.
/// Entries are nil where the step is zero or the Hessian is singular.
public struct StepDirectionRecord: Codable, Equatable, Sendable {
    public var solver: String
    public var start: Int
    public var startSeed: UInt64
    public var gradientCosine: [Double?]
    public var newtonCosine: [Double?]
    public var key: String { "\(solver)|\(start)" }
}

extension EvaluationError {
    /// A records file that cannot be read (``file(_:_:)``, exit 65) or written (``cannotWrite(_:_:)``, exit 73).
    init(_ error: FileError) {
        switch error {
        case .unreadable(let path, let reason): self = .file(path, reason)
        case .unwritable(let path, let reason): self = .cannotWrite(path, reason)
        }
    }
}

extension JSONLinesFile {
    /// ``JSONLinesFile/open(_:)`` of an evaluation's records file, failing with ``EvaluationError``.
    static func openRecords(_ url: URL) throws(EvaluationError) -> (JSONLinesFile, [Record]) {
        do { return try open(url) } catch { throw EvaluationError(error) }
    }

    /// ``JSONLinesFile/read(_:)`` of an evaluation's records file, failing with ``EvaluationError``.
    static func readRecords(_ url: URL) throws(EvaluationError) -> [Record] {
        do { return try read(url) } catch { throw EvaluationError(error) }
    }
}
