import ArgumentParser
import Foundation
import OptimusKit

/// `optimus heldout`: trained optimizers vs tuned Adam and L-BFGS on held-out tasks of the training distribution.
struct HeldOut: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heldout",
        abstract: "Compare learned-optimizer checkpoints with tuned Adam and L-BFGS on held-out tasks (d ≤ 100).")

    @Option(name: .customLong("checkpoint"), help: "A learned-optimizer checkpoint (repeat for several).")
    var checkpoints: [String] = []

    @Option(parsing: .unconditional, help: "Number of held-out tasks.")
    var tasks: Int = 32

    @Option(parsing: .unconditional, help: "Seed of the held-out tasks. The training configs validate (and pick the best θ) on seed 9999, so the default is a different task set.", transform: parseSeed)
    var seed: UInt64 = 4242

    @Option(parsing: .unconditional, help: "Evaluation budget per run (one step = one evaluation for the learned optimizers).")
    var budget: Int = 50

    @Option(parsing: .unconditional, help: "Largest dimension.")
    var maxDimension: Int = 100

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func validate() throws {
        guard tasks >= 1 else { throw ValidationError("tasks: must be ≥ 1") }
        guard budget >= 2 else { throw ValidationError("budget: must be ≥ 2") }
        guard (2...4096).contains(maxDimension) else { throw ValidationError("max-dimension: must be in 2…4096") }
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
        let distribution = TaskDistribution(maximumDimension: maxDimension)
        var g = Xoshiro256StarStar(seed: seed)
        let taskList = (0..<tasks).map { _ in distribution.sample(using: &g) }
        var result = HeldOutComparison.run(tasks: taskList, budget: budget, learned: learned)
        result.seed = seed
        if json {
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
}
