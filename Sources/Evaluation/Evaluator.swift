import Dispatch
import Foundation
import LearnedOptimizers
import Objectives
import Optimizers
import OptimusNumerics
import OptimusSupport
import Synchronization

/// Runs a suite: tunes the first-order baselines' learning rates, then every problem × solver × start, then the
/// generalization and step-direction studies, writing JSON Lines into an output folder. Interrupt it at any time:
/// run again with the same folder and it skips every finished run.
///
/// Output folder:
/// - `suite.json`: the suite (a resumed evaluation must use the same one);
/// - `manifest.json`: checkpoint paths and SHA-256 hashes, and one entry per session with its wall time;
/// - `tuning.jsonl`, `records.jsonl`, `generalization.jsonl`, `step-directions.jsonl`.
///
/// Runs spread over `threads` workers (BLAS at one thread each); each run is independent and seeded, so the records do
/// not depend on the thread count or on interruptions (only their order in the file does).
public struct Evaluator: Sendable {
    /// A learned optimizer under its solver name, with the file it came from.
    public struct LearnedSolver: Sendable {
        public var optimizer: AnyOptimizer
        public var checkpointPath: String
        public var sha256: String
        public var kind: String
        public var parameterCount: Int
        public init(optimizer: any Optimizer, checkpointPath: String, sha256: String, kind: String, parameterCount: Int) {
            self.optimizer = AnyOptimizer(optimizer)
            self.checkpointPath = checkpointPath
            self.sha256 = sha256
            self.kind = kind
            self.parameterCount = parameterCount
        }
    }

    /// What has been done, for a progress display.
    public struct Progress: Sendable {
        public var phase: String
        public var done: Int
        public var total: Int
        public var elapsedSeconds: Double
    }

    public var suite: EvaluationSuite
    public var output: URL
    public var learned: [String: LearnedSolver]
    public var threads: Int
    /// The command that started the evaluation, recorded in the manifest.
    public var command: String

    public init(suite: EvaluationSuite, output: URL, learned: [String: LearnedSolver], threads: Int, command: String) {
        self.suite = suite
        self.output = output
        self.learned = learned
        self.threads = max(1, threads)
        self.command = command
    }

    /// Every solver name the suite uses (main runs and studies).
    public static func solverNames(of suite: EvaluationSuite) -> [String] {
        var names = suite.solvers
        for s in (suite.generalization?.solvers ?? []) + (suite.stepDirections?.solvers ?? []) where !names.contains(s) {
            names.append(s)
        }
        return names
    }

