import Foundation
import LearnedOptimizers
@testable import MetaTraining
import Objectives
import OptimusNumerics
import Testing
import TrainingRuns

/// The code of the outer step as it was before the throughput work (issue 14): perturbation by `normal()` in a
/// `map`, the copying PES estimate, the serial reduction and the serial Adam with `pow` per coordinate. The faster
/// code must give the same bits.
enum FormerOuterStep {
    static func perturbation(_ c: PESConfiguration, theta: [Float], truncation: Int, index: Int)
        -> (epsilon: [Double], plus: [Float], minus: [Float])
    {
        var eg = Xoshiro256StarStar(seed: c.seed ^ 0x5EED_0F_E951_0000, stream: UInt64(truncation) &* 65_536 &+ UInt64(index))
        let sigma = c.sigma
        let epsilon = (0..<theta.count).map { _ in sigma * eg.normal() }
        var plus = theta, minus = theta
        for j in theta.indices {
            plus[j] = Float(Double(theta[j]) + epsilon[j])
            minus[j] = Float(Double(theta[j]) - epsilon[j])
        }
        return (epsilon, plus, minus)
    }

    static func estimate(positive: [Double], negative: [Double], done: [Bool], mask: [Bool], epsilon: [Double],
                         accumulator: [Double], sigma: Double, persistent: Bool)
        -> (gradient: [Double], accumulator: [Double], loss: Double, empty: Bool)
    {
        let u = positive.count
        var finished = false
        var n = 0.0, lOld = 0.0, lNew = 0.0, sumPos = 0.0, sumNeg = 0.0
        for t in 0..<u {
            finished = finished || done[t]
            guard mask[t] else { continue }
            n += 1
            let delta = positive[t] - negative[t]
            if finished { lNew += delta } else { lOld += delta }
            sumPos += positive[t]
            sumNeg += negative[t]
        }
        lOld /= n
        lNew /= n
        let scale = 1 / (2 * sigma * sigma)
        var xi = accumulator
        var g = [Double](repeating: 0, count: epsilon.count)
        if persistent {
            for k in xi.indices {
                xi[k] += epsilon[k]
                g[k] = (lOld * xi[k] + lNew * epsilon[k]) * scale
            }
            if finished { xi = epsilon }
        } else {
            let total = lOld + lNew
            for k in g.indices { g[k] = total * epsilon[k] * scale }
        }
        return (g, xi, (sumPos / n + sumNeg / n) / 2, n == 0)
    }

    /// One outer step of PES (`persistent`) or truncated ES, serially.
    static func step<Problem: InnerProblem>(_ problem: Problem, _ c: PESConfiguration,
                                            _ state: inout MetaTrainer<PESEstimator<Problem>>.State, persistent: Bool) {
        let truncation = state.truncations
        state.truncations += 1
        let u = c.truncationLength
        var estimates: [(gradient: [Double], loss: Double)] = []
        for i in 0..<c.particles {
            var particle = state.particles[i]
            let (epsilon, plus, minus) = perturbation(c, theta: state.theta, truncation: truncation, index: i)
            let sp = problem.stepper(theta: plus), sm = problem.stepper(theta: minus)
            var lp = [Double](repeating: 0, count: u), lm = lp
            var done = [Bool](repeating: false, count: u), mask = done
            particle.walkTruncation(slots: u, schedule: c.schedule, reset: { p in
                let s = problem.reset(generator: &p.generator)
                p.positive = s
                p.negative = s
            }, segment: { p, first, count, ends in
                for t in first..<(first + count) {
                    lp[t] = problem.step(sp, state: &p.positive)
                    lm[t] = problem.step(sm, state: &p.negative)
                    mask[t] = true
                }
                done[first + count - 1] = ends
            })
            let r = estimate(positive: lp, negative: lm, done: done, mask: mask, epsilon: epsilon,
                             accumulator: particle.accumulator, sigma: c.sigma, persistent: persistent)
            if persistent { particle.accumulator = r.accumulator }
            state.particles[i] = particle
            estimates.append((r.gradient, r.loss))
        }
        let p = problem.parameterCount
        var g = [Double](repeating: 0, count: p)
        for r in estimates { for j in 0..<p { g[j] += r.gradient[j] } }
        for j in 0..<p { g[j] /= Double(estimates.count) }
        var nonFinite = false
        for j in g.indices where !g[j].isFinite {
            g[j] = 0
            nonFinite = true
        }
        if nonFinite { state.nonFiniteGradients += 1 }
        if c.gradientClip > 0 { for j in g.indices { g[j] = min(max(g[j], -c.gradientClip), c.gradientClip) } }
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if c.gradientNormClip > 0 && norm > c.gradientNormClip {
            let scale = c.gradientNormClip / norm
            for j in g.indices { g[j] *= scale }
        }
        let t = Double(state.outerStep + 1)
        let b1 = 0.9, b2 = 0.999
        for j in g.indices {
            state.adamFirst[j] = b1 * state.adamFirst[j] + (1 - b1) * g[j]
            state.adamSecond[j] = b2 * state.adamSecond[j] + (1 - b2) * g[j] * g[j]
            let mHat = state.adamFirst[j] / (1 - pow(b1, t))
            let vHat = state.adamSecond[j] / (1 - pow(b2, t))
            let update = c.learningRate * mHat / ((vHat + 1e-8).squareRoot() + 1e-8)
            state.theta[j] = Float(Double(state.theta[j]) - update)
        }
        state.outerStep += 1
    }
}

