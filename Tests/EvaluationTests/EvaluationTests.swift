import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Optimizers
import OptimusNumerics
import OptimusSupport
import Testing
@testable import Evaluation
@testable import Objectives

// MARK: - Performance profiles on hand-built matrices

@Suite struct PerformanceProfileTests {
    @Test func ratiosOfTheNormalizedGap() {
        // f* = 0, f^w = 4 (worst final): m = 1/4, 1/2, 1 → r = 1, 2, 4.
        let p = PerformanceProfile(values: [[1, 2, 4]], fStar: [0], solvers: ["a", "b", "c"])
        #expect(p.measures[0] == [0.25, 0.5, 1])
        #expect(p.ratios[0] == [1, 2, 4])
        #expect(p.fraction(solver: 0, within: 1) == 1)
        #expect(p.fraction(solver: 1, within: 1.999) == 0)
        #expect(p.fraction(solver: 1, within: 2) == 1)
        #expect(p.fraction(solver: 2, within: 3.9) == 0)
    }

    @Test func solversHittingFStarExactlyTie() {
        // Two solvers at f* exactly: 0/0 without the floor; with it both have r = 1, the third 1e12.
        let p = PerformanceProfile(values: [[0, 0, 1]], fStar: [0], solvers: ["a", "b", "c"])
        #expect(p.ratios[0][0] == 1 && p.ratios[0][1] == 1)
        #expect(abs(p.ratios[0][2] - 1e12) < 1)
        #expect(p.fraction(solver: 0, within: 1) == 1 && p.fraction(solver: 1, within: 1) == 1)
    }

    @Test func allFailRowCountsForNobody() {
        let p = PerformanceProfile(values: [[.nan, .infinity, .nan], [1, 2, 3]], fStar: [0, 0], solvers: ["a", "b", "c"])
        #expect(p.ratios[0].allSatisfy { $0 == .infinity })
        // Solver a is best on the second problem only: ρ(1) = 1/2 and never more.
        #expect(p.fraction(solver: 0, within: 1) == 0.5)
        #expect(p.fraction(solver: 0, within: 1e300) == 0.5)
        #expect(p.fraction(solver: 2, within: 1e300) == 0.5)
    }

    @Test func oneDivergedSolverIsAFailureOthersStillRank() {
        let p = PerformanceProfile(values: [[2, .nan, 4]], fStar: [0], solvers: ["a", "b", "c"])
        #expect(p.ratios[0] == [1, .infinity, 2])
    }

    @Test func valuesBelowFStarLowerTheReference() {
        // A solver left the box and went below the on-box f* = 0: f* := −1, f^w = 1 → m = floor, 1/2, 1.
        let p = PerformanceProfile(values: [[-1, 0, 1]], fStar: [0], solvers: ["a", "b", "c"])
        #expect(p.measures[0][0] == 1e-12)
        #expect(p.measures[0][1] == 0.5 && p.measures[0][2] == 1)
        #expect(p.ratios[0].allSatisfy { $0 >= 1 })
    }

    @Test func everybodyEqualTiesAndWorstEqualToFStar() {
        let p = PerformanceProfile(values: [[3, 3, 3], [5, .nan, 5]], fStar: [0, 0], solvers: ["a", "b", "c"])
        #expect(p.ratios[0] == [1, 1, 1])
        #expect(p.ratios[1] == [1, .infinity, 1])
        let atOptimum = PerformanceProfile(values: [[0, 0]], fStar: [0], solvers: ["a", "b"])
        #expect(atOptimum.ratios[0] == [1, 1])
    }

    @Test func initialValueAsWorstReference() {
        let options = PerformanceProfile.Options(worst: .initial)
        let p = PerformanceProfile(values: [[1, 2], [1, 20]], fStar: [0, 0], initial: [10, 10], solvers: ["a", "b"],
                                   options: options)
        #expect(p.measures[0] == [0.1, 0.2])
        #expect(p.measures[1] == [0.1, 2])  // worse than the start: m > 1
        #expect(p.ratios[1] == [1, 20])
    }