    /// Runs (or resumes) the evaluation.
    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) throws {
        try suite.validate()
        for name in Self.solverNames(of: suite) where LearnedOptimizerCatalog.names.contains(name) && learned[name] == nil {
            throw EvaluationError.invalid("solvers", "no checkpoint for learned optimizer '\(name)'")
        }
        let fm = FileManager.default
        do { try fm.createDirectory(at: output, withIntermediateDirectories: true) } catch {
            throw EvaluationError.cannotWrite(output.path, "cannot create the output folder: \(error.localizedDescription)")
        }
        try checkSuiteFile()
        var manifest = try Manifest.load(output) ?? Manifest(suite: suite.name, checkpoints: [:], sessions: [])
        let checkpoints = learned.mapValues {
            Manifest.CheckpointInfo(path: $0.checkpointPath, sha256: $0.sha256, kind: $0.kind, parameters: $0.parameterCount)
        }
        for (name, info) in checkpoints {
            if let old = manifest.checkpoints[name], old.sha256 != info.sha256 {
                throw EvaluationError.invalid("checkpoint", "\(name): this folder's records were made with checkpoint "
                    + "sha256 \(old.sha256) (\(old.path)), not \(info.sha256) (\(info.path)); use a new --output")
            }
            manifest.checkpoints[name] = info
        }
        let started = Date()
        manifest.sessions.append(.init(command: command, started: ISO8601DateFormatter().string(from: started),
                                       seconds: 0, threads: threads, newRuns: 0))
        try manifest.save(output)
        BLAS.setThreadCount(1)

        let clock = ContinuousClock.now
        var newRuns = 0
        let tuned = try tune(progress: progress, clock: clock, newRuns: &newRuns)
        newRuns += try runs(file: "records.jsonl", problems: suite.problems, solvers: suite.solvers, starts: suite.starts,
                            phase: "runs", tuned: tuned, progress: progress, clock: clock)
        if let g = suite.generalization {
            newRuns += try runs(file: "generalization.jsonl", problems: g.dimensions.map { .init(g.function, $0) },
                                solvers: g.solvers, starts: g.starts, phase: "generalization", tuned: tuned,
                                progress: progress, clock: clock)
        }
        if let s = suite.stepDirections {
            newRuns += try stepDirections(s, tuned: tuned, progress: progress, clock: clock)
        }
        manifest.sessions[manifest.sessions.count - 1].seconds = (ContinuousClock.now - clock).inSeconds
        manifest.sessions[manifest.sessions.count - 1].newRuns = newRuns
        try manifest.save(output)
    }

    private func checkSuiteFile() throws {
        let url = output.appendingPathComponent("suite.json")
        let data = try makeRecordEncoder(pretty: true).encode(suite)
        if let existing = FileManager.default.contents(atPath: url.path) {
            let old = try EvaluationSuite.decode(existing)
            guard old == suite else {
                throw EvaluationError.invalid("output", "\(output.path) holds an evaluation of a different suite "
                    + "('\(old.name)'); resume with that suite or use a new --output")
            }
        } else {
            do { try data.write(to: url, options: .atomic) } catch {
                throw EvaluationError.cannotWrite(url.path, "cannot write: \(error.localizedDescription)")
            }
        }
    }

    // MARK: Tuning

    private func tune(progress: @escaping @Sendable (Progress) -> Void, clock: ContinuousClock.Instant,
                      newRuns: inout Int) throws -> [String: Double] {
        let (file, existing) = try JSONLinesFile<TuningRecord>.openRecords(output.appendingPathComponent("tuning.jsonl"))
        var rates: [String: Double] = [:]
        for r in existing { rates[r.key] = r.learningRate }
        var problems = suite.problems
        if let g = suite.generalization, g.solvers.contains(where: OptimizerCatalog.takesLearningRate) {
            problems += g.dimensions.map { .init(g.function, $0) }.filter { !problems.contains($0) }
        }
        let solvers = Self.solverNames(of: suite).filter(OptimizerCatalog.takesLearningRate)
        let jobs = problems.flatMap { p in solvers.map { (p, $0) } }
        var done = jobs.filter { rates["\($0.0.id)|\($0.1)"] != nil }.count
        let search = LearningRateSearch(rates: suite.learningRates.rates,
                                        options: .init(maxIterations: suite.iterations, gradientTolerance: 0))
        progress(Progress(phase: "tuning", done: done, total: jobs.count, elapsedSeconds: (ContinuousClock.now - clock).inSeconds))
        for (problem, solver) in jobs where rates["\(problem.id)|\(solver)"] == nil {
            let t0 = ContinuousClock.now
            let objective = problem.objective(seed: suite.seed, offsetFraction: suite.offsetFraction)
            let starts = (0..<suite.tuningStarts).map { problem.start(objective, seed: suite.seed, index: $0, tuning: true) }
            guard let factory = OptimizerCatalog.firstOrderFactory(named: solver) else { continue }
            let result = try search.tune(objective, starts: starts, makeOptimizer: factory)
            let record = TuningRecord(problem: problem.id, solver: solver, learningRate: result.bestRate,
                                      meanFinalValues: result.meanFinalValues, atGridEdge: result.atGridEdge,
                                      allDiverged: result.allDiverged, seconds: (ContinuousClock.now - t0).inSeconds)
            try file.append(record)
            rates[record.key] = record.learningRate
            done += 1
            newRuns += 1
            progress(Progress(phase: "tuning", done: done, total: jobs.count,
                              elapsedSeconds: (ContinuousClock.now - clock).inSeconds))
        }
        return rates
    }


    // MARK: Runs

    private func optimizer(_ solver: String, problem: EvaluationSuite.Problem, tuned: [String: Double])
        -> (AnyOptimizer, Double?)
    {
        if let l = learned[solver] { return (l.optimizer, nil) }
        if OptimizerCatalog.takesLearningRate(solver), let factory = OptimizerCatalog.firstOrderFactory(named: solver) {
            let rate = tuned["\(problem.id)|\(solver)"] ?? 1e-3
            return (factory(rate), rate)
        }
        // Valid by suite validation.
        return (AnyOptimizer(try! OptimizerCatalog.classical(named: solver)), nil)
    }

    private func runs(file name: String, problems: [EvaluationSuite.Problem], solvers: [String], starts: Int,
                      phase: String, tuned: [String: Double], progress: @escaping @Sendable (Progress) -> Void,
                      clock: ContinuousClock.Instant) throws -> Int {
        let (file, existing) = try JSONLinesFile<RunRecord>.openRecords(output.appendingPathComponent(name))
        let finished = Set(existing.map(\.key))
        struct Job: Sendable { var problem: EvaluationSuite.Problem; var solver: String; var start: Int }
        var jobs: [Job] = []
        for p in problems { for s in solvers { for i in 0..<starts { jobs.append(Job(problem: p, solver: s, start: i)) } } }
        let total = jobs.count
        jobs = jobs.filter { !finished.contains("\($0.problem.id)|\($0.solver)|\($0.start)") }
        // Largest problems first, so no long run is left for the end while the other workers idle.
        jobs.sort { $0.problem.dimension > $1.problem.dimension }
        let suite = self.suite
        try work(jobs, appendingTo: file, phase: phase, total: total, progress: progress, clock: clock) { job in
            let (opt, rate) = optimizer(job.solver, problem: job.problem, tuned: tuned)
            return Self.run(problem: job.problem, solver: job.solver, optimizer: opt, learningRate: rate,
                            start: job.start, suite: suite, applyStoppingRule: learned[job.solver] != nil)
        }
        return jobs.count
    }

    /// Runs `body` on every job on `threads` workers (largest-first order kept), appending each record as it is done
    /// and reporting progress; the first append failure stops the workers and is thrown.
    private func work<Job: Sendable, Record: Codable & Sendable>(
        _ jobs: [Job], appendingTo file: JSONLinesFile<Record>, phase: String, total: Int,
        progress: @escaping @Sendable (Progress) -> Void, clock: ContinuousClock.Instant,
        _ body: @escaping @Sendable (Job) -> Record
    ) throws {
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(total - jobs.count)
        let failure = Mutex<(any Error)?>(nil)
        progress(Progress(phase: phase, done: total - jobs.count, total: total,
                          elapsedSeconds: (ContinuousClock.now - clock).inSeconds))
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let j = next.add(1, ordering: .relaxed).oldValue
                guard j < jobs.count, failure.withLock({ $0 == nil }) else { return }
                let record = body(jobs[j])
                do { try file.append(record) } catch {
                    failure.withLock { $0 = $0 ?? error }
                    return
                }
                let n = done.add(1, ordering: .relaxed).newValue
                progress(Progress(phase: phase, done: n, total: total, elapsedSeconds: (ContinuousClock.now - clock).inSeconds))
            }
        }
        if let e = failure.withLock({ $0 }) {
            throw EvaluationError.cannotWrite(file.url.path, "cannot append a record: \(e)")
        }
    }

    /// One run: the suite's budget, no tolerances, the trace recorded.
    public static func run(problem: EvaluationSuite.Problem, solver: String, optimizer: AnyOptimizer,
                           learningRate: Double?, start: Int, suite: EvaluationSuite, applyStoppingRule: Bool)
        -> RunRecord
    {
        let objective = problem.objective(seed: suite.seed, offsetFraction: suite.offsetFraction)
        let x0 = problem.start(objective, seed: suite.seed, index: start)
        let options = MinimizationOptions(maxIterations: suite.iterations, gradientTolerance: 0, recordTrace: true)
        let t0 = ContinuousClock.now
        let result = try? minimize(objective, from: x0, using: optimizer, options: options)
        let seconds = (ContinuousClock.now - t0).inSeconds
        let trace = result?.trace ?? []
        let values = trace.map(\.value)
        var stop: Int?
        if applyStoppingRule {
            let rule = StoppingRule.paper
            for k in values.indices where k >= rule.window {
                if rule.fires(current: values[k], previous: values[(k - rule.window)..<k]) {
                    stop = k
                    break
                }
            }
        }
        return RunRecord(
            problem: problem.id, function: problem.function.rawValue, dimension: problem.dimension, solver: solver,
            start: start, startSeed: Seeds.start(suite: suite.seed, problem: problem, index: start),
            offsetSeed: Seeds.offset(suite: suite.seed, problem: problem), learningRate: learningRate,
            fStar: objective.fStar, initialValue: result?.initialValue ?? objective.value(at: x0), values: values,
            best: trace.map(\.bestValue), evaluations: trace.map(\.evaluations),
            termination: result?.termination.rawValue ?? "invalidStart", seconds: seconds, stoppingIteration: stop)
    }

    // MARK: Step directions

    private func stepDirections(_ study: EvaluationSuite.StepDirections, tuned: [String: Double],
                                progress: @escaping @Sendable (Progress) -> Void, clock: ContinuousClock.Instant)
        throws -> Int
    {
        let (file, existing) = try JSONLinesFile<StepDirectionRecord>.openRecords(
            output.appendingPathComponent("step-directions.jsonl"))
        let finished = Set(existing.map(\.key))
        let problem = EvaluationSuite.Problem(study.function, study.dimension)
        var jobs: [(String, Int)] = []
        for s in study.solvers { for i in 0..<study.starts where !finished.contains("\(s)|\(i)") { jobs.append((s, i)) } }
        let total = study.solvers.count * study.starts
        let suite = self.suite
        try work(jobs, appendingTo: file, phase: "step directions", total: total, progress: progress, clock: clock) { job in
            let (solver, start) = job
            let (opt, _) = optimizer(solver, problem: problem, tuned: tuned)
            return Self.stepDirections(problem: problem, solver: solver, optimizer: opt, start: start,
                                       iterations: study.iterations, suite: suite)
        }
        return jobs.count
    }

    /// |cos(s_k, −∇f(x_k))| and |cos(s_k, −H(x_k)⁻¹∇f(x_k))| for the steps s_k = x_{k+1} − x_k of one trajectory.
    public static func stepDirections(problem: EvaluationSuite.Problem, solver: String, optimizer: AnyOptimizer,
                                      start: Int, iterations: Int, suite: EvaluationSuite) -> StepDirectionRecord
    {
        let objective = problem.objective(seed: suite.seed, offsetFraction: suite.offsetFraction)
        let x0 = problem.start(objective, seed: suite.seed, index: start)
        let options = MinimizationOptions(maxIterations: iterations, gradientTolerance: 0, recordTrace: true,
                                          recordIterates: true)
        let trace = (try? minimize(objective, from: x0, using: optimizer, options: options))?.trace ?? []
        var gradientCosine: [Double?] = [], newtonCosine: [Double?] = []
        for k in 0..<max(0, trace.count - 1) {
            guard let x = trace[k].x, let next = trace[k + 1].x else { break }
            let step = zip(next, x).map { $0 - $1 }
            let g = objective.gradient(at: x)
            let descent = g.map { -$0 }
            gradientCosine.append(absoluteCosine(step, descent))
            let newton = objective.hessian(at: x).solve(descent)
            newtonCosine.append(newton.flatMap { absoluteCosine(step, $0) })
        }
        return StepDirectionRecord(solver: solver, start: start,
                                   startSeed: Seeds.start(suite: suite.seed, problem: problem, index: start),
                                   gradientCosine: gradientCosine, newtonCosine: newtonCosine)
    }

    /// |aᵀb|/(‖a‖‖b‖), or nil when either vector is zero or not finite.
    public static func absoluteCosine(_ a: [Double], _ b: [Double]) -> Double? {
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            dot += a[i] * b[i]
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        let denominator = (na * nb).squareRoot()
        guard denominator > 0, denominator.isFinite, dot.isFinite else { return nil }
        return min(1, abs(dot) / denominator)
    }
}

