import Foundation
import LearnedOptimizers
@testable import MetaTraining
import OptimusNumerics
import Testing
@testable import TrainingRuns

/// A small differentiable inner problem with tasks drawn from the particle's stream: f(x) = ½ Σ_j a_j x_j² in three
/// dimensions (a_j ∈ [0.5, 2], x₀ ~ N(0, I)), θ_j the log learning rate of coordinate j: x_j ← x_j − e^{θ_j}·a_j·x_j.
/// Forward-mode gradient: ∂x_j'/∂θ_j = (1 − r_j a_j)·∂x_j/∂θ_j − r_j a_j x_j, ∂f/∂θ_j = a_j x_j·∂x_j/∂θ_j.
struct DiagonalRates: DifferentiableInnerProblem {
    struct State: Codable, Sendable {
        var a: [Double]
        var x: [Double]
    }
    var parameterCount: Int { 3 }
    func stepper(theta: [Float]) -> [Double] { theta.map { exp(Double($0)) } }
    func reset(generator g: inout Xoshiro256StarStar) -> State {
        State(a: (0..<3).map { _ in g.uniform(0.5, 2) }, x: (0..<3).map { _ in g.normal() })
    }
    func step(_ rates: [Double], state: inout State) -> Double {
        var loss = 0.0
        for j in 0..<3 { loss += 0.5 * state.a[j] * state.x[j] * state.x[j] }
        for j in 0..<3 { state.x[j] -= rates[j] * state.a[j] * state.x[j] }
        return loss
    }
    func unrollWithGradient(theta: [Float], state: inout State, steps: Int) -> UnrollGradient {
        let r = stepper(theta: theta)
        var dx = [0.0, 0, 0], gradient = [0.0, 0, 0]
        var losses: [Double] = []
        for _ in 0..<steps {
            var loss = 0.0
            for j in 0..<3 { loss += 0.5 * state.a[j] * state.x[j] * state.x[j] }
            losses.append(loss)
            for j in 0..<3 {
                gradient[j] += state.a[j] * state.x[j] * dx[j]
                dx[j] = (1 - r[j] * state.a[j]) * dx[j] - r[j] * state.a[j] * state.x[j]
            }
            for j in 0..<3 { state.x[j] -= r[j] * state.a[j] * state.x[j] }
        }
        return UnrollGradient(losses: losses, gradient: gradient, finite: gradient.allSatisfy(\.isFinite))
    }
}

/// LearnableRate whose backward pass fails on the tasks its stream marks bad (half of them).
struct SometimesNonFinite: DifferentiableInnerProblem {
    struct State: Codable, Sendable {
        var inner: LearnableRate.State
        var bad: Bool
    }
    var parameterCount: Int { 1 }
    func stepper(theta: [Float]) -> Double { LearnableRate().stepper(theta: theta) }
    func reset(generator g: inout Xoshiro256StarStar) -> State {
        State(inner: LearnableRate().reset(generator: &g), bad: g.next() % 2 == 0)
    }
    func step(_ rate: Double, state: inout State) -> Double { LearnableRate().step(rate, state: &state.inner) }
    func unrollWithGradient(theta: [Float], state: inout State, steps: Int) -> UnrollGradient {
        var r = LearnableRate().unrollWithGradient(theta: theta, state: &state.inner, steps: steps)
        if state.bad {
            r.gradient = [.nan]
            r.finite = false
        }
        return r
    }
}

func learnableRateConfiguration(particles: Int, schedule: TruncationSchedule = .constant(length: 1_000_000))
    -> PESConfiguration
{
    var config = PESConfiguration()
    config.particles = particles
    config.truncationLength = 5
    config.sigma = 0.1
    config.schedule = schedule
    config.initialOffset = 0
    config.seed = 42
    return config
}

@Suite struct BackpropEstimatorTests {
    static let theta = Double(Float(log(0.1)))

