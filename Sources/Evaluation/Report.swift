import Foundation
import Plotting
import Objectives
import OptimusNumerics

/// `optimus report DIR`: reads an evaluation folder and writes `report.md` and `figures/*.svg|png`: performance
/// profiles (paper Fig. 3), iteration ratios (Fig. 4), generalization over dimension and step directions (Fig. 5),
/// per-problem tables, tuning and timing, and a verdict on each headline claim of the paper.
///
/// Aggregation: f̂ of a problem and solver is the **mean over starts of the best value within the budget** (the paper
/// plots average values; `docs/test-functions.md`, *Edge cases*). Only problems on which every solver finished every
/// start enter the profile; an incomplete folder is reported as such.
public struct EvaluationReport: Sendable {
    /// The headline claims of the paper, measured.
    public struct Claims: Codable, Sendable, Equatable {
        /// Baselines whose profile Optimus's is at or above at every τ.
        public var profileDominates: [String: Bool]
        /// Fraction of breakpoints where Optimus's profile is strictly above the baseline's.
        public var profileStrictlyAbove: [String: Double]
        /// ρ(1) of every solver (fraction of problems where it is best or tied).
        public var rhoAtOne: [String: Double]
        /// Fraction of problems where Optimus needs ≥ 10× (Adam, BFGS) or ≥ 5× (Adafactor-MLP) fewer iterations.
        public var fractionAtPaperFactor: [String: Double]
        /// Median iteration ratio against each baseline (not reached counts as 0).
        public var medianRatio: [String: Double]
        /// Fraction of problems where Optimus reaches the baseline's target at all.
        public var fractionReached: [String: Double]
    }

    public struct Summary: Codable, Sendable {
        public var suite: String
        public var problems: Int
        public var completeProblems: Int
        public var runs: Int
        public var wallSeconds: Double
        public var claims: Claims?
        public var figures: [String]
        public var checkpoints: [String: Manifest.CheckpointInfo]
    }

    public let folder: URL
    public let suite: EvaluationSuite
    public let manifest: Manifest?
    let records: [RunRecord]
    let tuning: [TuningRecord]
    let generalization: [RunRecord]
    let steps: [StepDirectionRecord]

    /// Solver name → display name.
    public static func displayName(_ solver: String) -> String {
        switch solver {
        case "gd": "GD"
        case "momentum": "GD + momentum"
        case "adam": "Adam"
        case "bfgs": "BFGS"
        case "lbfgs": "L-BFGS"
        case "adafactor-mlp": "Adafactor-MLP"
        case "optimus": "Optimus"
        case "optimus-no-state": "Optimus (no state)"
        case "optimus-no-structure": "Optimus (no structure)"
        default: solver
        }
    }

    static func color(_ solver: String) -> String {
        switch solver {
        case "optimus": "#D55E00"
        case "adafactor-mlp": "#009E73"
        case "bfgs": "#0072B2"
        case "lbfgs": "#56B4E9"
        case "adam": "#CC79A7"
        case "momentum", "gd": "#E69F00"
        case "optimus-no-state": "#000000"
        default: "#7F7F7F"
        }
    }

    public init(folder: URL) throws(EvaluationError) {
        self.folder = folder
        let suiteURL = folder.appendingPathComponent("suite.json")
        guard let data = FileManager.default.contents(atPath: suiteURL.path) else {
            throw .file(folder.path, "no suite.json: not an evaluation folder (run `optimus evaluate --output \(folder.path)` first)")
        }
        suite = try EvaluationSuite.decode(data)
        manifest = try Manifest.load(folder)
        records = try JSONLinesFile<RunRecord>.read(folder.appendingPathComponent("records.jsonl"))
        tuning = try JSONLinesFile<TuningRecord>.read(folder.appendingPathComponent("tuning.jsonl"))
        generalization = try JSONLinesFile<RunRecord>.read(folder.appendingPathComponent("generalization.jsonl"))
        steps = try JSONLinesFile<StepDirectionRecord>.read(folder.appendingPathComponent("step-directions.jsonl"))
    }

    // MARK: Aggregation

