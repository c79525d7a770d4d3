import Foundation
import Plotting
import Objectives
import OptimusNumerics

/// The sections of `report.md` after the profiles: iteration ratios (Fig. 4), the verdicts on the paper's claims,
/// per-problem tables, the generalization and step-direction studies (Fig. 5), tuning and timing.
extension EvaluationReport {
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
        // Ties in ρ(1) go by solver name: a dictionary's order changes from process to process.
        s += ". ρ(1): " + c.rhoAtOne.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
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
}