    /// Σ_{s<count} ∂/∂θ ½ x_s²(1 − r)^{2s} with x_s (the segment's start) a constant: ½x_s²·2s(1 − r)^{2s−1}·(−r).
    static func segmentGradient(start xs: Double, count: Int) -> Double {
        let r = exp(theta)
        return (0..<count).reduce(0) { $0 + 0.5 * xs * xs * 2 * Double($1) * pow(1 - r, Double(2 * $1 - 1)) * -r }
    }

    static func segmentLoss(start xs: Double, count: Int) -> Double {
        let r = exp(theta)
        return (0..<count).reduce(0) { $0 + 0.5 * xs * xs * pow(1 - r, Double(2 * $1)) }
    }

    /// Truncation k of U steps without resets starts at x = (1 − r)^{kU}; the un-smoothed truncated meta-loss is the
    /// mean of its U losses, its gradient ``segmentGradient(start:count:)``/U.
    @Test(arguments: [0, 2]) func gradientIsTheExactTruncatedGradient(truncation k: Int) {
        let trainer = MetaTrainer(estimator: BackpropEstimator(problem: LearnableRate(),
                                                               configuration: learnableRateConfiguration(particles: 2)))
        var state = trainer.initialState(theta: [Float(Self.theta)])
        var last: [ParticleEstimate] = []
        for _ in 0...k { last = trainer.unroll(&state) }
        let start = pow(1 - exp(Self.theta), Double(k * 5))
        let exact = Self.segmentGradient(start: start, count: 5) / 5
        for r in last {
            #expect(abs(r.gradient[0] - exact) <= 1e-10 * abs(exact), "\(r.gradient[0]) vs \(exact)")
            #expect(abs(r.loss - Self.segmentLoss(start: start, count: 5) / 5) <= 1e-12)
            #expect(!r.empty && !r.nonFinite)
        }
        let reduced = trainer.estimator.reduce(last)
        #expect(abs(reduced.gradient[0] - exact) <= 1e-10 * abs(exact) && reduced.innerSteps == 2 * 5)
    }

    /// With trajectories of 3 steps and U = 5, truncation 0 is [steps 0–2 | reset | step 0 of the next trajectory]
    /// and truncation 1 [steps 1–2 | reset | steps 0–1]: segments split at the resets, n = 4 train steps each.
    @Test func segmentsSplitAtResets() {
        let trainer = MetaTrainer(estimator: BackpropEstimator(
            problem: LearnableRate(), configuration: learnableRateConfiguration(particles: 1, schedule: .constant(length: 3))))
        var state = trainer.initialState(theta: [Float(Self.theta)])
        let first = trainer.unroll(&state)[0], second = trainer.unroll(&state)[0]
        let r = exp(Self.theta)
        let g0 = (Self.segmentGradient(start: 1, count: 3) + Self.segmentGradient(start: 1, count: 1)) / 4
        let l0 = (Self.segmentLoss(start: 1, count: 3) + Self.segmentLoss(start: 1, count: 1)) / 4
        let g1 = (Self.segmentGradient(start: 1 - r, count: 2) + Self.segmentGradient(start: 1, count: 2)) / 4
        let l1 = (Self.segmentLoss(start: 1 - r, count: 2) + Self.segmentLoss(start: 1, count: 2)) / 4
        #expect(abs(first.gradient[0] - g0) <= 1e-12 && abs(first.loss - l0) <= 1e-12)
        #expect(abs(second.gradient[0] - g1) <= 1e-12 && abs(second.loss - l1) <= 1e-12)
    }

