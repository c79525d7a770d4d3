// optimus-bench: seconds per iteration of BFGS and L-BFGS, side by side with scipy; per-step time of the learned
// optimizers.
//
// Usage: optimus-bench [--dimensions 250,1000] [--iterations 100] [--repeats 3] [--seed 1] [--scipy FILE]
//        optimus-bench learned [--dimensions 10,100,250,500,1000,2000] [--seconds 1]
//        optimus-bench physics [--window 1] [--repeats 3]
//        optimus-bench meta-gradient [--dimensions 10,50,100] [--seconds 1]
//
// With --scipy FILE (the JSON written by scripts/scipy_bfgs_benchmark.py in the same run), the same problems are
// timed from the same starting points and the table shows scipy's time per iteration divided by ours.
// BLAS runs single-threaded, as scipy is run by that script (OPENBLAS_NUM_THREADS=1).
import Foundation
import OptimusKit

// As the `optimus` command does: freed memory stays in the process (``Allocator/retainFreedMemory()``).
Allocator.retainFreedMemory()

struct ScipyRecord: Decodable {
    var solver: String
    var function: String
    var dimension: Int
    var secondsPerIteration: Double
    var iterations: Int
    var finalValue: Double
    var x0: [Double]?
}

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

if CommandLine.arguments.dropFirst().first == "physics" {
    benchmarkPhysics(windowSeconds: Double(argument("--window") ?? "1") ?? 1, repeats: Int(argument("--repeats") ?? "3") ?? 3)
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "meta-gradient" {
    let dims = (argument("--dimensions") ?? "10,50,100").split(separator: ",").compactMap { Int($0) }
    benchmarkMetaGradient(dimensions: dims, minimumSeconds: Double(argument("--seconds") ?? "1") ?? 1)
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "learned" {
    let dims = (argument("--dimensions") ?? "10,100,250,500,1000,2000").split(separator: ",").compactMap { Int($0) }
    benchmarkLearned(dimensions: dims, minimumSeconds: Double(argument("--seconds") ?? "1") ?? 1)
    exit(0)
}

let dimensions = (argument("--dimensions") ?? "1000").split(separator: ",").compactMap { Int($0) }
let iterations = Int(argument("--iterations") ?? "100") ?? 100
let repeats = Int(argument("--repeats") ?? "3") ?? 3
let seed = UInt64(argument("--seed") ?? "1") ?? 1
var scipy: [ScipyRecord] = []
if let path = argument("--scipy") {
    guard let data = FileManager.default.contents(atPath: path),
          let records = try? JSONDecoder().decode([ScipyRecord].self, from: data) else {
        FileHandle.standardError.write(Data("optimus-bench: cannot read scipy records from \(path)\n".utf8))
        exit(65)
    }
    scipy = records
}
BLAS.setThreadCount(1)

func timeRuns(_ objective: BenchmarkObjective, _ x0: [Double], _ optimizer: any Optimizer)
    -> (secondsPerIteration: Double, result: MinimizationResult)
{
    var best = Double.infinity
    var last: MinimizationResult?
    for _ in 0..<repeats {
        let clock = ContinuousClock()
        let start = clock.now
        let r = try? minimize(objective, from: x0, using: optimizer,
                              options: .init(maxIterations: iterations, gradientTolerance: 1e-5))
        let d = clock.now - start
        let s = d.inSeconds
        if let r { best = min(best, s / Double(max(1, r.iterations))); last = r }
    }
    return (best, last!)
}

print("| solver | function | d | iterations | f final | ours s/iter | scipy s/iter | scipy / ours |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for d in dimensions {
    for function in [BenchmarkFunction.rosenbrock, .sumSquares] {
        guard let objective = try? BenchmarkObjective(function, dimension: d) else { continue }
        for (name, optimizer) in [("bfgs", AnyOptimizer(BFGS())), ("lbfgs", AnyOptimizer(LBFGS()))] {
            let reference = scipy.first {
                $0.function == function.rawValue && $0.dimension == d
                    && $0.solver.lowercased().replacingOccurrences(of: "-b", with: "") == name
            }
            var generator = Xoshiro256StarStar(seed: seed)
            let x0 = reference?.x0 ?? objective.randomStart(using: &generator)
            let (perIteration, r) = timeRuns(objective, x0, optimizer)
            let theirs = reference.map { String(format: "%.3e", $0.secondsPerIteration) } ?? "-"
            let ratio = reference.map { String(format: "%.1f×", $0.secondsPerIteration / perIteration) } ?? "-"
            print("| \(name) | \(function.rawValue) | \(d) | \(r.iterations) | \(String(format: "%.3g", r.finalValue)) "
                  + "| \(String(format: "%.3e", perIteration)) | \(theirs) | \(ratio) |")
        }
    }
}