/// `manifest.json`: which checkpoints an evaluation used and how long each session took.
public struct Manifest: Codable, Equatable, Sendable {
    public struct CheckpointInfo: Codable, Equatable, Sendable {
        public var path: String
        public var sha256: String
        public var kind: String
        public var parameters: Int
    }
    public struct Session: Codable, Equatable, Sendable {
        public var command: String
        public var started: String
        public var seconds: Double
        public var threads: Int
        public var newRuns: Int
    }
    public var suite: String
    public var checkpoints: [String: CheckpointInfo]
    public var sessions: [Session]

    /// Wall time of all sessions together.
    public var totalSeconds: Double { sessions.reduce(0) { $0 + $1.seconds } }

    public static func load(_ folder: URL) throws(EvaluationError) -> Manifest? {
        let url = folder.appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do { return try makeRecordDecoder().decode(Manifest.self, from: data) } catch {
            throw .file(url.path, "not a valid manifest: \(error)")
        }
    }

    public func save(_ folder: URL) throws(EvaluationError) {
        let url = folder.appendingPathComponent("manifest.json")
        do { try makeRecordEncoder(pretty: true).encode(self).write(to: url, options: .atomic) } catch {
            throw .cannotWrite(url.path, "cannot write: \(error.localizedDescription)")
        }
    }
}