    /// Backprop and hybrid walk the trajectories exactly as PES does: same tasks, stagger, lengths and reset slots.
    @Test func trajectoriesFollowPESsSchedule() {
        var config = PESConfiguration()
        config.particles = 3
        config.truncationLength = 4
        config.schedule = .logUniform(minimum: 2, maximum: 9)
        config.initialOffset = 6
        config.seed = 5
        let theta: [Float] = [-1, -0.5, -2]
        let pes = PESTrainer(problem: DiagonalRates(), configuration: config)
        let backprop = MetaTrainer(estimator: BackpropEstimator(problem: DiagonalRates(), configuration: config))
        let hybrid = MetaTrainer(estimator: HybridEstimator(problem: DiagonalRates(), configuration: config))
        var a = pes.initialState(theta: theta), b = backprop.initialState(theta: theta), c = hybrid.initialState(theta: theta)
        for _ in 0..<12 {
            _ = pes.unroll(&a)
            _ = backprop.unroll(&b)
            _ = hybrid.unroll(&c)
            for i in 0..<3 {
                let p = a.particles[i]
                #expect(p.innerStep == b.particles[i].innerStep && p.length == b.particles[i].length)
                #expect(p.done == b.particles[i].done && p.generator == b.particles[i].generator)
                #expect(p.innerStep == c.particles[i].innerStep && p.generator == c.particles[i].generator)
                // At θ itself the backprop trajectory is PES's pair's midpoint: with the pair's a and the same tasks.
                #expect(p.positive.a == b.particles[i].state.a && p.positive.a == c.particles[i].positive.a)
            }
        }
    }

    /// A non-finite backward pass zeroes that particle's gradient and counts it; the others are unaffected, and the
    /// outer step is counted as non-finite.
    @Test func nonFiniteSegmentsZeroTheParticle() {
        let config = learnableRateConfiguration(particles: 8)
        let trainer = MetaTrainer(estimator: BackpropEstimator(problem: SometimesNonFinite(), configuration: config))
        let reference = MetaTrainer(estimator: BackpropEstimator(problem: LearnableRate(), configuration: config))
        var state = trainer.initialState(theta: [Float(BackpropEstimatorTests.theta)])
        var referenceState = reference.initialState(theta: state.theta)
        let bad = state.particles.map(\.state.bad)
        #expect(bad.contains(true) && bad.contains(false))
        var copy = state
        let estimates = trainer.unroll(&copy)
        let good = reference.unroll(&referenceState)[0].gradient[0]
        for (e, isBad) in zip(estimates, bad) {
            #expect(e.nonFinite == isBad && e.gradient[0] == (isBad ? 0 : good) && e.loss.isFinite)
        }
        let reduced = trainer.estimator.reduce(estimates)
        #expect(reduced.nonFiniteParticles == bad.filter { $0 }.count)
        #expect(abs(reduced.gradient[0] - good * Double(bad.filter { !$0 }.count) / 8) <= 1e-15)
        let report = trainer.step(&state)
        #expect(report.nonFinite && report.nonFiniteParticles == reduced.nonFiniteParticles)
        #expect(state.nonFiniteGradients == 1 && state.theta[0].isFinite)
    }
}

@Suite struct HybridEstimatorTests {
    /// The un-smoothed truncation-0 gradient of LearnableRate at θ = log 0.1: L(θ) = (1/U) Σ_{t<U} ½(1 − e^θ)^{2t}.
    static var unsmoothed: Double { BackpropEstimatorTests.segmentGradient(start: 1, count: 5) / 5 }

    /// The smoothing bias in closed form: (1 − e^θ)^p = Σ_m C(p, m)(−1)^m e^{mθ} and E[e^{m(θ+ε)}] = e^{mθ + m²σ²/2},
    /// so ∇L_σ(θ) − ∇L(θ) = (1/U) Σ_t ½ Σ_m C(2t, m)(−1)^m m e^{mθ}(e^{m²σ²/2} − 1) = (σ²/2)·L‴(θ) + O(σ⁴).
    static func smoothingBias(theta: Double, sigma: Double) -> Double {
        var total = 0.0
        for t in 0..<5 {
            let p = 2 * t
            var binomial = 1.0
            for m in 0...p {
                if m > 0 { binomial = binomial * Double(p - m + 1) / Double(m) }
                let sign = m % 2 == 0 ? 1.0 : -1.0
                total += 0.5 * binomial * sign * Double(m) * exp(Double(m) * theta) * (exp(Double(m * m) * sigma * sigma / 2) - 1)
            }
        }
        return total / 5
    }

