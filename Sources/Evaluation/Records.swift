import Foundation
import OptimusNumerics
import Synchronization

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

/// Append-only JSON Lines file that survives interruption: on open, a torn last line (the process was killed while
/// writing it) is cut off, so a resumed evaluation redoes only that run. Appends are serialized and flushed per line.
public final class JSONLinesFile<Record: Codable & Sendable>: Sendable {
    public let url: URL
    private let handle: Mutex<FileHandle>

    /// Opens (creating if needed) and returns the file with the records already in it.
    public static func open(_ url: URL) throws(EvaluationError) -> (JSONLinesFile, [Record]) {
        let fm = FileManager.default
        var records: [Record] = []
        if fm.fileExists(atPath: url.path) {
            guard let data = fm.contents(atPath: url.path) else { throw .file(url.path, "cannot read") }
            let decoder = makeRecordDecoder()
            var validLength = 0
            var offset = 0
            let bytes = [UInt8](data)
            var lineNumber = 0
            while offset < bytes.count {
                guard let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else { break }  // torn last line
                lineNumber += 1
                let line = Data(bytes[offset..<end])
                if !line.isEmpty {
                    do { records.append(try decoder.decode(Record.self, from: line)) } catch {
                        throw .file(url.path, "line \(lineNumber) is not a valid record: \(error)")
                    }
                }
                offset = end + 1
                validLength = offset
            }
            if validLength < bytes.count {
                do {
                    let h = try FileHandle(forWritingTo: url)
                    try h.truncate(atOffset: UInt64(validLength))
                    try h.close()
                } catch { throw .cannotWrite(url.path, "cannot cut the torn last line: \(error)") }
            }
        } else if !fm.createFile(atPath: url.path, contents: nil) {
            throw .cannotWrite(url.path, "cannot create")
        }
        do {
            let h = try FileHandle(forWritingTo: url)
            try h.seekToEnd()
            return (JSONLinesFile(url: url, handle: h), records)
        } catch { throw .cannotWrite(url.path, "cannot open for writing: \(error)") }
    }

    private init(url: URL, handle: FileHandle) {
        self.url = url
        self.handle = Mutex(handle)
    }

    /// Appends one record as one line.
    public func append(_ record: Record) throws {
        var data = try makeRecordEncoder().encode(record)
        data.append(UInt8(ascii: "\n"))
        try handle.withLock { h in
            try h.write(contentsOf: data)
            try h.synchronize()
        }
    }

    /// Reads all records of a file (no repair); a missing file gives []. When only `<file>.gz` exists (evaluations
    /// are committed compressed), it is read through `gzip -dc`.
    public static func read(_ url: URL) throws(EvaluationError) -> [Record] {
        let fm = FileManager.default
        var contents = fm.contents(atPath: url.path)
        let compressed = url.appendingPathExtension("gz")
        if contents == nil, fm.fileExists(atPath: compressed.path) {
            contents = try gunzip(compressed)
        }
        guard let data = contents else { return [] }
        let decoder = makeRecordDecoder()
        var out: [Record] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            do { out.append(try decoder.decode(Record.self, from: Data(line))) } catch {
                // A torn last line is what an interrupted evaluation leaves; anything else is corrupt.
                if i == data.split(separator: UInt8(ascii: "\n")).count - 1, data.last != UInt8(ascii: "\n") { break }
                throw .file(url.path, "line \(i + 1) is not a valid record: \(error)")
            }
        }
        return out
    }
}

/// The decompressed contents of a gzip file (`gzip -dc`, present on every Debian system).
func gunzip(_ url: URL) throws(EvaluationError) -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-dc", url.path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { throw .file(url.path, "cannot run gzip: \(error.localizedDescription)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw .file(url.path, "gzip -dc failed (status \(p.terminationStatus))") }
    return data
}

/// Records write non-finite numbers (diverged runs are data) as `null` (``OptimusNumerics/NonFiniteAsNullJSONEncoder``);
/// the record types read `null` back as NaN, or +∞ where their documentation says so.
public func makeRecordEncoder(pretty: Bool = false) -> JSONEncoder {
    let e = NonFiniteAsNullJSONEncoder()
    e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return e
}

/// Reads records: numbers, `null` for non-finite ones, and the strings "NaN", "Infinity", "-Infinity" with which
/// records were written before (the committed `results/paper/tuning.jsonl.gz` has them).
public func makeRecordDecoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity",
                                                              nan: "NaN")
    return d
}