/// A cheap inner problem with many meta-parameters (more than the chunk size of the parallel passes): the rate is
/// exp(θ₀ + θ_last) on ½x², so every coordinate of ĝ is Δℓ·ε/(2σ²) and every coordinate of θ moves.
struct WideRates: InnerProblem {
    struct State: Codable, Sendable { var x: Double }
    var parameterCount: Int { 70_001 }
    func stepper(theta: [Float]) -> Double { exp(Double(theta[0]) + Double(theta[theta.count - 1])) }
    func reset(generator: inout Xoshiro256StarStar) -> State { State(x: generator.uniform(0.5, 2)) }
    func step(_ rate: Double, state: inout State) -> Double {
        let loss = 0.5 * state.x * state.x
        state.x -= rate * state.x
        return loss
    }
}

@Suite struct PerturbationTests {
    static func configuration(_ generator: PerturbationGenerator = .boxMuller, threads: Int = 0) -> PESConfiguration {
        var c = PESConfiguration()
        c.particles = 5
        c.truncationLength = 4
        c.sigma = 0.05
        c.schedule = .logUniform(minimum: 3, maximum: 9)  // trajectories end inside truncations (ξ restarts)
        c.initialOffset = 5
        c.learningRate = 0.01
        c.gradientNormClip = 50
        c.seed = 13
        c.threads = threads
        c.perturbation = generator
        return c
    }

    static func theta0(_ count: Int) -> [Float] {
        var g = Xoshiro256StarStar(seed: 5)
        return (0..<count).map { _ in Float(g.uniform(-0.3, 0.3)) }
    }

    /// The default generator draws exactly the former perturbations (ε, θ + ε, θ − ε bit for bit).
    @Test(arguments: [0, 1, 7, 70_001]) func boxMullerIsTheFormerGeneratorBitForBit(count: Int) {
        let theta = Self.theta0(count)
        for (truncation, index) in [(0, 0), (3, 2), (1000, 15)] {
            var c = Self.configuration()
            c.seed = UInt64(truncation + 1)
            let new = antitheticPerturbation(c, theta: theta, truncation: truncation, index: index)
            let old = FormerOuterStep.perturbation(c, theta: theta, truncation: truncation, index: index)
            #expect(new.epsilon.map(\.bitPattern) == old.epsilon.map(\.bitPattern))
            #expect(new.plus.map(\.bitPattern) == old.plus.map(\.bitPattern))
            #expect(new.minus.map(\.bitPattern) == old.minus.map(\.bitPattern))
        }
    }