    /// On truncation 0 (x₀ = 1 fixed for both members) the hybrid estimates ∇L_σ(θ), the gradient of the
    /// Gaussian-smoothed truncated loss, like truncated ES: both of its halves are unbiased for it.
    ///
    /// Standard error: the estimate is ĝ = w·ḡ_RP + (1 − w)·ḡ_ES = mean_i c_i with c_i = w·rp_i + (1 − w)·es_i. With w
    /// treated as fixed the c_i are i.i.d., so SE = sd(c_i)/√K. That w is estimated from the same particles adds a
    /// bias of order Cov(ŵ, ḡ_RP − ḡ_ES) = O(1/K) (and a variance of order 1/K²), negligible at K = 4000 where
    /// w ≈ 1 − 2·10⁻⁶ (V_RP ≈ 1.3·10⁻¹¹ against V_ES ≈ 7·10⁻⁶: the smooth one-parameter unroll favours the
    /// reparameterization).
    ///
    /// Smoothing bias at θ = log 0.1 (as a Float), σ = 0.1: ∇L = −0.120853, ∇L_σ − ∇L = +1.6147·10⁻⁴ (the leading term
    /// (σ²/2)·L‴ alone is 1.5945·10⁻⁴). The SE here is ≈ 3.6·10⁻⁶, so the test also tells the smoothed gradient from the
    /// un-smoothed one (backprop's): the hybrid is more than 10 SE from the latter.
    @Test func hybridEstimatesTheSmoothedTruncatedGradient() throws {
        let theta = BackpropEstimatorTests.theta
        let smoothed = PESStatisticalTests().analyticGradient(theta: theta, sigma: 0.1, truncation: 0, length: 5)
        let plain = Self.unsmoothed
        let bias = Self.smoothingBias(theta: theta, sigma: 0.1)
        #expect(abs(plain - -0.120853) < 5e-7)
        #expect(abs((smoothed - plain) - bias) < 1e-10, "quadrature \(smoothed - plain) vs closed form \(bias)")
        #expect(abs(bias - 1.6147e-4) < 1e-8)

        let trainer = MetaTrainer(estimator: HybridEstimator(problem: LearnableRate(),
                                                             configuration: learnableRateConfiguration(particles: 4000)))
        var state = trainer.initialState(theta: [Float(theta)])
        let particles = trainer.unroll(&state)
        let estimate = trainer.estimator.reduce(particles)
        let combination = try #require(estimate.hybrid)
        let w = combination.reparameterizationWeight
        let c = particles.map { w * $0.secondGradient[0] + (1 - w) * $0.gradient[0] }
        let standardError = Statistics.standardDeviation(c) / Double(c.count).squareRoot()
        #expect(abs(estimate.gradient[0] - Statistics.mean(c)) < 1e-15)
        #expect(abs(estimate.gradient[0] - smoothed) < 4 * standardError,
                "hybrid \(estimate.gradient[0]) ± \(standardError), smoothed \(smoothed), w \(w)")
        #expect(abs(estimate.gradient[0] - plain) > 10 * standardError)
        #expect(w > 0.99 && w < 1)
    }

    /// The reduction is the documented inverse-variance combination, V = Σ_j s²_j / K; one particle: w = ½.
    @Test func reductionIsTheInverseVarianceCombination() throws {
        var config = PESConfiguration()
        config.particles = 6
        config.truncationLength = 4
        config.sigma = 0.05
        config.schedule = .logUniform(minimum: 2, maximum: 9)
        config.seed = 11
        let trainer = MetaTrainer(estimator: HybridEstimator(problem: DiagonalRates(), configuration: config))
        var state = trainer.initialState(theta: [-1, -0.5, -2])
        _ = trainer.unroll(&state)
        let particles = trainer.unroll(&state)
        let estimate = trainer.estimator.reduce(particles)
        let combination = try #require(estimate.hybrid)
        func pooled(_ values: [[Double]]) -> Double {
            (0..<3).reduce(0) { sum, j in sum + Statistics.variance(values.map { $0[j] }) } / 6
        }
        let ves = pooled(particles.map(\.gradient)), vrp = pooled(particles.map(\.secondGradient))
        #expect(abs(try #require(combination.esVariance) - ves) <= 1e-12 * ves)
        #expect(abs(try #require(combination.reparameterizationVariance) - vrp) <= 1e-12 * vrp)
        let w = ves / (ves + vrp)
        #expect(abs(combination.reparameterizationWeight - w) <= 1e-12)
        for j in 0..<3 {
            let es = Statistics.mean(particles.map { $0.gradient[j] }), rp = Statistics.mean(particles.map { $0.secondGradient[j] })
            #expect(abs(estimate.gradient[j] - (w * rp + (1 - w) * es)) <= 1e-12 * max(abs(es), abs(rp)))
        }
        let single = trainer.estimator.reduce([particles[0]])
        #expect(single.hybrid == HybridCombination(esVariance: nil, reparameterizationVariance: nil, reparameterizationWeight: 0.5))
        #expect(single.gradient == (0..<3).map { 0.5 * particles[0].secondGradient[$0] + 0.5 * particles[0].gradient[$0] })
    }
}

