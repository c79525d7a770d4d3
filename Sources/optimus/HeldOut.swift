import ArgumentParser
import Foundation
import OptimusKit

/// `optimus heldout`: trained optimizers vs tuned Adam and L-BFGS on held-out problems: new tasks of the training
/// distribution (`--functions training`, the default) or the ten held-out functions that never appear in training
/// (`--functions heldout`).
struct HeldOut: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heldout",
        abstract: "Compare learned-optimizer checkpoints with tuned Adam and L-BFGS on held-out tasks or functions.",
        discussion: """
            --functions training (default): held-out tasks of the training distribution (the 15 training functions, \
            d = 2…--max-dimension, random offsets), --tasks of them, --budget 50 by default.

            --functions heldout: the ten held-out functions (Qing, Salomon, Exponential, Brown, Cosine Mixture, \
            Chung-Reynolds, Quartic, Schaffer F6, Broyden tridiagonal, Trigonometric; see docs/test-functions.md), \
            none of them in training, at every --dimensions, --starts seeded random starts each (random offsets as \
            the training tasks have), --budget 100 by default. One Markdown table per (function, d): mean final gap \
            f − f* and mean log10 gap per solver, the winner marked; then, per checkpoint, on how many problems it \
            beats tuned Adam and is within 10× of L-BFGS.

            Adam's learning rate is tuned per run on 4 separate starts of the same problem (100 rates in [1e-6, 1]).
            """)

    enum FunctionSet: String, ExpressibleByArgument, CaseIterable {
        case training
        case heldout
    }

    @Option(name: .customLong("checkpoint"), help: "A learned-optimizer checkpoint (repeat for several).")
    var checkpoints: [String] = []

    @Option(help: "Which problems: 'training' (held-out tasks of the training distribution) or 'heldout' (the ten held-out functions).")
    var functions: FunctionSet = .training

    @Option(parsing: .unconditional, help: "Number of held-out tasks (--functions training).")
    var tasks: Int = 32

    @Option(parsing: .unconditional, help: "Seed of the held-out tasks or of the held-out functions' offsets and starts. The training configs validate (and pick the best θ) on seed 9999, so the default is a different task set.", transform: parseSeed)
    var seed: UInt64 = 4242

    @Option(parsing: .unconditional, help: "Evaluation budget per run (one step = one evaluation for the learned optimizers). Default: 50 with --functions training, 100 with --functions heldout.")
    var budget: Int?

    @Option(parsing: .unconditional, help: "Largest dimension (--functions training).")
    var maxDimension: Int = 100

    @Option(help: "Dimensions, comma-separated (--functions heldout; default 50,250).")
    var dimensions: String?

    @Option(parsing: .unconditional, help: "Seeded random starts per function and dimension (--functions heldout; default 4).")
    var starts: Int?

    @OptionGroup var format: JSONOutputOption

    var effectiveBudget: Int { budget ?? (functions == .heldout ? 100 : 50) }

    func parsedDimensions() throws -> [Int] {
        let text = dimensions ?? "50,250"
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let ds = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, ds.count == parts.count,
              ds.allSatisfy({ $0 >= 2 && $0 <= BenchmarkObjective.maximumDimension }) else {
            throw ValidationError("dimensions: '\(text)' must be comma-separated integers between 2 and "
                                  + "\(BenchmarkObjective.maximumDimension)")
        }
        return ds
    }

    func validate() throws {
        guard effectiveBudget >= 2 else { throw ValidationError("budget: must be ≥ 2") }
        switch functions {
        case .training:
            guard tasks >= 1 else { throw ValidationError("tasks: must be ≥ 1") }
            guard (2...4096).contains(maxDimension) else { throw ValidationError("max-dimension: must be in 2…4096") }
            if dimensions != nil { throw ValidationError("dimensions: only used with --functions heldout") }
            if starts != nil { throw ValidationError("starts: only used with --functions heldout") }
        case .heldout:
            _ = try parsedDimensions()
            guard (1...1000).contains(starts ?? 4) else { throw ValidationError("starts: must be in 1…1000") }
        }
    }

    func run() throws {
        BLAS.setThreadCount(1)
        var learned: [(String, AnyOptimizer)] = []
        for path in checkpoints {
            let c = try readCheckpoint(path).checkpoint
            do { learned.append((URL(fileURLWithPath: path).lastPathComponent, AnyOptimizer(try LearnedOptimizerCatalog.optimizer(from: c)))) } catch {
                throw failure(error.description, code: ExitStatus.dataError)
            }
        }
        switch functions {
        case .training: try runTrainingDistribution(learned: learned)
        case .heldout: try runHeldOutFunctions(learned: learned)
        }
    }

    private func runTrainingDistribution(learned: [(String, AnyOptimizer)]) throws {
        let budget = effectiveBudget
        let distribution = TaskDistribution(maximumDimension: maxDimension)
        var g = Xoshiro256StarStar(seed: seed)
        let taskList = (0..<tasks).map { _ in distribution.sample(using: &g) }
        var result = HeldOutComparison.run(tasks: taskList, budget: budget, learned: learned)
        result.seed = seed
        if format.json {
            try printJSON(result)
            return
        }
        print("\(tasks) held-out tasks (seed \(seed), d = 2…\(maxDimension), 15 functions, random offsets), \(budget) evaluations each")
        print("")
        print("| solver | mean meta-loss | mean final log10 gap | median final log10 gap | best on tasks |")
        print("|---|---:|---:|---:|---:|")
        for r in result.rows {
            print("| \(r.solver) | \(String(format: "%.3f", r.meanMetaLoss)) | \(String(format: "%.3f", r.meanFinalGap)) | "
                  + "\(String(format: "%.3f", r.medianFinalGap)) | \(r.wins)/\(tasks) |")
        }
        print("")
        print("meta-loss: mean over the budget of log10((f − f*)/(f0 − f*)) (clipped to [−12, 2]); lower is better.")
    }

    private func runHeldOutFunctions(learned: [(String, AnyOptimizer)]) throws {
        let ds = try parsedDimensions()
        let startCount = starts ?? 4
        let budget = effectiveBudget
        let all = HeldOutFunction.allCases
        log("heldout: \(all.count) functions × d = \(ds.map(String.init).joined(separator: ", ")), \(startCount) start\(startCount == 1 ? "" : "s"), "
            + "\(budget) evaluations, \(learned.count + 2) solvers")
        let result = HeldOutComparison.runHeldOutFunctions(all, dimensions: ds, starts: startCount, seed: seed,
                                                           budget: budget, learned: learned)
        if format.json {
            try printJSON(result)
            return
        }
        let problemCount = result.problems.count
        print("# Held-out functions (never in training)")
        print("")
        print("\(all.count) functions × d = \(ds.map(String.init).joined(separator: ", ")) = \(problemCount) problems, "
              + "\(startCount) seeded random start\(startCount == 1 ? "" : "s") each (seed \(seed); random offsets "
              + "±\(fmt(result.offsetFraction * 100))% of the domain width), \(budget) evaluations per run. Adam's "
              + "learning rate is tuned per run on \(result.tuningStarts) separate starts (100 rates in [1e-6, 1]).")
        print("final gap: f_best − f* (best value within the budget); log10 gap: log10 of it, floored at "
              + "\(fmt(HeldOutComparison.logGapFloor)); means over the starts; lower is better.")
        for p in result.problems {
            print("")
            print("## \(p.displayName), d = \(p.dimension) (f* = \(fmt(p.fStar)))")
            print("")
            print("| solver | mean final gap | mean log10 gap | best |")
            print("|---|---:|---:|:---:|")
            for c in p.cells {
                print("| \(c.solver) | \(String(format: "%.4g", c.meanFinalGap)) | "
                      + "\(String(format: "%.2f", c.meanLog10Gap)) | \(c.isWinner ? "**winner**" : "") |")
            }
        }
        print("")
        print("## Summary")
        print("")
        if result.summary.isEmpty {
            print("No learned checkpoints given (--checkpoint): only the baselines were compared.")
        } else {
            print("| learned optimizer | beats tuned Adam's final gap | within 10× of L-BFGS's final gap |")
            print("|---|---:|---:|")
            for s in result.summary {
                print("| \(s.solver) | \(s.beatsTunedAdam)/\(s.problems) | \(s.withinTenfoldOfLBFGS)/\(s.problems) |")
            }
            print("")
            for s in result.summary {
                print("\(s.solver): beats tuned Adam on \(s.beatsTunedAdam) of \(s.problems) problems; within 10× of "
                      + "L-BFGS on \(s.withinTenfoldOfLBFGS) of \(s.problems).")
            }
        }
        var wins: [String: Int] = [:]
        for p in result.problems { for w in p.winners { wins[w, default: 0] += 1 } }
        print("")
        print("Winners (ties count for each): "
              + result.solvers.map { "\($0) \(wins[$0, default: 0])/\(problemCount)" }.joined(separator: ", ") + ".")
    }
}
