import Foundation
import LearnedOptimizers
@testable import MetaTraining
import Objectives
import OptimusNumerics
import TaskFamilies
import Testing

@Suite struct PESGoldenTests {
    /// `docs/adafactor-mlp-and-pes.md`, *Golden test: PES gradient*: the library's `compute_pes_grad`.
    @Test func reproducesTheLibrarysPESGradient() {
        let positive: [[Double]] = [[1.0, 2.0], [0.8, 1.5], [0.6, 0.0], [0.5, 3.0]]
        let negative: [[Double]] = [[1.1, 2.0], [0.9, 1.7], [0.7, 0.0], [0.4, 2.5]]
        let xiPrevious: [[Double]] = [[0.2, -0.1], [0.05, 0.3]]
        let epsilon: [[Double]] = [[0.1, 0.2], [-0.1, 0.1]]
        var gradient = [0.0, 0.0]
        var loss = 0.0
        var accumulators: [[Double]] = []
        for i in 0..<2 {
            let r = PESGradient.particle(
                positive: positive.map { $0[i] }, negative: negative.map { $0[i] },
                done: (0..<4).map { t in i == 1 && t == 1 }, mask: (0..<4).map { t in !(i == 1 && t == 2) },
                epsilon: epsilon[i], accumulator: xiPrevious[i], sigma: 0.1)
            for j in 0..<2 { gradient[j] += r.gradient[j] / 2 }
            loss += r.loss / 2
            accumulators.append(r.accumulator)
        }
        #expect(abs(gradient[0] - -0.625) < 1e-12 && abs(gradient[1] - 0.125) < 1e-12, "\(gradient)")
        #expect(zip(accumulators.joined(), [0.3, 0.1, -0.1, 0.1]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs(loss - 1.4333334) < 1e-6)
    }
}

/// A learnable-learning-rate optimizer on f(x) = ½x² from x₀ = 1: θ = [log lr], x ← x − e^θ·x, loss ½x².
struct LearnableRate: InnerProblem {
    struct State: Codable, Sendable { var x: Double }
    var parameterCount: Int { 1 }
    func stepper(theta: [Float]) -> Double { exp(Double(theta[0])) }
    func reset(generator: inout Xoshiro256StarStar) -> State { State(x: 1) }
    func step(_ rate: Double, state: inout State) -> Double {
        let loss = 0.5 * state.x * state.x
        state.x -= rate * state.x
        return loss
    }
}

/// LearnableRate's truncated unroll differentiated exactly, by forward mode: with r = e^θ and x at entry a constant,
/// ∂x_{t+1}/∂θ = (1 − r)·∂x_t/∂θ − r·x_t and ∂ℓ_t/∂θ = x_t·∂x_t/∂θ. The state advances by the same expression as
/// ``LearnableRate/step(_:state:)`` (bit-identical).
extension LearnableRate: DifferentiableInnerProblem {
    func unrollWithGradient(theta: [Float], state: inout State, steps: Int) -> UnrollGradient {
        let r = stepper(theta: theta)
        var dx = 0.0, gradient = 0.0
        var losses: [Double] = []
        for _ in 0..<steps {
            losses.append(0.5 * state.x * state.x)
            gradient += state.x * dx
            dx = (1 - r) * dx - r * state.x
            state.x -= r * state.x
        }
        return UnrollGradient(losses: losses, gradient: [gradient], finite: gradient.isFinite && state.x.isFinite)
    }
}

/// E_ε[(1 − e^{θ+ε})^p] and its θ-derivative, ε ~ N(0, σ²), by the trapezoid rule on ±12σ (error ≪ 1e−10 here).
func smoothedFactor(theta: Double, sigma: Double, power: Int) -> (value: Double, derivative: Double) {
    let n = 20_000
    var v = 0.0, d = 0.0
    for k in 0...n {
        let e = -12 * sigma + 24 * sigma * Double(k) / Double(n)
        let w = exp(-e * e / (2 * sigma * sigma)) / (sigma * (2 * Double.pi).squareRoot()) * 24 * sigma / Double(n)
            * (k == 0 || k == n ? 0.5 : 1)
        let r = 1 - exp(theta + e)
        v += w * pow(r, Double(power))
        d += w * Double(power) * pow(r, Double(power - 1)) * -exp(theta + e)
    }
    return (v, d)
}