@Suite struct MetaTrainerTests {
    /// The norm clip scales the element-wise-clipped gradient to norm c: Adam's first moment after one step is
    /// (1 − β₁)·g·c/‖g‖; the report gives ‖g‖ before the norm clip.
    @Test func gradientNormClipScalesTheGradient() {
        var config = PESConfiguration()
        config.particles = 3
        config.truncationLength = 4
        config.schedule = .constant(length: 50)
        config.gradientClip = 0
        config.seed = 2
        let theta: [Float] = [-1, -0.5, -2]
        let plain = MetaTrainer(estimator: BackpropEstimator(problem: DiagonalRates(), configuration: config))
        var probe = plain.initialState(theta: theta)
        let g = plain.estimate(&probe).gradient
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        config.gradientNormClip = norm / 4
        let clipped = MetaTrainer(estimator: BackpropEstimator(problem: DiagonalRates(), configuration: config))
        var state = clipped.initialState(theta: theta)
        let report = clipped.step(&state)
        #expect(abs(report.gradientNorm - norm) <= 1e-15 * norm)
        for j in 0..<3 { #expect(abs(state.adamFirst[j] - 0.1 * g[j] / 4) <= 1e-14 * abs(g[j])) }
        // Off by default: the same step without it has the unscaled moment.
        var unclipped = plain.initialState(theta: theta)
        _ = plain.step(&unclipped)
        for j in 0..<3 { #expect(abs(unclipped.adamFirst[j] - 0.1 * g[j]) <= 1e-14 * abs(g[j])) }
    }
}

/// One estimator's trainer on the DiagonalRates problem.
func diagonalTrainer<E: MetaGradientEstimator>(
    _ make: (DiagonalRates, PESConfiguration) -> E, threads: Int, communicator: any ParticleCommunicator = SingleProcess()
) -> MetaTrainer<E> {
    var config = PESConfiguration()
    config.particles = 5
    config.truncationLength = 4
    config.sigma = 0.05
    config.schedule = .logUniform(minimum: 3, maximum: 9)
    config.initialOffset = 5
    config.learningRate = 0.05
    config.threads = threads
    config.seed = 9
    return MetaTrainer(estimator: make(DiagonalRates(), config), communicator: communicator)
}

@Suite struct EstimatorDeterminismTests {
    static let theta0: [Float] = [-1, -0.5, -2]

    func checkThreadsAndResume<E: MetaGradientEstimator>(_ make: (DiagonalRates, PESConfiguration) -> E) throws {
        let serial = diagonalTrainer(make, threads: 1), parallel = diagonalTrainer(make, threads: 0)
        var a = serial.initialState(theta: Self.theta0), b = parallel.initialState(theta: Self.theta0)
        for _ in 0..<6 {
            _ = serial.step(&a)
            _ = parallel.step(&b)
        }
        #expect(a.theta.map(\.bitPattern) == b.theta.map(\.bitPattern))
        #expect(try BinaryCoder.encode(a) == BinaryCoder.encode(b))
        #expect(a.theta != Self.theta0 && a.theta.allSatisfy(\.isFinite))
        var first = parallel.initialState(theta: Self.theta0)
        for _ in 0..<3 { _ = parallel.step(&first) }
        var resumed = try BinaryCoder.decode(MetaTrainer<E>.State.self, from: BinaryCoder.encode(first))
        for _ in 0..<3 { _ = parallel.step(&resumed) }
        #expect(resumed.theta.map(\.bitPattern) == a.theta.map(\.bitPattern))
        #expect(try BinaryCoder.encode(resumed) == BinaryCoder.encode(a))
    }

    @Test func backpropIsBitIdenticalForThreadsAndResume() throws {
        try checkThreadsAndResume { BackpropEstimator(problem: $0, configuration: $1) }
    }

    @Test func hybridIsBitIdenticalForThreadsAndResume() throws {
        try checkThreadsAndResume { HybridEstimator(problem: $0, configuration: $1) }
    }

    @Test func truncatedESIsBitIdenticalForThreadsAndResume() throws {
        try checkThreadsAndResume { TruncatedESEstimator(problem: $0, configuration: $1) }
    }

    /// Two processes (threads exchanging through an in-memory communicator) give the single process's θ and state.
    func checkTwoProcesses<E: MetaGradientEstimator>(_ make: @escaping @Sendable (DiagonalRates, PESConfiguration) -> E) throws {
        let single = diagonalTrainer(make, threads: 1)
        var reference = single.initialState(theta: Self.theta0)
        for _ in 0..<4 { _ = single.step(&reference) }
        let group = LoopbackGroup(size: 2)
        let results = ResultBox<MetaTrainer<E>.State>(count: 2)
        let done = DispatchGroup()
        for rank in 0..<2 {
            done.enter()
            let thread = Thread {
                let trainer = diagonalTrainer(make, threads: 1, communicator: LoopbackRank(group: group, rank: rank))
                var state = trainer.initialState(theta: Self.theta0)
                for _ in 0..<4 { _ = trainer.step(&state) }
                try? trainer.synchronizeParticles(&state)
                results.set(rank, state)
                done.leave()
            }
            thread.start()
        }
        done.wait()
        for rank in 0..<2 {
            let state = try #require(results.get(rank))
            #expect(state.theta.map(\.bitPattern) == reference.theta.map(\.bitPattern))
            #expect(try BinaryCoder.encode(state) == BinaryCoder.encode(reference))
        }
    }

    @Test func hybridAndPESAreBitIdenticalOverTwoProcesses() throws {
        try checkTwoProcesses { HybridEstimator(problem: $0, configuration: $1) }
        try checkTwoProcesses { PESEstimator(problem: $0, configuration: $1) }
        try checkTwoProcesses { BackpropEstimator(problem: $0, configuration: $1) }
    }
}

/// An in-memory stand-in for MPI: `size` ranks (threads) that sum buffers and gather bytes in rank order.
final class LoopbackGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    private var sums: [[Double]?]
    private var gathered: [[UInt8]?]
    private var sumResult: [Double] = []
    private var gatherResult: [[UInt8]] = []

    init(size: Int) {
        self.size = size
        sums = Array(repeating: nil, count: size)
        gathered = Array(repeating: nil, count: size)
    }

    private func rendezvous(_ deposit: () -> Void, _ combine: () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        let current = generation
        deposit()
        arrived += 1
        if arrived == size {
            combine()
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == current { condition.wait() }
        }
    }

    func allReduceSum(rank: Int, _ values: inout [Double]) {
        let mine = values
        rendezvous({ sums[rank] = mine }, {
            var total = [Double](repeating: 0, count: mine.count)
            for r in 0..<size { for j in total.indices { total[j] += sums[r]![j] } }
            sumResult = total
        })
        condition.lock()
        values = sumResult
        condition.unlock()
    }

    func allGather(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        rendezvous({ gathered[rank] = bytes }, { gatherResult = gathered.map { $0! } })
        condition.lock()
        defer { condition.unlock() }
        return gatherResult
    }
}

struct LoopbackRank: ParticleCommunicator {
    let group: LoopbackGroup
    let rank: Int
    var size: Int { group.size }
    func allReduceSum(_ values: inout [Double]) { group.allReduceSum(rank: rank, &values) }
    func allGather(_ bytes: [UInt8]) -> [[UInt8]] { group.allGather(rank: rank, bytes) }
}

final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [T?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); values[i] = v; lock.unlock() }
    func get(_ i: Int) -> T? { lock.lock(); defer { lock.unlock() }; return values[i] }
}