    @Test func curveIsMonotoneAndDominanceIsDetected() {
        var g = Xoshiro256StarStar(seed: 5)
        let values = (0..<40).map { _ in (0..<3).map { _ in pow(10, g.uniform(-8, 2)) } }
        // Solver 0 is solver 1 divided by 10: never worse, so it dominates.
        let rows = values.map { [$0[1] / 10, $0[1], $0[2]] }
        let p = PerformanceProfile(values: rows, fStar: [Double](repeating: 0, count: 40), solvers: ["a", "b", "c"])
        for s in 0..<3 {
            let c = p.curve(solver: s, maxTau: 1e20)
            for i in 1..<c.count { #expect(c[i].rho >= c[i - 1].rho && c[i].tau >= c[i - 1].tau) }
            #expect(c.last!.rho == 1)
        }
        #expect(p.dominance(0, over: 1).everywhere)
        #expect(!p.dominance(1, over: 0).everywhere)
    }
}

// MARK: - Iteration ratios

@Suite struct IterationRatioTests {
    @Test func ratioOfIterationsToTheBaselineTarget() {
        let r = IterationRatio(problem: "p", baseline: [10, 8, 6, 5, 5], candidate: [10, 4, 3, 2, 1])
        #expect(r.target == 5 && r.baselineIterations == 3 && r.candidateIterations == 1 && r.ratio == 3)
        let slower = IterationRatio(problem: "p", baseline: [10, 5, 5, 5], candidate: [10, 9, 7, 5])
        #expect(slower.ratio == 1.0 / 3)
        let never = IterationRatio(problem: "p", baseline: [10, 8, 6], candidate: [10, 9, 7])
        #expect(never.ratio == nil && never.baselineIterations == 2)
        let noProgress = IterationRatio(problem: "p", baseline: [10, 10, 10], candidate: [10, 3, 1])
        #expect(noProgress.ratio == 1)
    }
}

// MARK: - Suites, files, hashing

@Suite struct SuiteAndFileTests {
    @Test func suiteFilesTakeDefaultsAndRejectUnknownFields() throws {
        let s = try EvaluationSuite.decode(Data(#"{"problems":[{"function":"Dixon-Price","dimension":30}],"starts":2}"#.utf8))
        #expect(s.problems == [.init(.dixonPrice, 30)] && s.starts == 2 && s.iterations == 100 && s.tuningStarts == 64)
        #expect(throws: EvaluationError.self) {
            try EvaluationSuite.decode(Data(#"{"problems":[],"iteratons":5}"#.utf8))
        }
        do {
            _ = try EvaluationSuite.decode(Data(#"{"generalization":{"dimension":[3]}}"#.utf8))
            Issue.record("accepted an unknown field")
        } catch { #expect(error.description.contains("generalization.dimension")) }
        // An unknown function name is an error naming the field, below the suite's root.
        for (text, field) in [(#"{"generalization":{"function":"nosuch"}}"#, "generalization.function: "),
                              (#"{"stepDirections":{"function":"nosuch"}}"#, "stepDirections.function: "),
                              (#"{"problems":[{"function":"nosuch","dimension":2}]}"#, "problems.Index 0.function: ")] {
            do { _ = try EvaluationSuite.decode(Data(text.utf8)); Issue.record("accepted \(text)") } catch {
                #expect(error.description.hasPrefix(field))
            }
        }
        var bad = EvaluationSuite.quick
        bad.problems.append(.init(.powell, 6))
        do { try bad.validate(); Issue.record("accepted Powell at d = 6") } catch {
            #expect(error.description.contains("problems[\(bad.problems.count - 1)].dimension"))
        }
        var badSolver = EvaluationSuite.quick
        badSolver.solvers = ["bfgs", "newton"]
        #expect(throws: EvaluationError.self) { try badSolver.validate() }
        // Round trip of the built-in suites.
        for suite in [EvaluationSuite.paper, .quick] {
            let data = try makeRecordEncoder().encode(suite)
            #expect(try EvaluationSuite.decode(data) == suite)
        }
    }

    @Test func seedsAreStableAndIndependentOfOtherProblems() {
        let p = EvaluationSuite.Problem(.rosenbrock, 250)
        #expect(Seeds.start(suite: 1, problem: p, index: 0) != Seeds.start(suite: 1, problem: p, index: 1))
        #expect(Seeds.start(suite: 1, problem: p, index: 0) != Seeds.start(suite: 1, problem: p, index: 0, tuning: true))
        #expect(Seeds.start(suite: 1, problem: p, index: 3) == Seeds.start(suite: 1, problem: p, index: 3))
        let objective = p.objective(seed: 7, offsetFraction: 0.1)
        let x = p.start(objective, seed: 7, index: 2)
        #expect(objective.isInDomain(x))
        #expect(objective.offset!.allSatisfy { abs($0) <= 0.1 * 15 })
    }

    @Test func tornLastLineIsCutAndAppendsContinue() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jsonl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t.jsonl")
        let record = StepDirectionRecord(solver: "bfgs", start: 0, startSeed: 1, gradientCosine: [1, nil],
                                         newtonCosine: [0.5, .infinity])
        do {
            let (file, existing) = try JSONLinesFile<StepDirectionRecord>.open(url)
            #expect(existing.isEmpty)
            try file.append(record)
        }
        let h = try FileHandle(forWritingTo: url)
        try h.seekToEnd()
        try h.write(contentsOf: Data(#"{"solver":"bfgs","sta"#.utf8))  // killed mid-write
        try h.close()
        let (file, existing) = try JSONLinesFile<StepDirectionRecord>.open(url)
        // A non-finite number is written as null (never the string "Infinity"), and an optional entry reads it back
        // as nil: "not defined here", as for a zero step.
        var written = record
        written.newtonCosine = [0.5, nil]
        #expect(existing == [written])
        #expect(!String(decoding: try Data(contentsOf: url), as: UTF8.self).contains("Infinity"))
        var second = written
        second.start = 1
        try file.append(second)
        #expect(try JSONLinesFile<StepDirectionRecord>.read(url) == [written, second])
        // A corrupt line in the middle is an error naming the line, not silently skipped.
        try Data("{\"x\":1}\n".utf8 + (try Data(contentsOf: url))).write(to: url)
        do { _ = try JSONLinesFile<StepDirectionRecord>.open(url); Issue.record("accepted a corrupt line") } catch {
            #expect(error.description.contains("line 1"))
        }
    }
}

// MARK: - Evaluator and report end to end (classical solvers only)

@Suite struct EvaluatorTests {
    static func smallSuite() -> EvaluationSuite {
        var s = EvaluationSuite()
        s.name = "test"
        s.problems = [.init(.sphere, 5), .init(.rosenbrock, 4)]
        s.solvers = ["gd", "adam", "bfgs", "lbfgs"]
        s.starts = 2
        s.tuningStarts = 2
        s.learningRates.count = 7
        s.iterations = 12
        var d = EvaluationSuite.StepDirections()
        d.solvers = ["gd", "bfgs"]
        d.starts = 3
        d.iterations = 6
        s.stepDirections = d
        var g = EvaluationSuite.Generalization()
        g.dimensions = [3, 6]
        g.starts = 1
        g.solvers = ["lbfgs"]
        s.generalization = g
        return s
    }

    @Test func runsResumeAndDoNotDependOnTheThreadCount() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let suite = Self.smallSuite()
        let one = Evaluator(suite: suite, output: base.appendingPathComponent("one"), learned: [:], threads: 1, command: "test")
        let two = Evaluator(suite: suite, output: base.appendingPathComponent("two"), learned: [:], threads: 2, command: "test")
        try one.run()
        try two.run()
        func load(_ e: Evaluator) throws -> [String: RunRecord] {
            let rs = try JSONLinesFile<RunRecord>.read(e.output.appendingPathComponent("records.jsonl"))
            return Dictionary(uniqueKeysWithValues: rs.map { ($0.key, $0) })
        }
        let a = try load(one), b = try load(two)
        #expect(a.count == 2 * 4 * 2)
        for (k, r) in a {
            #expect(r.values == b[k]!.values && r.best == b[k]!.best, "\(k) differs between 1 and 2 threads")
            #expect(r.values.count == suite.iterations + 1 || r.termination != "iterationLimit")
            #expect(r.initialValue == r.values[0] && r.best.last! <= r.values[0])
        }
        // Resume: a second run adds nothing.
        try one.run()
        #expect(try load(one).count == a.count)
        let manifest = try #require(try Manifest.load(one.output))
        #expect(manifest.sessions.count == 2 && manifest.sessions[1].newRuns == 0)
        // A different suite in the same folder is refused.
        var other = suite
        other.starts = 3
        #expect(throws: EvaluationError.self) {
            try Evaluator(suite: other, output: one.output, learned: [:], threads: 1, command: "test").run()
        }
        // Tuned rates come from the grid and are recorded in the runs.
        let tuning = try JSONLinesFile<TuningRecord>.read(one.output.appendingPathComponent("tuning.jsonl"))
        #expect(tuning.count == 2 * 2)  // gd and adam on both problems (the generalization study runs L-BFGS only)
        for r in a.values where r.solver == "adam" {
            #expect(suite.learningRates.rates.contains(r.learningRate!))
        }
        // The report is written from these records.
        let summary = try EvaluationReport(folder: one.output).write()
        #expect(summary.completeProblems == 2 && summary.runs == a.count)
        let md = try String(contentsOf: one.output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(md.contains("## Performance profiles") && md.contains("## Step directions") && md.contains("sphere-5"))
        for f in summary.figures {
            let data = try Data(contentsOf: one.output.appendingPathComponent(f))
            #expect(XMLParser(data: data).parse(), "\(f) is not well-formed XML")
        }
    }

    @Test func gradientDescentStepsAreParallelToTheGradient() {
        let suite = Self.smallSuite()
        let r = Evaluator.stepDirections(problem: .init(.rosenbrock, 2), solver: "gd",
                                         optimizer: AnyOptimizer(GradientDescent(learningRate: 1e-4)), start: 0,
                                         iterations: 6, suite: suite)
        #expect(r.gradientCosine.count == 6)
        for c in r.gradientCosine { #expect(abs(c! - 1) < 1e-12) }
        // Newton's own direction on a quadratic: BFGS's first step is along −∇f; on the sphere −∇f is the Newton
        // direction, so both cosines are 1.
        let s = Evaluator.stepDirections(problem: .init(.sphere, 2), solver: "bfgs", optimizer: AnyOptimizer(BFGS()),
                                         start: 0, iterations: 1, suite: suite)
        #expect(abs(s.newtonCosine[0]! - 1) < 1e-12 && abs(s.gradientCosine[0]! - 1) < 1e-12)
    }
}

// MARK: - Claims on synthetic records with known answers

@Suite struct ClaimTests {
    /// Two problems, one start each, budget 100. Optimus reaches every baseline's final value in 10 iterations where
    /// the baseline needs 100 (ratio 10) on problem A, and never on problem B; its best values are lowest on A only.
    @Test func claimsOfTheReportOnSyntheticRecords() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var suite = EvaluationSuite()
        suite.name = "synthetic"
        suite.problems = [.init(.sphere, 2), .init(.rosenbrock, 2)]
        suite.solvers = ["adam", "bfgs", "adafactor-mlp", "optimus"]
        suite.starts = 1
        suite.iterations = 100
        try makeRecordEncoder(pretty: true).encode(suite).write(to: dir.appendingPathComponent("suite.json"))
        func trace(reaching target: Double, at k: Int) -> [Double] {
            (0...100).map { i in i >= k ? target : 100 - (100 - target) * Double(i) / Double(k) }
        }
        var lines: [String] = []
        for problem in suite.problems {
            for solver in suite.solvers {
                let best: [Double]
                switch (problem.function, solver) {
                case (.sphere, "optimus"): best = trace(reaching: 0.5, at: 10)  // reaches 1 (the baselines' value) at 10
                case (.sphere, _): best = trace(reaching: 1, at: 100)
                case (_, "optimus"): best = trace(reaching: 50, at: 100)  // never reaches 10
                default: best = trace(reaching: 10, at: 100)
                }
                let r = RunRecord(problem: problem.id, function: problem.function.rawValue, dimension: 2, solver: solver,
                                  start: 0, startSeed: 0, offsetSeed: 0, learningRate: nil, fStar: 0, initialValue: 100,
                                  values: best, best: best, evaluations: Array(1...101), termination: "iterationLimit",
                                  seconds: 0.01, stoppingIteration: nil)
                lines.append(String(decoding: try makeRecordEncoder().encode(r), as: UTF8.self))
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("records.jsonl"), atomically: true,
                                                        encoding: .utf8)
        let summary = try EvaluationReport(folder: dir).write()
        let c = try #require(summary.claims)
        // Iteration ratios: 10 on the sphere (≈ 9.9–10: the first iteration at or below 1 is 10 for Optimus, 100 for
        // the baselines), not reached on Rosenbrock: half the problems at ≥ 10×, and ≥ 5×.
        for b in ["adam", "bfgs"] { #expect(c.fractionAtPaperFactor[b] == 0.5 && c.fractionReached[b] == 0.5) }
        #expect(c.fractionAtPaperFactor["adafactor-mlp"] == 0.5)
        // Profiles: Optimus is best on the sphere only (ρ(1) = 1/2), worst on Rosenbrock; the baselines tie there.
        #expect(c.rhoAtOne["optimus"] == 0.5 && c.rhoAtOne["adam"] == 0.5)
        #expect(c.profileDominates["adam"] == false)  // Adam is better on Rosenbrock
        let report = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("**met**") && report.contains("**not met**"))
        // The ρ(1) list: by value, ties by name (it was in the dictionary's order, which changes between processes).
        let line = try #require(report.split(separator: "\n").first { $0.contains("ρ(1): ") })
        let entries = line.components(separatedBy: "ρ(1): ")[1].dropLast().components(separatedBy: ", ").map { entry in
            let parts = entry.split(separator: " ")
            return (name: parts.dropLast().joined(separator: " ").lowercased(), value: Double(parts.last!)!)
        }
        #expect(entries.count == c.rhoAtOne.count)
        for (a, b) in zip(entries, entries.dropFirst()) {
            #expect(a.value > b.value || (a.value == b.value && a.name < b.name), "\(line)")
        }
    }
}

/// Records write non-finite numbers as `null` and read both `null` and the strings of older records (issue 16).
@Suite struct NonFiniteRecordTests {
    @Test func runAndTuningRecordsRoundTripNonFiniteValuesAsNull() throws {
        let run = RunRecord(problem: "sphere-2", function: "sphere", dimension: 2, solver: "adam", start: 0, startSeed: 1,
                            offsetSeed: 2, learningRate: .nan, fStar: 0, initialValue: .nan, values: [.nan, 1, .infinity],
                            best: [.nan, 1, 1], evaluations: [1, 2, 3], termination: "nonFiniteObjective", seconds: 0.5,
                            stoppingIteration: nil)
        let text = String(decoding: try makeRecordEncoder().encode(run), as: UTF8.self)
        #expect(!text.contains("NaN") && !text.contains("Infinity") && text.contains("\"initialValue\":null"), "\(text)")
        let back = try makeRecordDecoder().decode(RunRecord.self, from: Data(text.utf8))
        #expect(back.initialValue.isNaN && back.learningRate?.isNaN == true && back.values[2].isNaN)
        #expect(back.best[1...] == [1, 1] && back.evaluations == [1, 2, 3] && back.stoppingIteration == nil)

        // A diverged tuning rate (+∞) is written as null and read back as +∞, as its documentation says.
        let tuning = TuningRecord(problem: "p", solver: "adam", learningRate: 0.1, meanFinalValues: [2, .infinity],
                                  atGridEdge: false, allDiverged: false, seconds: 1)
        let tuningText = try makeRecordEncoder().encode(tuning)
        #expect(String(decoding: tuningText, as: UTF8.self).contains("[2,null]"))
        #expect(try makeRecordDecoder().decode(TuningRecord.self, from: tuningText) == tuning)
        // Records written before (the committed results/paper/tuning.jsonl.gz) hold the strings: still readable.
        let legacy = #"{"allDiverged":false,"atGridEdge":false,"learningRate":0.1,"meanFinalValues":[2,"Infinity"],"problem":"p","seconds":1,"solver":"adam"}"#
        #expect(try makeRecordDecoder().decode(TuningRecord.self, from: Data(legacy.utf8)) == tuning)
    }
}