@Suite struct PESStatisticalTests {
    /// Truncation k (0-based) of length U covers steps kU…(k+1)U−1; step t has loss ½·Π_j (1 − e^{θ+ε_j})^{2 n_j(t)}
    /// where n_j(t) counts the updates made under truncation j's perturbation. The perturbations are independent, so
    /// the smoothed loss factorizes and its gradient is exact (up to the quadrature).
    func analyticGradient(theta: Double, sigma: Double, truncation k: Int, length u: Int) -> Double {
        var total = 0.0
        for t in (k * u)..<((k + 1) * u) {
            var factors: [(Double, Double)] = []
            for j in 0...k {
                let updates = max(0, min(t - j * u, u))  // updates under ε_j before step t's loss
                factors.append(updates == 0 ? (1, 0) : smoothedFactor(theta: theta, sigma: sigma, power: 2 * updates))
            }
            var derivative = 0.0
            for j in factors.indices {
                var term = factors[j].1
                for (m, f) in factors.enumerated() where m != j { term *= f.0 }
                derivative += term
            }
            total += 0.5 * derivative
        }
        return total / Double(u)
    }

    func estimates(persistent: Bool, particles: Int, truncations: Int) -> (mean: Double, standardError: Double) {
        var config = PESConfiguration()
        config.particles = particles
        config.truncationLength = 5
        config.sigma = 0.1
        config.schedule = .constant(length: 1_000_000)
        config.initialOffset = 0
        config.seed = 42
        return persistent ? estimates(PESEstimator(problem: LearnableRate(), configuration: config), truncations)
            : estimates(TruncatedESEstimator(problem: LearnableRate(), configuration: config), truncations)
    }

    func estimates<E: MetaGradientEstimator>(_ estimator: E, _ truncations: Int) -> (mean: Double, standardError: Double) {
        let trainer = MetaTrainer(estimator: estimator)
        var state = trainer.initialState(theta: [Float(log(0.1))])
        var last: [ParticleEstimate] = []
        for _ in 0..<truncations { last = trainer.unroll(&state) }
        let g = last.map { $0.gradient[0] }
        return (Statistics.mean(g), Statistics.standardDeviation(g) / Double(g.count).squareRoot())
    }

    @Test func pesIsUnbiasedAndTruncatedESIsNot() {
        let theta = Double(Float(log(0.1)))
        let exact = analyticGradient(theta: theta, sigma: 0.1, truncation: 2, length: 5)
        let pes = estimates(persistent: true, particles: 4000, truncations: 3)
        let es = estimates(persistent: false, particles: 4000, truncations: 3)
        // PES agrees with the analytic smoothed gradient within 4 standard errors…
        #expect(abs(pes.mean - exact) < 4 * pes.standardError, "PES \(pes.mean) ± \(pes.standardError), exact \(exact)")
        // …truncated ES only sees the last truncation's perturbation: biased by many standard errors.
        #expect(abs(es.mean - exact) > 10 * es.standardError, "ES \(es.mean) ± \(es.standardError), exact \(exact)")
        // On the first truncation both are unbiased estimates of the same thing.
        let exact0 = analyticGradient(theta: theta, sigma: 0.1, truncation: 0, length: 5)
        let es0 = estimates(persistent: false, particles: 4000, truncations: 1)
        #expect(abs(es0.mean - exact0) < 4 * es0.standardError, "ES₀ \(es0.mean) ± \(es0.standardError), exact \(exact0)")
    }
}