@Suite struct EstimatorRunTests {
    /// `optimus train` with the hybrid on Adafactor-MLP: metrics and provenance name the estimator and record the
    /// hybrid's variances and weight, and an extended run continues bit-identically.
    @Test func hybridRunRecordsItsWeightsAndResumes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hybrid-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        func config(_ steps: Int) -> TrainingConfiguration {
            var c = ExtendRunTests.config(steps: steps)
            c.estimator = .hybrid
            c.pes.threads = 0
            return c
        }
        let extended = folder.appendingPathComponent("extended"), straight = folder.appendingPathComponent("straight")
        try MetaTrainingRun.run(configuration: config(2), output: extended, resume: false)
        try MetaTrainingRun.run(configuration: config(4), output: extended, resume: true)
        try MetaTrainingRun.run(configuration: config(4), output: straight, resume: false)
        let a = try Checkpoint.read(from: extended.appendingPathComponent("adafactor-mlp.safetensors"))
        let b = try Checkpoint.read(from: straight.appendingPathComponent("adafactor-mlp.safetensors"))
        #expect(a.parameters.map(\.bitPattern) == b.parameters.map(\.bitPattern))
        #expect(a.provenance["estimator"] == "hybrid" && a.provenance["source"] == "optimus train (hybrid ES + backprop)")
        let metrics = try MetaTrainingRun.readMetrics(extended.appendingPathComponent("metrics.jsonl"))
        #expect(metrics.count == 4)
        for m in metrics {
            #expect(m.estimator == "hybrid" && m.esVariance != nil && m.reparameterizationVariance != nil)
            #expect((0...1).contains(m.reparameterizationWeight ?? -1) && m.innerSteps == 2 * 3 * 2)
        }
        let stored = try TrainingConfiguration.decode(Data(contentsOf: extended.appendingPathComponent("config.json")))
        #expect(stored.estimator == .hybrid && stored == config(4).canonical)
    }
}