    /// Best-so-far trace padded to the budget (a run that stopped early keeps its last best value).
    static func paddedBest(_ r: RunRecord, budget: Int) -> [Double] {
        guard let last = r.best.last else { return [Double](repeating: .nan, count: budget + 1) }
        return (0...budget).map { $0 < r.best.count ? r.best[$0] : last }
    }

    /// Mean over runs of the padded best traces.
    static func meanTrace(_ runs: [RunRecord], budget: Int) -> [Double] {
        let traces = runs.map { paddedBest($0, budget: budget) }
        return (0...budget).map { k in Statistics.mean(traces.map { $0[k] }) }
    }

    struct Table {
        var problems: [EvaluationSuite.Problem]
        var solvers: [String]
        /// runs[p][s], sorted by start.
        var runs: [[[RunRecord]]]
        var fStar: [Double]
        var initial: [Double]
        var values: [[Double]]
    }

    func table() -> (complete: Table, incomplete: [String]) {
        var grouped: [String: [RunRecord]] = [:]
        for r in records { grouped["\(r.problem)|\(r.solver)", default: []].append(r) }
        var t = Table(problems: [], solvers: suite.solvers, runs: [], fStar: [], initial: [], values: [])
        var incomplete: [String] = []
        for p in suite.problems {
            let rows = suite.solvers.map { s in (grouped["\(p.id)|\(s)"] ?? []).sorted { $0.start < $1.start } }
            guard rows.allSatisfy({ $0.count >= suite.starts }) else {
                incomplete.append(p.id)
                continue
            }
            t.problems.append(p)
            t.runs.append(rows)
            t.fStar.append(rows[0][0].fStar)
            t.initial.append(Statistics.mean(rows[0].map(\.initialValue)))
            t.values.append(rows.map { runs in Statistics.mean(runs.map(\.bestValue)) })
        }
        return (t, incomplete)
    }

    // MARK: Writing

