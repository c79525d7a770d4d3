import Foundation
import OptimusKit

/// Cost of one inner step of meta-training: the plain step (what PES runs, twice per step for its antithetic pair)
/// against the differentiated step (forward with records, backward, one Hessian–vector product), per model and
/// dimension, single-threaded BLAS, measured alternately in one run.
func benchmarkMetaGradient(dimensions: [Int], minimumSeconds: Double) {
    BLAS.setThreadCount(1)
    print("| model | N | plain step ms | differentiated step ms | ratio |")
    print("|---|---:|---:|---:|---:|")
    let loss: StepLoss = { f in (log10(max(f, 1e-300)), 1 / (max(f, 1e-300) * log(10.0))) }
    for (name, configuration) in [("optimus (small)", Optimus.Configuration.small), ("optimus (paper)", .paper)] {
        let model = Optimus(configuration: configuration)
        let theta = model.initialParameters(seed: 1)
        let optimizer = model.optimizer(theta: theta)
        for n in dimensions {
            guard let objective = try? BenchmarkObjective(.rosenbrock, dimension: n) else { continue }
            var g = Xoshiro256StarStar(seed: UInt64(n))
            let x0 = g.uniform(-1, 1, count: n)
            func plain() -> Double {
                let clock = ContinuousClock(), start = clock.now
                var steps = 0
                repeat {
                    // Every 10 steps from the same start, as the differentiated unroll is timed: a trajectory left to
                    // run for a second drifts into values (tiny activations, subnormal floats) whose cost says
                    // nothing about the step.
                    var s = optimizer.makeState(start: x0)
                    for _ in 0..<10 {
                        let (f, gr) = objective.valueAndGradient(at: s.point)
                        _ = optimizer.update(&s, value: f, gradient: gr)
                    }
                    steps += 10
                } while (clock.now - start).inSeconds < minimumSeconds
                return (clock.now - start).inSeconds / Double(steps)
            }
            func differentiated() -> Double {
                let clock = ContinuousClock(), start = clock.now
                var steps = 0
                repeat {
                    var s = optimizer.makeState(start: x0)
                    _ = model.unrollGradient(theta: theta, state: &s, objective: objective, steps: 10, loss: loss)
                    steps += 10
                } while (clock.now - start).inSeconds < minimumSeconds
                return (clock.now - start).inSeconds / Double(steps)
            }
            var a = Double.infinity, b = Double.infinity
            for _ in 0..<2 {
                a = min(a, plain())
                b = min(b, differentiated())
            }
            print("| \(name) | \(n) | \(String(format: "%.3f", a * 1000)) | \(String(format: "%.3f", b * 1000)) "
                  + "| \(String(format: "%.2f", b / a)) |")
        }
    }
}