@Suite struct CPUBudgetTests {
    /// `--cpu-budget`: a budget below one outer step's CPU time stops after exactly one step with a checkpoint; a
    /// resume under a larger step count and no budget continues to the same θ as a straight run; the recorded
    /// training CPU time never exceeds the total CPU time.
    @Test func budgetStopsWithACheckpointAndTheRunContinues() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("budget-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = ExtendRunTests.config(steps: 3)
        config.validation.every = 1
        let stopped = folder.appendingPathComponent("stopped"), straight = folder.appendingPathComponent("straight")
        try MetaTrainingRun.run(configuration: config, output: stopped, resume: false, cpuBudget: 1e-9)
        var metrics = try MetaTrainingRun.readMetrics(stopped.appendingPathComponent("metrics.jsonl"))
        #expect(metrics.count == 1)
        #expect(FileManager.default.fileExists(atPath: stopped.appendingPathComponent("training-state.bin").path))
        try MetaTrainingRun.run(configuration: config, output: stopped, resume: true)
        try MetaTrainingRun.run(configuration: config, output: straight, resume: false)
        metrics = try MetaTrainingRun.readMetrics(stopped.appendingPathComponent("metrics.jsonl"))
        #expect(metrics.map(\.step) == [1, 2, 3])
        for m in metrics {
            let training = try #require(m.trainingCPUSeconds)
            #expect(training > 0 && training <= m.cpuSeconds + 1e-9, "training \(training) of \(m.cpuSeconds) CPU s")
        }
        let a = try Checkpoint.read(from: stopped.appendingPathComponent("adafactor-mlp.safetensors"))
        let b = try Checkpoint.read(from: straight.appendingPathComponent("adafactor-mlp.safetensors"))
        #expect(a.parameters.map(\.bitPattern) == b.parameters.map(\.bitPattern))
    }
}