@Suite struct TrainerDeterminismTests {
    func trainer(threads: Int) -> PESTrainer<LearnedOptimizerProblem<AdafactorMLP, TaskDistribution>> {
        var config = PESConfiguration()
        config.particles = 4
        config.truncationLength = 5
        config.schedule = .logUniform(minimum: 6, maximum: 15)
        config.initialOffset = 10
        config.threads = threads
        config.seed = 7
        let problem = LearnedOptimizerProblem(model: AdafactorMLP(configuration: .reference),
                                              tasks: TaskDistribution(maximumDimension: 12))
        return PESTrainer(problem: problem, configuration: config)
    }

    @Test func thetaIsBitIdenticalForOneOrManyThreads() {
        let theta0 = AdafactorMLP(configuration: .reference).initialParameters(seed: 1)
        var serial = trainer(threads: 1).initialState(theta: theta0)
        var parallel = trainer(threads: 0).initialState(theta: theta0)
        for _ in 0..<6 {
            _ = trainer(threads: 1).step(&serial)
            _ = trainer(threads: 0).step(&parallel)
        }
        #expect(serial.theta.map(\.bitPattern) == parallel.theta.map(\.bitPattern))
        #expect(serial.theta != theta0)
    }

    @Test func resumeFromACheckpointIsBitIdentical() throws {
        let t = trainer(threads: 0)
        let theta0 = AdafactorMLP(configuration: .reference).initialParameters(seed: 1)
        var straight = t.initialState(theta: theta0)
        for _ in 0..<6 { _ = t.step(&straight) }
        var first = t.initialState(theta: theta0)
        for _ in 0..<3 { _ = t.step(&first) }
        let data = try BinaryCoder.encode(first)
        var resumed = try BinaryCoder.decode(PESTrainer<LearnedOptimizerProblem<AdafactorMLP, TaskDistribution>>.State.self, from: data)
        for _ in 0..<3 { _ = t.step(&resumed) }
        #expect(resumed.theta.map(\.bitPattern) == straight.theta.map(\.bitPattern))
        #expect(resumed.adamSecond.map(\.bitPattern) == straight.adamSecond.map(\.bitPattern))
        #expect(try BinaryCoder.encode(resumed) == BinaryCoder.encode(straight))
    }

    @Test func binaryCoderRejectsTruncatedData() throws {
        let data = try BinaryCoder.encode(trainer(threads: 1).initialState(theta: [Float](repeating: 0.5, count: 197)))
        #expect(throws: (any Error).self) {
            try BinaryCoder.decode(PESTrainer<LearnedOptimizerProblem<AdafactorMLP, TaskDistribution>>.State.self, from: data.prefix(100))
        }
    }
}

@Suite struct TaskDistributionTests {
    @Test func tasksAreReplayableAndDimensionsLogUniform() {
        let distribution = TaskDistribution()
        var g = Xoshiro256StarStar(seed: 3)
        let tasks = (0..<4000).map { _ in distribution.sample(using: &g) }
        #expect(tasks.allSatisfy { (2...100).contains($0.dimension) })
        // Log-uniform on [2, 101): P(d < 10) = ln(10/2)/ln(101/2) ≈ 0.411 (sd of the estimate ≈ 0.008).
        let small = Double(tasks.filter { $0.dimension < 10 }.count) / 4000
        #expect(abs(small - log(5) / log(50.5)) < 0.04)
        #expect(Set(tasks.map(\.function)).count == 15)
        let (a, xa) = tasks[5].build(), (b, xb) = tasks[5].build()
        #expect(a == b && xa == xb && a.isInDomain(xa))
    }

    @Test func normalizerIsScaleFreeAndClipped() {
        let n = MetaLossNormalizer()
        #expect(n.loss(value: 100, start: 100, fStar: 0) == 0)
        #expect(abs(n.loss(value: 1, start: 100, fStar: 0) - -2) < 1e-9)
        #expect(abs(n.loss(value: 1e6 + 1, start: 1e8 + 1, fStar: 1) - -2) < 1e-9)
        #expect(n.loss(value: .nan, start: 1, fStar: 0) == 2)
        #expect(n.loss(value: -5, start: 1, fStar: 0) == -12)
        #expect(n.loss(value: 1e10, start: 1, fStar: 0) == 2)
    }
}
