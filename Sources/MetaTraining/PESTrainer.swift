import Dispatch
import Foundation
import OptimusNumerics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long inner trajectories are (learned_optimization's truncation schedules).
public enum TruncationSchedule: Codable, Equatable, Sendable {
    /// Every trajectory has `length` train steps.
    case constant(length: Int)
    /// L = floor(exp(u)), u ~ U(ln minimum, ln maximum), resampled at every reset.
    case logUniform(minimum: Int, maximum: Int)

    func sample(using g: inout Xoshiro256StarStar) -> Int {
        switch self {
        case .constant(let l): return l
        case .logUniform(let lo, let hi): return max(lo, Int(exp(g.uniform(log(Double(lo)), log(Double(hi))))))
        }
    }

    func validate() throws(MetaTrainingError) {
        switch self {
        case .constant(let l): guard l >= 1 else { throw .invalid("truncation.length", "must be ≥ 1") }
        case .logUniform(let lo, let hi):
            guard lo >= 1, hi >= lo else { throw .invalid("truncation", "need 1 ≤ minimum ≤ maximum") }
        }
    }
}

/// Hyperparameters of PES (defaults: learned_optimization's `TruncatedPES` and its launcher recipe).
public struct PESConfiguration: Codable, Equatable, Sendable {
    /// K, antithetic pairs per outer step.
    public var particles: Int = 8
    /// U, inner steps per truncation.
    public var truncationLength: Int = 10
    /// σ of the perturbations.
    public var sigma: Double = 0.01
    public var schedule: TruncationSchedule = .constant(length: 50)
    /// Stagger each particle's first trajectory by a uniform offset in [0, R) steps (R = 0: no stagger).
    public var initialOffset: Int = 50
    /// Outer Adam learning rate.
    public var learningRate: Double = 1e-3
    /// Element-wise clip of the meta-gradient before Adam (0 disables). learned_optimization: 3.
    public var gradientClip: Double = 3
    /// false: plain truncated ES (no accumulator), for comparison.
    public var persistent: Bool = true
    public var seed: UInt64 = 0
    /// Particles evaluated in parallel: 0 = all cores (`concurrentPerform`), 1 = serial. The result is the same.
    public var threads: Int = 0

    public init() {}

    public func validate() throws(MetaTrainingError) {
        guard particles >= 1 else { throw .invalid("pes.particles", "must be ≥ 1") }
        guard truncationLength >= 1 else { throw .invalid("pes.truncationLength", "must be ≥ 1") }
        guard sigma > 0, sigma.isFinite else { throw .invalid("pes.sigma", "must be a finite number > 0") }
        guard learningRate > 0, learningRate.isFinite else { throw .invalid("pes.learningRate", "must be > 0") }
        guard gradientClip >= 0 else { throw .invalid("pes.gradientClip", "must be ≥ 0") }
        guard initialOffset >= 0 else { throw .invalid("pes.initialOffset", "must be ≥ 0") }
        try schedule.validate()
    }
}

/// Persistent Evolution Strategies (Vicol, Metz & Sohl-Dickstein 2021) as in learned_optimization's `TruncatedPES`,
/// with an outer Adam (`docs/adafactor-mlp-and-pes.md`, *PES meta-training*).
///
/// Every particle keeps an antithetic pair of inner states (θ+ε and θ−ε) that share tasks, starts and reset timing,
/// and a perturbation accumulator ξ. One outer step draws a fresh ε per particle, unrolls U steps of both states,
/// forms the PES estimate (``PESGradient``), averages over particles in index order, zeroes non-finite entries, clips
/// element-wise and applies Adam. Particles run in parallel (`concurrentPerform`); every random draw comes from a
/// stream derived from (seed, particle, outer step), and the reduction order is fixed, so θ is bit-identical for any
/// thread count.
public struct PESTrainer<Problem: InnerProblem>: Sendable {
    public let problem: Problem
    public let configuration: PESConfiguration
    /// The processes the particles are spread over (default: this one).
    public let communicator: any ParticleCommunicator

    public init(problem: Problem, configuration: PESConfiguration,
                communicator: any ParticleCommunicator = SingleProcess()) {
        self.problem = problem
        self.configuration = configuration
        self.communicator = communicator
    }

    /// The particles this process advances.
    var localParticles: [Int] {
        (0..<configuration.particles).filter { $0 % communicator.size == communicator.rank }
    }

    /// One particle's persistent state.
    public struct Particle: Codable, Sendable {
        public var positive: Problem.State
        public var negative: Problem.State
        public var accumulator: [Double]
        public var innerStep: Int
        public var length: Int
        public var done: Bool
        /// The particle's task stream (shared by the pair: both reset to the same task).
        public var generator: Xoshiro256StarStar
    }

    /// Everything needed to resume bit-identically.
    public struct State: Codable, Sendable {
        public var theta: [Float]
        public var adamFirst: [Double]
        public var adamSecond: [Double]
        public var outerStep: Int
        /// Truncations unrolled so far (numbers the perturbation streams).
        public var truncations: Int
        public var particles: [Particle]
        public var nonFiniteGradients: Int
    }

    /// The initial state from θ₀.
    public func initialState(theta: [Float]) -> State {
        let p = problem.parameterCount
        let particles = (0..<configuration.particles).map { i -> Particle in
            var g = Xoshiro256StarStar(seed: configuration.seed, stream: 1_000_000 + UInt64(i))
            let s = problem.reset(generator: &g)
            let length = configuration.schedule.sample(using: &g)
            let offset = configuration.initialOffset > 0 ? g.nextInt(below: configuration.initialOffset) : 0
            return Particle(positive: s, negative: s, accumulator: [Double](repeating: 0, count: p),
                            innerStep: min(offset, max(0, length - 1)), length: length, done: false, generator: g)
        }
        return State(theta: theta, adamFirst: [Double](repeating: 0, count: p),
                     adamSecond: [Double](repeating: 0, count: p), outerStep: 0, truncations: 0, particles: particles,
                     nonFiniteGradients: 0)
    }

    /// The result of one outer step.
    public struct StepReport: Sendable {
        public var loss: Double
        public var gradientNorm: Double
        public var innerSteps: Int
        public var nonFinite: Bool
    }

    /// The meta-gradient estimate for the current θ (advances the particles), without updating θ.
    public func estimate(_ state: inout State) -> (gradient: [Double], loss: Double, innerSteps: Int) {
        let results = unroll(&state)
        let k = configuration.particles
        let p = problem.parameterCount
        // Fixed-order reduction: the same sum whatever the thread count.
        var gradient = [Double](repeating: 0, count: p)
        var loss = 0.0
        for r in results {
            for j in 0..<p { gradient[j] += r.gradient[j] }
            loss += r.loss
        }
        for j in 0..<p { gradient[j] /= Double(k) }
        return (gradient, loss / Double(k), k * configuration.truncationLength * 2)
    }

    /// Unrolls one truncation of every particle and returns the per-particle PES estimates (advances the particles).
    public func unroll(_ state: inout State) -> [PESGradient.Particle] {
        let k = configuration.particles
        let p = problem.parameterCount
        let u = configuration.truncationLength
        let sigma = configuration.sigma
        let step = state.truncations
        state.truncations += 1
        let theta = state.theta
        var results = [PESGradient.Particle?](repeating: nil, count: k)
        var particles = state.particles
        let config = configuration
        let problem = self.problem
        results.withUnsafeMutableBufferPointer { out in
            particles.withUnsafeMutableBufferPointer { parts in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let parts = parts
                let work: @Sendable (Int) -> Void = { i in
                    var eg = Xoshiro256StarStar(seed: config.seed ^ 0x5EED_0F_E951_0000, stream: UInt64(step) &* 65_536 &+ UInt64(i))
                    let epsilon = (0..<p).map { _ in sigma * eg.normal() }
                    var plus = theta, minus = theta
                    for j in 0..<p {
                        plus[j] = Float(Double(theta[j]) + epsilon[j])
                        minus[j] = Float(Double(theta[j]) - epsilon[j])
                    }
                    let sp = problem.stepper(theta: plus), sm = problem.stepper(theta: minus)
                    var particle = parts[i]
                    var lp = [Double](repeating: 0, count: u), lm = lp
                    var done = [Bool](repeating: false, count: u), mask = done
                    for t in 0..<u {
                        if particle.done {
                            let s = problem.reset(generator: &particle.generator)
                            particle.positive = s
                            particle.negative = s
                            particle.innerStep = 0
                            particle.length = config.schedule.sample(using: &particle.generator)
                        } else {
                            lp[t] = problem.step(sp, state: &particle.positive)
                            lm[t] = problem.step(sm, state: &particle.negative)
                            particle.innerStep += 1
                            mask[t] = true
                        }
                        particle.done = particle.innerStep >= particle.length
                        done[t] = particle.done
                    }
                    let r = PESGradient.particle(positive: lp, negative: lm, done: done, mask: mask, epsilon: epsilon,
                                                 accumulator: particle.accumulator, sigma: sigma,
                                                 persistent: config.persistent)
                    particle.accumulator = config.persistent ? r.accumulator : particle.accumulator
                    parts[i] = particle
                    out[i] = r
                }
                let mine = localParticles
                if config.threads == 1 {
                    for i in mine { work(i) }
                } else {
                    DispatchQueue.concurrentPerform(iterations: mine.count) { work(mine[$0]) }
                }
            }
        }
        state.particles = particles
        if communicator.size == 1 {
            return results.map { r in
                guard let r else { preconditionFailure("PES: a particle produced no result") }
                return r
            }
        }
        // K × (P + 2) buffer: gradient, loss, emptiness; zero for other processes' particles, so the sum is exact.
        let width = p + 2
        var buffer = [Double](repeating: 0, count: k * width)
        for (i, r) in results.enumerated() {
            guard let r else { continue }
            for j in 0..<p { buffer[i * width + j] = r.gradient[j] }
            buffer[i * width + p] = r.loss
            buffer[i * width + p + 1] = r.empty ? 1 : 0
        }
        communicator.allReduceSum(&buffer)
        return (0..<k).map { i in
            let local = results[i]
            return PESGradient.Particle(gradient: Array(buffer[(i * width)..<(i * width + p)]),
                                        accumulator: local?.accumulator ?? [],
                                        loss: buffer[i * width + p], empty: buffer[i * width + p + 1] != 0)
        }
    }

    /// Makes every process's copy of the particle states current (before a checkpoint): each process sends the
    /// particles it owns.
    public func synchronizeParticles(_ state: inout State) throws {
        guard communicator.size > 1 else { return }
        let mine = localParticles
        let bytes = [UInt8](try BinaryCoder.encode(IndexedParticles(indices: mine, particles: mine.map { state.particles[$0] })))
        for received in communicator.allGather(bytes) {
            let (indices, particles) = try decodePair(Data(received))
            for (i, particle) in zip(indices, particles) { state.particles[i] = particle }
        }
    }

    private func decodePair(_ data: Data) throws -> ([Int], [Particle]) {
        let pair = try BinaryCoder.decode(IndexedParticles.self, from: data)
        return (pair.indices, pair.particles)
    }

    private struct IndexedParticles: Codable {
        var indices: [Int]
        var particles: [Particle]
    }

    /// One outer step: estimate, sanitize (non-finite → 0), clip element-wise, Adam.
    public func step(_ state: inout State) -> StepReport {
        var (g, loss, inner) = estimate(&state)
        var nonFinite = false
        for j in g.indices where !g[j].isFinite {
            g[j] = 0
            nonFinite = true
        }
        if nonFinite { state.nonFiniteGradients += 1 }
        let clip = configuration.gradientClip
        if clip > 0 { for j in g.indices { g[j] = min(max(g[j], -clip), clip) } }
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // Adam (optax): m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ ← θ − lr·m̂/(√(v̂ + 1e−8) + 1e−8).
        let t = Double(state.outerStep + 1)
        let b1 = 0.9, b2 = 0.999
        for j in g.indices {
            state.adamFirst[j] = b1 * state.adamFirst[j] + (1 - b1) * g[j]
            state.adamSecond[j] = b2 * state.adamSecond[j] + (1 - b2) * g[j] * g[j]
            let mHat = state.adamFirst[j] / (1 - pow(b1, t))
            let vHat = state.adamSecond[j] / (1 - pow(b2, t))
            let update = configuration.learningRate * mHat / ((vHat + 1e-8).squareRoot() + 1e-8)
            state.theta[j] = Float(Double(state.theta[j]) - update)
        }
        state.outerStep += 1
        return StepReport(loss: loss.isFinite ? loss : 20, gradientNorm: norm, innerSteps: inner, nonFinite: nonFinite)
    }
}