    /// The in-place PES estimate gives the copying one's ĝ, ξ and loss bit for bit, whether the trajectory ended in
    /// the truncation or not, and for truncated ES; n = 0 gives the same NaNs.
    @Test func inPlaceEstimateIsTheCopyingOne() {
        var g = Xoshiro256StarStar(seed: 3)
        let count = 1_001
        for trial in 0..<24 {
            let u = 1 + trial % 6
            let positive = (0..<u).map { _ in g.uniform(-3, 1) }, negative = (0..<u).map { _ in g.uniform(-3, 1) }
            let done = (0..<u).map { _ in g.nextUnit() < 0.3 }
            let mask = (0..<u).map { _ in trial % 8 == 7 ? false : g.nextUnit() < 0.8 }
            let epsilon = g.normal(count: count, standardDeviation: 0.01)
            let accumulator = g.normal(count: count, standardDeviation: 0.05)
            for persistent in [true, false] {
                let old = FormerOuterStep.estimate(positive: positive, negative: negative, done: done, mask: mask,
                                                   epsilon: epsilon, accumulator: accumulator, sigma: 0.01,
                                                   persistent: persistent)
                let copying = PESGradient.particle(positive: positive, negative: negative, done: done, mask: mask,
                                                   epsilon: epsilon, accumulator: accumulator, sigma: 0.01,
                                                   persistent: persistent)
                var e = epsilon, xi = accumulator
                let new = PESGradient.particleInPlace(positive: positive, negative: negative, done: done, mask: mask,
                                                      epsilon: &e, accumulator: &xi, sigma: 0.01,
                                                      persistent: persistent)
                #expect(new.gradient.map(\.bitPattern) == old.gradient.map(\.bitPattern))
                #expect(copying.gradient.map(\.bitPattern) == old.gradient.map(\.bitPattern))
                #expect(new.loss.bitPattern == old.loss.bitPattern && new.empty == old.empty)
                if persistent {
                    #expect(xi.map(\.bitPattern) == old.accumulator.map(\.bitPattern))
                    #expect(copying.accumulator.map(\.bitPattern) == old.accumulator.map(\.bitPattern))
                } else {
                    #expect(xi.map(\.bitPattern) == accumulator.map(\.bitPattern))
                }
            }
        }
    }