    /// Writes `report.md` and the figures; returns the summary (also written as `summary.json`).
    @discardableResult
    public func write() throws -> Summary {
        let figures = folder.appendingPathComponent("figures")
        try FileManager.default.createDirectory(at: figures, withIntermediateDirectories: true)
        var written: [String] = []
        func save(_ svg: String, _ name: String) throws {
            let url = figures.appendingPathComponent(name + ".svg")
            try svg.write(to: url, atomically: true, encoding: .utf8)
            written.append("figures/\(name).svg")
            convertToPNG(url, width: 1400)
        }

        let (t, incomplete) = table()
        var md = ""
        var claimsText = ""
        var claims: Claims?
        if !t.problems.isEmpty {
            let paperSet = t.solvers.filter { $0 != "lbfgs" }
            let profile = profileFor(t, solvers: paperSet)
            try save(profilePlot(profile, title: "Performance profiles (\(t.problems.count) problems)"), "performance-profile")
            md += "## Performance profiles (paper Fig. 3)\n\n"
            md += "m = (f̂ − f*)/(f^w − f*) with f̂ the mean over starts of each run's best value in \(suite.iterations) "
                + "iterations, f^w the worst f̂ of the compared solvers, f* lowered to the best f̂ where a solver went below "
                + "it, m floored at 1e−12 (ties), divergence = failure. ρ_s(τ) is the fraction of problems with "
                + "r = m/min m ≤ τ.\n\n"
            md += "![Performance profiles](figures/performance-profile.svg)\n\n"
            md += profileTable(profile)
            if t.solvers.contains("lbfgs") {
                let all = profileFor(t, solvers: t.solvers)
                try save(profilePlot(all, title: "Performance profiles with L-BFGS (\(t.problems.count) problems)"),
                         "performance-profile-with-lbfgs")
                md += "\nThe paper compares without L-BFGS. Adding it changes every ratio (the best solver of a problem "
                    + "changes), so it is shown separately:\n\n"
                md += "![Performance profiles with L-BFGS](figures/performance-profile-with-lbfgs.svg)\n\n"
                md += profileTable(all)
            }
            var c = Claims(profileDominates: [:], profileStrictlyAbove: [:], rhoAtOne: [:], fractionAtPaperFactor: [:],
                           medianRatio: [:], fractionReached: [:])
            for (i, s) in paperSet.enumerated() { c.rhoAtOne[s] = profile.fraction(solver: i, within: 1) }
            if let o = paperSet.firstIndex(of: "optimus") {
                for (i, s) in paperSet.enumerated() where i != o {
                    let d = profile.dominance(o, over: i)
                    c.profileDominates[s] = d.everywhere
                    c.profileStrictlyAbove[s] = d.strictlyAboveFraction
                }
                let (section, ratios) = try iterationSection(t, save: save)
                md += section
                for (baseline, rs) in ratios {
                    let factor = baseline == "adafactor-mlp" ? 5.0 : 10.0
                    let values = rs.map { $0.ratio ?? 0 }
                    c.fractionAtPaperFactor[baseline] = Double(values.filter { $0 >= factor }.count) / Double(values.count)
                    c.medianRatio[baseline] = Statistics.median(values)
                    c.fractionReached[baseline] = Double(rs.filter { $0.ratio != nil }.count) / Double(rs.count)
                }
                claims = c
                claimsText = claimsSection(c, problems: t.problems.count)
            }
            md += valueTable(t)
            md += stoppingRuleTable(t)
        }
        md += try generalizationSection(save: save)
        md += try stepDirectionSection(save: save)
        md += tuningSection()
        md += timingSection(t)

        md = "# Evaluation report: suite `\(suite.name)`\n\n"
            + "Generated by `optimus report` from the records in this folder; do not edit by hand.\n\n"
            + claimsText + setupSection(t, incomplete: incomplete) + md
        try md.write(to: folder.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
        let summary = Summary(suite: suite.name, problems: suite.problems.count, completeProblems: t.problems.count,
                              runs: records.count, wallSeconds: manifest?.totalSeconds ?? .nan, claims: claims,
                              figures: written, checkpoints: manifest?.checkpoints ?? [:])
        try makeRecordEncoder(pretty: true).encode(summary).write(to: folder.appendingPathComponent("summary.json"))
        return summary
    }

    func profileFor(_ t: Table, solvers: [String]) -> PerformanceProfile {
        let columns = solvers.map { t.solvers.firstIndex(of: $0)! }
        return PerformanceProfile(values: t.values.map { row in columns.map { row[$0] } }, fStar: t.fStar,
                                  initial: t.initial, solvers: solvers)
    }

    func profilePlot(_ profile: PerformanceProfile, title: String) -> String {
        let finite = profile.breakpoints
        let maxTau = min(max(10, (finite.last ?? 10) * 2), 1e16)
        var plot = SVGPlot(title: title, xLabel: "τ (within a factor τ of the best normalized gap)",
                           yLabel: "ρ(τ): fraction of problems")
        plot.xScale = .log10
        plot.xRange = 1...pow(10, ceil(log10(maxTau)))
        plot.yRange = 0...1.02
        plot.legendAtBottomRight = true
        for (i, s) in profile.solvers.enumerated() {
            let pts = profile.curve(solver: i, maxTau: plot.xRange!.upperBound).map { (x: $0.tau, y: $0.rho) }
            plot.series.append(.init(name: Self.displayName(s), points: pts, style: .step, color: Self.color(s),
                                     dashed: s == "lbfgs"))
        }
        return plot.svg()
    }

    func profileTable(_ p: PerformanceProfile) -> String {
        let taus: [Double] = [1, 2, 10, 1e2, 1e3, 1e6, 1e12]
        var s = "| solver | " + taus.map { "ρ(\(fmtTau($0)))" }.joined(separator: " | ") + " |\n"
        s += "|---|" + taus.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for (i, name) in p.solvers.enumerated() {
            s += "| \(Self.displayName(name)) | "
                + taus.map { String(format: "%.2f", p.fraction(solver: i, within: $0)) }.joined(separator: " | ") + " |\n"
        }
        return s + "\n"
    }

    private func fmtTau(_ t: Double) -> String { t < 1000 ? String(Int(t)) : "1e\(Int(log10(t)))" }

    // MARK: Iteration ratios

    func iterationSection(_ t: Table, save: (String, String) throws -> Void) throws
        -> (String, [(String, [IterationRatio])])
    {
        guard let o = t.solvers.firstIndex(of: "optimus") else { return ("", []) }
        let baselines = ["adam", "bfgs", "adafactor-mlp"].filter { t.solvers.contains($0) }
        guard !baselines.isEmpty else { return ("", []) }
        var all: [(String, [IterationRatio])] = []
        for b in baselines {
            let bi = t.solvers.firstIndex(of: b)!
            let rs = t.problems.indices.map { p in
                IterationRatio(problem: t.problems[p].id, baseline: Self.meanTrace(t.runs[p][bi], budget: suite.iterations),
                               candidate: Self.meanTrace(t.runs[p][o], budget: suite.iterations))
            }
            all.append((b, rs))
        }
        var plot = SVGPlot(title: "Iterations to reach each baseline's mean \(suite.iterations)-iteration value",
                           xLabel: "percentile of problems (problem names: ordering of the Optimus vs BFGS curve)",
                           yLabel: "iterations(baseline) / iterations(Optimus)")
        plot.yScale = .log10
        plot.xRange = 0...100
        plot.height = 640
        plot.horizontalLines = [(1, "break-even")]
        var lowest = 1.0, highest = 10.0
        for (b, rs) in all {
            let sorted = rs.sorted { ($0.ratio ?? 0) > ($1.ratio ?? 0) }
            let n = Double(sorted.count)
            var pts: [(x: Double, y: Double)] = []
            var floor: [Double] = []
            for (i, r) in sorted.enumerated() {
                let x = 100 * Double(i + 1) / n
                if let v = r.ratio { pts.append((x, v)); lowest = min(lowest, v); highest = max(highest, v) } else { floor.append(x) }
            }
            plot.series.append(.init(name: "vs \(Self.displayName(b))", points: pts, style: .lineAndMarkers,
                                     color: Self.color(b), floorPoints: floor))
            if b == "bfgs" || (b == all.first!.0 && !baselines.contains("bfgs")) {
                plot.namedXTicks = sorted.enumerated().map { (100 * Double($0.offset + 1) / n, $0.element.problem) }
            }
        }
        plot.yRange = pow(10, floor(log10(lowest)) - (all.contains { $0.1.contains { $0.ratio == nil } } ? 1 : 0))...pow(10, ceil(log10(highest)))
        try save(plot.svg(), "iteration-ratios")
        var s = "## Iterations to reach the baselines (paper Fig. 4)\n\n"
        s += "Target: the baseline's mean best value after \(suite.iterations) iterations; k = first iteration where the "
            + "mean best-so-far over starts reaches it. Ratio = k(baseline)/k(Optimus); above 1 Optimus needed fewer. "
            + "Hollow markers at the bottom: Optimus never reached the target within the budget.\n\n"
        s += "![Iteration ratios](figures/iteration-ratios.svg)\n\n"
        s += "| problem | " + all.map { "vs \(Self.displayName($0.0))" }.joined(separator: " | ") + " |\n"
        s += "|---|" + all.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for (p, problem) in t.problems.enumerated() {
            s += "| \(problem.id) | " + all.map { (_, rs) in
                let r = rs[p]
                let k = "\(r.candidateIterations.map(String.init) ?? "—")/\(r.baselineIterations)"
                return r.ratio.map { String(format: "%.2f× (%@)", $0, k) } ?? "not reached (—/\(r.baselineIterations))"
            }.joined(separator: " | ") + " |\n"
        }
        s += "\nCells: ratio (iterations of Optimus / of the baseline).\n\n"
        return (s, all)
    }

    // MARK: Claims

    func claimsSection(_ c: Claims, problems: Int) -> String {
        var s = "## Headline claims of the paper, measured\n\n"
        s += "On \(problems) problems of this suite. Each line states the paper's claim and whether this project's "
            + "Optimus meets it here.\n\n"
        let baselines = c.profileDominates.keys.sorted()
        let dominatesAll = !baselines.isEmpty && baselines.allSatisfy { c.profileDominates[$0]! }
        s += "1. **Profile above every baseline** (paper Fig. 3): \(dominatesAll ? "**met**" : "**not met**"). "
        s += baselines.map { b in
            "vs \(Self.displayName(b)): \(c.profileDominates[b]! ? "at or above at every τ" : "below somewhere")"
                + String(format: " (strictly above at %.0f%% of breakpoints)", 100 * c.profileStrictlyAbove[b]!)
        }.joined(separator: "; ")
        s += ". ρ(1): " + c.rhoAtOne.sorted { $0.value > $1.value }
            .map { "\(Self.displayName($0.key)) \(String(format: "%.2f", $0.value))" }.joined(separator: ", ") + ".\n"
        func factorLine(_ number: Int, _ names: [String], _ factor: Double) -> String {
            let present = names.filter { c.fractionAtPaperFactor[$0] != nil }
            guard !present.isEmpty else { return "" }
            let met = present.allSatisfy { c.fractionAtPaperFactor[$0]! >= 0.5 }
            var line = "\(number). **≥ \(Int(factor))× fewer iterations than \(present.map(Self.displayName).joined(separator: " and ")) "
                + "on half the problems** (paper Fig. 4): \(met ? "**met**" : "**not met**"). "
            line += present.map { b in
                String(format: "vs %@: %.0f%% of problems at ≥ %d×, median ratio %.2f×, target reached on %.0f%%",
                       Self.displayName(b), 100 * c.fractionAtPaperFactor[b]!, Int(factor), c.medianRatio[b]!,
                       100 * c.fractionReached[b]!)
            }.joined(separator: "; ")
            return line + ".\n"
        }
        s += factorLine(2, ["adam", "bfgs"], 10)
        s += factorLine(3, ["adafactor-mlp"], 5)
        return s + "\n"
    }

    // MARK: Tables

    func setupSection(_ t: Table, incomplete: [String]) -> String {
        var s = "## Setup\n\n"
        let dims = Array(Set(suite.problems.map(\.dimension))).sorted()
        let functions = Array(Set(suite.problems.map(\.function))).count
        s += "- \(suite.problems.count) problems (\(functions) functions × d ∈ {\(dims.map(String.init).joined(separator: ", "))}), "
            + "random offsets (±\(Int(100 * suite.offsetFraction)) % of the domain width), \(suite.starts) starts each, "
            + "uniform in the shifted domain; seed \(suite.seed).\n"
        s += "- Budget: \(suite.iterations) iterations per run (every evaluation counted; BFGS and L-BFGS use several per "
            + "iteration in their line searches). Learned optimizers also reported with the paper's stopping rule.\n"
        s += "- Solvers: \(suite.solvers.map(Self.displayName).joined(separator: ", ")). GD + momentum and Adam: learning "
            + "rate tuned per problem over \(suite.learningRates.count) rates log-spaced in "
            + "[\(fmt(suite.learningRates.minimum)), \(fmt(suite.learningRates.maximum))] on \(suite.tuningStarts) "
            + "separate starts (lowest mean final value).\n"
        if let m = manifest {
            for (name, c) in m.checkpoints.sorted(by: { $0.key < $1.key }) {
                s += "- \(Self.displayName(name)): `\(URL(fileURLWithPath: c.path).lastPathComponent)` (\(c.kind), "
                    + "\(c.parameters) parameters), sha256 `\(c.sha256)`.\n"
            }
            s += "- Wall time: \(duration(m.totalSeconds)) over \(m.sessions.count) session(s) "
                + "(\(m.sessions.last?.threads ?? 0) threads); command: `\(m.sessions.first?.command ?? "?")`.\n"
        }
        s += "- Runs recorded: \(records.count); problems complete: \(t.problems.count) of \(suite.problems.count)"
        s += incomplete.isEmpty ? ".\n\n" : " (incomplete, left out: \(incomplete.joined(separator: ", "))).\n\n"
        return s
    }

    func valueTable(_ t: Table) -> String {
        var s = "## Mean best value per problem\n\n"
        s += "Mean over \(suite.starts) starts of the best value within \(suite.iterations) iterations; **bold** = lowest. "
            + "f(x₀) is the mean start value.\n\n"
        s += "| problem | f* | f(x₀) | " + t.solvers.map(Self.displayName).joined(separator: " | ") + " |\n"
        s += "|---|---:|---:|" + t.solvers.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for (p, problem) in t.problems.enumerated() {
            let row = t.values[p]
            let best = row.filter(\.isFinite).min()
            s += "| \(problem.id) | \(fmt(t.fStar[p])) | \(fmt(t.initial[p])) | "
            s += row.map { v in v == best ? "**\(fmt(v))**" : fmt(v) }.joined(separator: " | ") + " |\n"
        }
        return s + "\n"
    }

    func stoppingRuleTable(_ t: Table) -> String {
        let learned = t.solvers.enumerated().filter { (_, s) in t.runs.first?[t.solvers.firstIndex(of: s)!].first?.stoppingIteration != nil || ["optimus", "adafactor-mlp", "optimus-no-state", "optimus-no-structure"].contains(s) }
        guard !learned.isEmpty else { return "" }
        var s = "## Learned optimizers with the paper's stopping rule\n\n"
        s += "Stop at iteration k ≥ 5 when f(x_k) exceeds the mean of the previous 5 values (N = 5, β = 1, ε = 0), applied "
            + "to the recorded trace (the rule only ends a run). Per solver: mean iterations used, and how often the "
            + "stopped run's best value is within 1 % of the full budget's.\n\n"
        s += "| solver | mean iterations | stopped early | best within 1 % of the full run |\n|---|---:|---:|---:|\n"
        for (i, name) in learned {
            let runs = t.runs.flatMap { $0[i] }
            let iters = runs.map { Double($0.stoppingIteration ?? suite.iterations) }
            let early = runs.filter { $0.stoppingIteration != nil }.count
            let close = runs.filter { r in
                let full = r.bestValue - r.fStar, stopped = r.bestValueWithStoppingRule - r.fStar
                return stopped <= full + 0.01 * abs(full) + 1e-300
            }.count
            s += "| \(Self.displayName(name)) | \(String(format: "%.1f", Statistics.mean(iters))) | "
                + "\(early)/\(runs.count) | \(close)/\(runs.count) |\n"
        }
        return s + "\n"
    }

    // MARK: Studies

    func generalizationSection(save: (String, String) throws -> Void) throws -> String {
        guard let g = suite.generalization, !generalization.isEmpty else { return "" }
        var plot = SVGPlot(title: "\(g.function.displayName): final value against dimension",
                           xLabel: "dimension d", yLabel: "mean best f − f* after \(suite.iterations) iterations")
        plot.xScale = .log10
        plot.yScale = .log10
        var rows: [String] = []
        for s in g.solvers {
            var pts: [(x: Double, y: Double)] = []
            for d in g.dimensions {
                let runs = generalization.filter { $0.solver == s && $0.dimension == d }
                guard !runs.isEmpty else { continue }
                let gap = Statistics.mean(runs.map { max($0.bestValue - $0.fStar, 1e-16) })
                pts.append((Double(d), gap))
            }
            plot.series.append(.init(name: Self.displayName(s), points: pts, style: .lineAndMarkers, color: Self.color(s),
                                     dashed: !["optimus", "adafactor-mlp"].contains(s)))
            rows.append("| \(Self.displayName(s)) | " + pts.map { fmt($0.y) }.joined(separator: " | ") + " |")
        }
        var start: [(x: Double, y: Double)] = []
        for d in g.dimensions {
            let runs = generalization.filter { $0.dimension == d && $0.solver == g.solvers[0] }
            if !runs.isEmpty { start.append((Double(d), Statistics.mean(runs.map { $0.initialValue - $0.fStar }))) }
        }
        plot.series.append(.init(name: "start f(x₀) − f*", points: start, style: .line, color: "#999999", dashed: true))
        try save(plot.svg(), "generalization")
        var s = "## Generalization over dimension (paper Fig. 5 left/mid)\n\n"
        s += "\(g.function.displayName) at d = \(g.dimensions.map(String.init).joined(separator: ", ")) "
            + "(\(g.starts) starts each); the learned optimizers were meta-trained on d ≤ 100.\n\n"
        s += "![Generalization](figures/generalization.svg)\n\n"
        s += "| solver | " + g.dimensions.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
        s += "|---|" + g.dimensions.map { _ in "---:" }.joined(separator: "|") + "|\n"
        return s + rows.joined(separator: "\n") + "\n\n"
    }

    func stepDirectionSection(save: (String, String) throws -> Void) throws -> String {
        guard let study = suite.stepDirections, !steps.isEmpty else { return "" }
        func meanCurve(_ solver: String, _ pick: (StepDirectionRecord) -> [Double?]) -> [(x: Double, y: Double)] {
            let rs = steps.filter { $0.solver == solver }
            let n = rs.map { pick($0).count }.max() ?? 0
            return (0..<n).compactMap { k in
                let v = rs.compactMap { k < pick($0).count ? pick($0)[k] : nil }
                return v.count * 2 >= rs.count ? (Double(k + 1), Statistics.mean(v)) : nil  // at least half the runs
            }
        }
        var panels: [SVGPlot] = []
        var summary: [String] = []
        for (title, pick) in [("steepest descent −∇f", { (r: StepDirectionRecord) in r.gradientCosine }),
                              ("Newton direction −H⁻¹∇f", { (r: StepDirectionRecord) in r.newtonCosine })] {
            var p = SVGPlot(title: "|cos| with \(title)", xLabel: "iteration", yLabel: "mean |cos(step, direction)|")
            p.width = 560
            p.yRange = 0...1.02
            p.legendAtBottomRight = title.hasPrefix("Newton")
            for s in study.solvers {
                let c = meanCurve(s, pick)
                p.series.append(.init(name: Self.displayName(s), points: c, style: .line, color: Self.color(s)))
                let overall = Statistics.mean(c.map(\.y))
                summary.append("| \(Self.displayName(s)) | \(title) | \(String(format: "%.3f", overall)) |")
            }
            panels.append(p)
        }
        try save(SVGPlot.row(panels, title: "\(study.dimension)-D \(study.function.displayName): step directions, "
                             + "mean over \(study.starts) starts"), "step-directions")
        var s = "## Step directions (paper Fig. 5 right)\n\n"
        s += "Absolute cosine of each step x_{k+1} − x_k with −∇f(x_k) and with the Newton direction −H(x_k)⁻¹∇f(x_k) "
            + "(analytic Hessians), on \(study.dimension)-D \(study.function.displayName), mean over \(study.starts) starts "
            + "(iterations where at least half the runs are still moving).\n\n"
        s += "![Step directions](figures/step-directions.svg)\n\n"
        s += "| solver | direction | mean |cos| over iterations |\n|---|---|---:|\n" + summary.joined(separator: "\n") + "\n\n"
        return s
    }

    func tuningSection() -> String {
        guard !tuning.isEmpty else { return "" }
        var s = "## Tuned learning rates\n\n"
        let solvers = Array(Set(tuning.map(\.solver))).sorted()
        s += "| problem | " + solvers.map { Self.displayName($0) }.joined(separator: " | ") + " |\n"
        s += "|---|" + solvers.map { _ in "---:" }.joined(separator: "|") + "|\n"
        var byKey: [String: TuningRecord] = [:]
        for r in tuning { byKey[r.key] = r }
        var problems: [String] = []
        for r in tuning where !problems.contains(r.problem) { problems.append(r.problem) }
        for p in problems {
            s += "| \(p) | " + solvers.map { sv in
                guard let r = byKey["\(p)|\(sv)"] else { return "" }
                return fmt(r.learningRate) + (r.allDiverged ? " (all diverge)" : r.atGridEdge ? " (grid edge)" : "")
            }.joined(separator: " | ") + " |\n"
        }
        return s + "\n"
    }

    func timingSection(_ t: Table) -> String {
        guard !t.problems.isEmpty else { return "" }
        let dims = Array(Set(t.problems.map(\.dimension))).sorted()
        var s = "## Seconds per run\n\nMean wall seconds of one run (one thread), by dimension.\n\n"
        s += "| solver | " + dims.map { "d = \($0)" }.joined(separator: " | ") + " |\n"
        s += "|---|" + dims.map { _ in "---:" }.joined(separator: "|") + "|\n"
        for (i, solver) in t.solvers.enumerated() {
            s += "| \(Self.displayName(solver)) | " + dims.map { d in
                let runs = t.problems.indices.filter { t.problems[$0].dimension == d }.flatMap { t.runs[$0][i] }
                return String(format: "%.4f", Statistics.mean(runs.map(\.seconds)))
            }.joined(separator: " | ") + " |\n"
        }
        return s + "\n"
    }

    // MARK: README

    /// The README section: headline verdicts and figures, with paths relative to the README's folder.
    public func readmeSection(summary: Summary, readmeFolder: URL) -> String {
        let rel = relativePath(from: readmeFolder, to: folder)
        var s = "<!-- evaluation-results:begin (generated by `optimus report \(rel) --readme`; do not edit) -->\n"
        s += "### Results on the paper's benchmark (Section 5.1)\n\n"
        s += "Suite `\(suite.name)`: \(summary.completeProblems) problems, \(suite.starts) starts each, "
            + "\(suite.iterations) iterations; wall time \(duration(summary.wallSeconds)) on this machine. "
            + "Command: `\(manifest?.sessions.first?.command ?? "optimus evaluate")` then `optimus report \(rel)`. "
            + "Full report: [\(rel)/report.md](\(rel)/report.md).\n\n"
        for (name, c) in (manifest?.checkpoints ?? [:]).sorted(by: { $0.key < $1.key }) {
            s += "- \(Self.displayName(name)) checkpoint `\(URL(fileURLWithPath: c.path).lastPathComponent)`, sha256 "
                + "`\(c.sha256.prefix(16))…` (\(c.parameters) meta-parameters)\n"
        }
        if let c = summary.claims { s += "\n" + claimsSection(c, problems: summary.completeProblems).replacingOccurrences(of: "## Headline claims of the paper, measured\n\n", with: "") }
        for f in summary.figures where ["figures/performance-profile.svg", "figures/iteration-ratios.svg",
                                        "figures/generalization.svg", "figures/step-directions.svg"].contains(f) {
            s += "![\(f)](\(rel)/\(f))\n\n"
        }
        return s + "<!-- evaluation-results:end -->"
    }

    /// Replaces the section between the markers in the README (or appends it when there are none).
    public func updateReadme(_ readme: URL, summary: Summary) throws {
        var text = (try? String(contentsOf: readme, encoding: .utf8)) ?? ""
        let section = readmeSection(summary: summary, readmeFolder: readme.deletingLastPathComponent())
        if let begin = text.range(of: "<!-- evaluation-results:begin"), let end = text.range(of: "<!-- evaluation-results:end -->"),
           begin.lowerBound < end.upperBound {
            text.replaceSubrange(begin.lowerBound..<end.upperBound, with: section)
        } else {
            text += (text.hasSuffix("\n") || text.isEmpty ? "" : "\n") + "\n" + section + "\n"
        }
        try text.write(to: readme, atomically: true, encoding: .utf8)
    }
}

func relativePath(from base: URL, to target: URL) -> String {
    let b = base.standardizedFileURL.resolvingSymlinksInPath().pathComponents
    let t = target.standardizedFileURL.resolvingSymlinksInPath().pathComponents
    var i = 0
    while i < b.count, i < t.count, b[i] == t[i] { i += 1 }
    let up = [String](repeating: "..", count: b.count - i)
    let path = (up + t[i...]).joined(separator: "/")
    return path.isEmpty ? "." : path
}

func fmt(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "∞" : "−∞" }
    return String(format: "%.4g", v)
}

func duration(_ s: Double) -> String {
    guard s.isFinite else { return "unknown" }
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600) h \(t % 3600 / 60) min" : t >= 60 ? "\(t / 60) min \(t % 60) s" : "\(t) s"
}