@Suite struct HybridExplosionTests {
    /// An exploding backward pass (finite values whose variance overflows) gets weight 0: the hybrid returns the ES
    /// mean, not 0·∞ = NaN (which the learner would zero, losing the ES estimate too).
    @Test func explodingReparameterizationFallsBackToES() {
        let hybrid = HybridEstimator(problem: LearnableRate(), configuration: PESConfiguration())
        let estimate = hybrid.reduce([
            ParticleEstimate(gradient: [1], secondGradient: [1e300], loss: 0, empty: false),
            ParticleEstimate(gradient: [3], secondGradient: [-1e300], loss: 0, empty: false),
        ])
        #expect(estimate.gradient == [2])
        #expect(estimate.hybrid?.reparameterizationWeight == 0)
        // Ordinary variances: w = V_ES/(V_ES + V_RP) with V = s²/K: V_ES = 2/2 = 1, V_RP = 0.02/2 = 0.01.
        let ordinary = hybrid.reduce([
            ParticleEstimate(gradient: [1], secondGradient: [0.9], loss: 0, empty: false),
            ParticleEstimate(gradient: [3], secondGradient: [1.1], loss: 0, empty: false),
        ])
        let w = 1.0 / 1.01
        #expect(abs(ordinary.gradient[0] - (w * 1.0 + (1 - w) * 2.0)) < 1e-12)
    }
}

@Suite struct MetricsThinningTests {
    /// `metricsEvery`: lines at its multiples, at checkpoints and at the end, each with the mean loss and the summed
    /// inner steps of the outer steps since the previous line; training itself is unchanged (θ bit-identical).
    @Test func thinnedMetricsAreMeansOverTheirWindow() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thin-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = ExtendRunTests.config(steps: 7)
        config.validation.every = 0
        config.checkpointEvery = 5
        try MetaTrainingRun.run(configuration: config, output: folder.appendingPathComponent("every"), resume: false)
        config.metricsEvery = 3
        try MetaTrainingRun.run(configuration: config, output: folder.appendingPathComponent("thin"), resume: false)
        let every = try MetaTrainingRun.readMetrics(folder.appendingPathComponent("every/metrics.jsonl"))
        let thin = try MetaTrainingRun.readMetrics(folder.appendingPathComponent("thin/metrics.jsonl"))
        #expect(thin.map(\.step) == [3, 5, 6, 7])
        let windows = [1...3, 4...5, 6...6, 7...7]
        for (line, window) in zip(thin, windows) {
            let steps = every.filter { window.contains($0.step) }
            let mean = steps.map(\.loss).reduce(0, +) / Double(steps.count)
            #expect(abs(line.loss - mean) <= 1e-12 * max(1, abs(mean)))
            #expect(line.innerSteps == steps.map(\.innerSteps).reduce(0, +))
        }
        let a = try Checkpoint.read(from: folder.appendingPathComponent("every/adafactor-mlp.safetensors"))
        let b = try Checkpoint.read(from: folder.appendingPathComponent("thin/adafactor-mlp.safetensors"))
        #expect(a.parameters.map(\.bitPattern) == b.parameters.map(\.bitPattern))
    }
}
