import Foundation
import Plotting
import Objectives
import OptimusNumerics
import OptimusSupport

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
        records = try JSONLinesFile<RunRecord>.readRecords(folder.appendingPathComponent("records.jsonl"))
        tuning = try JSONLinesFile<TuningRecord>.readRecords(folder.appendingPathComponent("tuning.jsonl"))
        generalization = try JSONLinesFile<RunRecord>.readRecords(folder.appendingPathComponent("generalization.jsonl"))
        steps = try JSONLinesFile<StepDirectionRecord>.readRecords(folder.appendingPathComponent("step-directions.jsonl"))
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

}
