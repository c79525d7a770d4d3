import Foundation
import OptimusKit

/// Per-step time and achieved GFLOP/s of AdafactorMLP (paper preset) and Optimus (paper preset), single-threaded
/// BLAS, beside the machine's single-thread sgemm rate measured in the same run.
func benchmarkLearned(dimensions: [Int], minimumSeconds: Double) {
    BLAS.setThreadCount(1)
    let sgemm = measureSgemm(minimumSeconds: minimumSeconds)
    print("Single-thread sgemm (1000×128·128×128 and 1000×1000·1000×128 mix): \(String(format: "%.1f", sgemm)) GFLOP/s")
    print("")
    print("| model | N | ms/step | counted GFLOP/step | GFLOP/s | % of sgemm |")
    print("|---|---:|---:|---:|---:|---:|")
    let adafactor = AdafactorMLP(configuration: .paper)
    let optimus = Optimus(configuration: .paper)
    let adafactorOptimizer = AnyOptimizer(adafactor.optimizer(theta: adafactor.initialParameters(seed: 1)))
    let optimusOptimizer = AnyOptimizer(optimus.optimizer(theta: optimus.initialParameters(seed: 1)))
    for n in dimensions {
        let adafactorFlops = Double(n * adafactor.mlp.flopsPerRow)
        for (name, optimizer, flops) in [("adafactor-mlp (paper)", adafactorOptimizer, adafactorFlops),
                                         ("optimus (paper)", optimusOptimizer, Double(optimus.flops(dimension: n)))] {
            var g = Xoshiro256StarStar(seed: UInt64(n))
            var state = optimizer.makeState(start: g.uniform(-1, 1, count: n))
            let gradient = g.normal(count: n)
            _ = optimizer.update(&state, value: 1, gradient: gradient)  // warm-up
            let clock = ContinuousClock()
            var steps = 0
            let start = clock.now
            var elapsed = 0.0
            repeat {
                _ = optimizer.update(&state, value: 1, gradient: gradient)
                steps += 1
                elapsed = (clock.now - start).inSeconds
            } while elapsed < minimumSeconds || steps < 3
            let perStep = elapsed / Double(steps)
            let rate = flops / perStep / 1e9
            print("| \(name) | \(n) | \(String(format: "%.3f", perStep * 1000)) | \(String(format: "%.4f", flops / 1e9)) "
                  + "| \(String(format: "%.1f", rate)) | \(String(format: "%.0f", 100 * rate / sgemm)) |")
        }
    }
}


/// GFLOP/s of single-thread sgemm on the shapes that dominate Optimus at N = 1000.
func measureSgemm(minimumSeconds: Double) -> Double {
    var g = Xoshiro256StarStar(seed: 0)
    func random(_ r: Int, _ c: Int) -> Matrix<Float> {
        Matrix(rows: r, columns: c, storage: (0..<(r * c)).map { _ in Float(g.uniform(-1, 1)) })
    }
    let x = random(1000, 128), w = random(128, 128), p = random(1000, 1000), v = random(1000, 128)
    var c1 = Matrix<Float>(rows: 1000, columns: 128), c2 = Matrix<Float>(rows: 1000, columns: 128)
    let flopsPerRound = 2.0 * 1000 * 128 * 128 + 2.0 * 1000 * 1000 * 128
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = 0
    var elapsed = 0.0
    repeat {
        BLAS.gemm(x, w, into: &c1)
        BLAS.gemm(p, v, into: &c2)
        rounds += 1
        elapsed = (clock.now - start).inSeconds
    } while elapsed < minimumSeconds
    return flopsPerRound * Double(rounds) / elapsed / 1e9
}