    /// Whole outer steps of PES and truncated ES with 70 001 meta-parameters (the reduction and Adam run in chunks
    /// on every core): θ, the Adam moments and the accumulators equal the former serial code's bit for bit, with one
    /// thread and with all. Truncated ES starts from a state of the former layout (ξ of zeros) and drops ξ.
    @Test(arguments: [true, false]) func outerStepsAreTheFormerCodesBitForBit(persistent: Bool) throws {
        let problem = WideRates()
        let theta0 = Self.theta0(problem.parameterCount)
        var reference: MetaTrainer<PESEstimator<WideRates>>.State?
        for threads in [1, 0] {
            let c = Self.configuration(threads: threads)
            // Truncated ES has PES's particles: the former code runs on the same state type.
            let trainer = MetaTrainer(problem: problem, configuration: c)
            var old = trainer.initialState(theta: theta0)
            var new = old
            if persistent {
                for _ in 0..<4 {
                    FormerOuterStep.step(problem, c, &old, persistent: true)
                    _ = trainer.step(&new)
                }
            } else {
                let es = MetaTrainer(estimator: TruncatedESEstimator(problem: problem, configuration: c))
                #expect(es.initialState(theta: theta0).particles.allSatisfy { $0.accumulator.isEmpty })
                var esState = try BinaryCoder.decode(MetaTrainer<TruncatedESEstimator<WideRates>>.State.self,
                                                     from: BinaryCoder.encode(new))
                for _ in 0..<4 {
                    FormerOuterStep.step(problem, c, &old, persistent: false)
                    _ = es.step(&esState)
                }
                new = try BinaryCoder.decode(MetaTrainer<PESEstimator<WideRates>>.State.self,
                                             from: BinaryCoder.encode(esState))
                // Truncated ES drops the θ-sized zeros the former code kept as ξ; everything else is the same.
                #expect(new.particles.allSatisfy { $0.accumulator.isEmpty })
                #expect(old.particles.allSatisfy { $0.accumulator.allSatisfy { $0 == 0 } })
                for i in old.particles.indices { old.particles[i].accumulator = [] }
            }
            #expect(new.theta != theta0)
            #expect(new.theta.map(\.bitPattern) == old.theta.map(\.bitPattern))
            #expect(new.adamFirst.map(\.bitPattern) == old.adamFirst.map(\.bitPattern))
            #expect(new.adamSecond.map(\.bitPattern) == old.adamSecond.map(\.bitPattern))
            #expect(try BinaryCoder.encode(new) == BinaryCoder.encode(old))
            if let reference { #expect(try BinaryCoder.encode(new) == BinaryCoder.encode(reference)) }
            reference = new
        }
    }

    /// A non-finite particle loss zeroes the gradient coordinates and counts the step, as before.
    @Test func nonFiniteGradientsAreZeroedAndCounted() {
        let problem = WideRates()
        var c = Self.configuration()
        c.particles = 2
        c.schedule = .constant(length: 100)  // four consecutive steps: the loss overflows on the second
        c.initialOffset = 0
        let trainer = MetaTrainer(problem: problem, configuration: c)
        var theta = Self.theta0(problem.parameterCount)
        theta[0] = 700  // rate e^700: ℓ = ∞ for both members from the second step, Δℓ = NaN
        var old = trainer.initialState(theta: theta)
        var new = old
        FormerOuterStep.step(problem, c, &old, persistent: true)
        let report = trainer.step(&new)
        #expect(report.nonFinite && new.nonFiniteGradients == 1 && old.nonFiniteGradients == 1)
        #expect(new.theta.map(\.bitPattern) == old.theta.map(\.bitPattern))
    }

    // MARK: The ziggurat

    /// The layers: x decreasing from the virtual base width to 0, every layer of area v (to 1e−8 relative).
    @Test func zigguratTablesHaveEqualAreas() {
        let (x, f) = Ziggurat.tables
        #expect(x.count == 257 && f.count == 257 && x[1] == Ziggurat.r && x[256] == 0)
        for i in 1..<256 { #expect(x[i + 1] < x[i]) }
        #expect(abs(x[0] * f[1] - Ziggurat.v) < 1e-15)  // the base strip: v / f(R) wide, f(R) high
        for i in 1..<256 {
            let area = x[i] * (f[i + 1] - f[i])
            // The recurrence carries R and v's 17 digits upwards: the top layer is 1.03e−9 v off.
            #expect(abs(area - Ziggurat.v) < 1e-8 * Ziggurat.v, "layer \(i): \(area)")
        }
        // The base's true area: the rectangle under f(R) plus the tail, ∫_R^∞ e^{−x²/2} dx.
        let tail = (Double.pi / 2).squareRoot() * erfc(Ziggurat.r / 2.squareRoot())
        #expect(abs(Ziggurat.r * f[1] + tail - Ziggurat.v) < 1e-12)
    }

    /// 2²² draws from a fixed seed against N(0, 1): mean, variance, fourth moment and the fraction beyond 0, ±1, ±2,
    /// ±3, ±R (the tail sampler) and ±4 each within 5 standard errors of the normal's, and the Kolmogorov–Smirnov
    /// distance below 2/√N (p ≈ 0.0007 for a true normal).
    @Test func zigguratDrawsAreStandardNormal() {
        let n = 1 << 22
        var draws = [Double](repeating: 0, count: n)
        var g = Xoshiro256StarStar(seed: 2024)
        draws.withUnsafeMutableBufferPointer { Ziggurat.fill($0.baseAddress!, count: n, scale: 1, generator: &g) }
        let N = Double(n)
        let mean = draws.reduce(0, +) / N
        let second = draws.reduce(0) { $0 + $1 * $1 } / N
        let fourth = draws.reduce(0) { $0 + $1 * $1 * $1 * $1 } / N
        #expect(abs(mean) < 5 / N.squareRoot(), "mean \(mean)")
        #expect(abs(second - 1) < 5 * (2 / N).squareRoot(), "E x² \(second)")
        #expect(abs(fourth - 3) < 5 * (96 / N).squareRoot(), "E x⁴ \(fourth)")
        let positive = Double(draws.count { $0 > 0 }) / N
        #expect(abs(positive - 0.5) < 5 * (0.25 / N).squareRoot(), "P(x > 0) \(positive)")
        for a in [1, 2, 3, Ziggurat.r, 4] {
            let p = erfc(a / 2.squareRoot())
            let upper = Double(draws.count { $0 > a }) / N, both = Double(draws.count { abs($0) > a }) / N
            #expect(abs(both - p) < 5 * (p * (1 - p) / N).squareRoot(), "P(|x| > \(a)) \(both), normal \(p)")
            #expect(abs(upper - p / 2) < 5 * (p / 2 * (1 - p / 2) / N).squareRoot(), "P(x > \(a)) \(upper)")
        }
        draws.sort()
        var ks = 0.0
        for (i, x) in draws.enumerated() where i % 7 == 0 || x.magnitude > 3 {
            let phi = 0.5 * erfc(-x / 2.squareRoot())
            ks = max(ks, abs(phi - Double(i) / N), abs(phi - Double(i + 1) / N))
        }
        #expect(ks < 2 / N.squareRoot(), "Kolmogorov–Smirnov distance \(ks)")
    }

    /// With the ziggurat, ε has standard deviation σ and θ ± ε are rounded as with Box–Muller; the draws differ.
    @Test func zigguratPerturbationIsScaledAndDiffers() {
        let theta = Self.theta0(100_000)
        let c = Self.configuration(.ziggurat)
        let z = antitheticPerturbation(c, theta: theta, truncation: 2, index: 1)
        let b = antitheticPerturbation(Self.configuration(), theta: theta, truncation: 2, index: 1)
        let sd = (z.epsilon.reduce(0) { $0 + $1 * $1 } / Double(theta.count)).squareRoot()
        #expect(abs(sd - c.sigma) < 5 * c.sigma / Double(2 * theta.count).squareRoot(), "sd \(sd)")
        for j in theta.indices {
            #expect(z.plus[j] == Float(Double(theta[j]) + z.epsilon[j]) && z.minus[j] == Float(Double(theta[j]) - z.epsilon[j]))
        }
        #expect(z.epsilon != b.epsilon)
        // Deterministic per (seed, truncation, particle).
        #expect(antitheticPerturbation(c, theta: theta, truncation: 2, index: 1).epsilon == z.epsilon)
        #expect(antitheticPerturbation(c, theta: theta, truncation: 2, index: 2).epsilon != z.epsilon)
    }

    /// Training with the ziggurat is bit-identical for one thread or all, and after a resume.
    @Test func zigguratRunsAreBitIdenticalForThreadsAndResume() throws {
        let problem = WideRates()
        let theta0 = Self.theta0(problem.parameterCount)
        let serial = MetaTrainer(problem: problem, configuration: Self.configuration(.ziggurat, threads: 1))
        let parallel = MetaTrainer(problem: problem, configuration: Self.configuration(.ziggurat, threads: 0))
        var a = serial.initialState(theta: theta0), b = parallel.initialState(theta: theta0)
        for _ in 0..<4 {
            _ = serial.step(&a)
            _ = parallel.step(&b)
        }
        #expect(try BinaryCoder.encode(a) == BinaryCoder.encode(b))
        var first = parallel.initialState(theta: theta0)
        for _ in 0..<2 { _ = parallel.step(&first) }
        var resumed = try BinaryCoder.decode(MetaTrainer<PESEstimator<WideRates>>.State.self, from: BinaryCoder.encode(first))
        for _ in 0..<2 { _ = parallel.step(&resumed) }
        #expect(try BinaryCoder.encode(resumed) == BinaryCoder.encode(a))
        // And a different trajectory from Box–Muller's.
        var boxMuller = MetaTrainer(problem: problem, configuration: Self.configuration(threads: 0)).initialState(theta: theta0)
        for _ in 0..<4 { _ = MetaTrainer(problem: problem, configuration: Self.configuration(threads: 0)).step(&boxMuller) }
        #expect(boxMuller.theta != a.theta)
    }

    // MARK: Configuration

    @Test func perturbationIsOptInAndValidated() throws {
        func decode(_ json: String) throws -> TrainingConfiguration { try TrainingConfiguration.decode(Data(json.utf8)) }
        #expect(try decode("{}").pes.perturbation == .boxMuller)
        #expect(try decode(#"{"pes": {"sigma": 0.02}}"#).pes.perturbation == .boxMuller)
        let fast = try decode(#"{"pes": {"perturbation": "ziggurat"}}"#)
        #expect(fast.pes.perturbation == .ziggurat)
        #expect(try TrainingConfiguration.decode(JSONEncoder().encode(fast)) == fast)
        #expect(try decode(#"{"pes": {"perturbation": "box-muller"}}"#) == decode("{}"))
        do {
            _ = try decode(#"{"pes": {"perturbation": "zig"}}"#)
            Issue.record("accepted perturbation 'zig'")
        } catch {
            #expect("\(error)" == "pes.perturbation: 'zig' is not valid; valid: box-muller, ziggurat")
        }
        // A PESConfiguration encoded without the field (as before it existed) decodes to Box–Muller.
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(PESConfiguration())) as? [String: Any])
        object["perturbation"] = nil
        let old = try JSONDecoder().decode(PESConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old == PESConfiguration() && old.perturbation == .boxMuller)
        // The shipped configurations keep Box–Muller, except the one made to use the ziggurat.
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs")
        for name in try FileManager.default.contentsOfDirectory(atPath: configs.path) where name.hasSuffix(".json") {
            let config = try TrainingConfiguration.decode(Data(contentsOf: configs.appendingPathComponent(name)))
            #expect(config.pes.perturbation == (name.hasSuffix("-fast.json") ? .ziggurat : .boxMuller), "\(name)")
        }
    }
}
