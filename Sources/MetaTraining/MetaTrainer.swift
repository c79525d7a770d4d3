import Dispatch
import Foundation
import OptimusNumerics

/// The outer learner of meta-training: whatever the estimator (``MetaGradientEstimator``), one outer step advances
/// every particle through one truncation, reduces their estimates in index order, zeroes non-finite entries, clips
/// (element-wise, then the norm) and applies Adam to θ (`docs/adafactor-mlp-and-pes.md`, *PES meta-training*).
///
/// Particles run in parallel (`concurrentPerform`) or spread over processes (``ParticleCommunicator``); every random
/// draw comes from a stream derived from (seed, particle, truncation) and the reduction order is fixed, so θ is
/// bit-identical for any thread count and any number of processes, and after a resume from ``State``.
public struct MetaTrainer<Estimator: MetaGradientEstimator>: Sendable {
    public typealias Problem = Estimator.Problem
    public typealias Particle = Estimator.Particle

    public let estimator: Estimator
    /// The processes the particles are spread over (default: this one).
    public let communicator: any ParticleCommunicator

    public init(estimator: Estimator, communicator: any ParticleCommunicator = SingleProcess()) {
        self.estimator = estimator
        self.communicator = communicator
    }

    public var problem: Problem { estimator.problem }
    public var configuration: PESConfiguration { estimator.configuration }

    /// The particles this process advances.
    var localParticles: [Int] {
        (0..<configuration.particles).filter { $0 % communicator.size == communicator.rank }
    }

    /// Everything needed to resume bit-identically. The field order is the training-state file format (it is that of
    /// the former `PESTrainer.State`, so a PES state keeps its bytes).
    public struct State: Codable, Sendable {
        public var theta: [Float]
        public var adamFirst: [Double]
        public var adamSecond: [Double]
        public var outerStep: Int
        /// Truncations unrolled so far (numbers the perturbation streams).
        public var truncations: Int
        public var particles: [Particle]
        /// Outer steps whose meta-gradient had non-finite entries or particles.
        public var nonFiniteGradients: Int
    }

    /// The initial state from θ₀.
    public func initialState(theta: [Float]) -> State {
        let p = problem.parameterCount
        return State(theta: theta, adamFirst: [Double](repeating: 0, count: p),
                     adamSecond: [Double](repeating: 0, count: p), outerStep: 0, truncations: 0,
                     particles: (0..<configuration.particles).map { estimator.initialParticle(index: $0) },
                     nonFiniteGradients: 0)
    }

    /// The result of one outer step.
    public struct StepReport: Sendable {
        public var loss: Double
        /// ‖g‖ after the element-wise clip (before the norm clip).
        public var gradientNorm: Double
        public var innerSteps: Int
        /// The meta-gradient had non-finite entries or particles (they were zeroed).
        public var nonFinite: Bool
        /// Particles whose backward pass was non-finite.
        public var nonFiniteParticles: Int
        /// The hybrid's variances and weight (nil for the other estimators).
        public var hybrid: HybridCombination?
    }

    /// The meta-gradient estimate for the current θ (advances the particles), without updating θ.
    public func estimate(_ state: inout State) -> MetaGradientEstimate {
        estimator.reduce(unroll(&state))
    }

    /// Unrolls one truncation of every particle and returns the per-particle estimates in index order (advances the
    /// particles this process owns).
    public func unroll(_ state: inout State) -> [ParticleEstimate] {
        let k = configuration.particles
        let truncation = state.truncations
        state.truncations += 1
        let theta = state.theta
        let estimator = self.estimator
        var results = [ParticleEstimate?](repeating: nil, count: k)
        // Moved out of the state, so that each particle's arrays (PES's accumulator ξ) are uniquely referenced and
        // updated in place rather than copied.
        var particles = state.particles
        state.particles = []
        results.withUnsafeMutableBufferPointer { out in
            particles.withUnsafeMutableBufferPointer { parts in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let parts = parts
                let work: @Sendable (Int) -> Void = { i in
                    out[i] = estimator.advance(&parts[i], theta: theta, truncation: truncation, index: i)
                }
                let mine = localParticles
                if configuration.threads == 1 {
                    for i in mine { work(i) }
                } else {
                    DispatchQueue.concurrentPerform(iterations: mine.count) { work(mine[$0]) }
                }
            }
        }
        state.particles = particles
        if communicator.size == 1 {
            return results.map { r in
                guard let r else { preconditionFailure("meta-training: a particle produced no result") }
                return r
            }
        }
        // K × (P + S + 3) buffer: gradient, second gradient, loss, emptiness, non-finiteness; zero for other
        // processes' particles, so the sum is exact.
        let p = problem.parameterCount, second = estimator.secondGradientCount
        let width = p + second + 3
        var buffer = [Double](repeating: 0, count: k * width)
        for (i, r) in results.enumerated() {
            guard let r else { continue }
            let o = i * width
            for j in 0..<p { buffer[o + j] = r.gradient[j] }
            for j in 0..<second { buffer[o + p + j] = r.secondGradient[j] }
            buffer[o + p + second] = r.loss
            buffer[o + p + second + 1] = r.empty ? 1 : 0
            buffer[o + p + second + 2] = r.nonFinite ? 1 : 0
        }
        communicator.allReduceSum(&buffer)
        return (0..<k).map { i in
            let o = i * width
            return ParticleEstimate(gradient: Array(buffer[o..<(o + p)]),
                                    secondGradient: Array(buffer[(o + p)..<(o + p + second)]),
                                    loss: buffer[o + p + second], empty: buffer[o + p + second + 1] != 0,
                                    nonFinite: buffer[o + p + second + 2] != 0)
        }
    }

    /// Makes every process's copy of the particle states current (before a checkpoint): each process sends the
    /// particles it owns.
    public func synchronizeParticles(_ state: inout State) throws {
        guard communicator.size > 1 else { return }
        let mine = localParticles
        let bytes = [UInt8](try BinaryCoder.encode(IndexedParticles(indices: mine, particles: mine.map { state.particles[$0] })))
        for received in communicator.allGather(bytes) {
            let pair = try BinaryCoder.decode(IndexedParticles.self, from: Data(received))
            for (i, particle) in zip(pair.indices, pair.particles) { state.particles[i] = particle }
        }
    }

    private struct IndexedParticles: Codable {
        var indices: [Int]
        var particles: [Particle]
    }

    /// One outer step: estimate, sanitize (non-finite → 0, counted), clip element-wise, clip the norm, Adam.
    ///
    /// The element-wise passes are spread over the cores (``forEachChunk(_:parallel:_:)``: the same bits as one
    /// loop); the norm is summed in one pass in index order.
    public func step(_ state: inout State) -> StepReport {
        let e = estimate(&state)
        var g = e.gradient
        let parallel = configuration.threads != 1
        let p = g.count
        let clip = configuration.gradientClip
        let sanitizedChunks = NonFiniteFlag()
        g.withUnsafeMutableBufferPointer { gb in
            nonisolated(unsafe) let gb = gb
            forEachChunk(p, parallel: parallel) { range in
                var found = false
                for j in range where !gb[j].isFinite {
                    gb[j] = 0
                    found = true
                }
                if found { sanitizedChunks.set() }
                if clip > 0 { for j in range { gb[j] = min(max(gb[j], -clip), clip) } }
            }
        }
        let nonFinite = e.nonFiniteParticles > 0 || sanitizedChunks.value
        if nonFinite { state.nonFiniteGradients += 1 }
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let normClip = configuration.gradientNormClip
        let scale: Double? = normClip > 0 && norm > normClip ? normClip / norm : nil
        // Adam (optax): m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), θ ← θ − lr·m̂/(√(v̂ + 1e−8) + 1e−8).
        let t = Double(state.outerStep + 1)
        let b1 = 0.9, b2 = 0.999
        let c1 = 1 - pow(b1, t), c2 = 1 - pow(b2, t)
        let learningRate = configuration.learningRate
        precondition(state.adamFirst.count == p && state.adamSecond.count == p && state.theta.count == p,
                     "meta-training: the state's arrays do not match the gradient (\(p) entries)")
        g.withUnsafeMutableBufferPointer { gb in
            state.adamFirst.withUnsafeMutableBufferPointer { mb in
                state.adamSecond.withUnsafeMutableBufferPointer { vb in
                    state.theta.withUnsafeMutableBufferPointer { tb in
                        nonisolated(unsafe) let gb = gb, mb = mb, vb = vb, tb = tb
                        forEachChunk(p, parallel: parallel) { range in
                            for j in range {
                                if let scale { gb[j] *= scale }
                                mb[j] = b1 * mb[j] + (1 - b1) * gb[j]
                                vb[j] = b2 * vb[j] + (1 - b2) * gb[j] * gb[j]
                                let mHat = mb[j] / c1
                                let vHat = vb[j] / c2
                                let update = learningRate * mHat / ((vHat + 1e-8).squareRoot() + 1e-8)
                                tb[j] = Float(Double(tb[j]) - update)
                            }
                        }
                    }
                }
            }
        }
        state.outerStep += 1
        return StepReport(loss: e.loss.isFinite ? e.loss : 20, gradientNorm: norm, innerSteps: e.innerSteps,
                          nonFinite: nonFinite, nonFiniteParticles: e.nonFiniteParticles, hybrid: e.hybrid)
    }
}

/// Set by any chunk of a parallel pass that met a non-finite value.
private final class NonFiniteFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var found = false
    func set() {
        lock.lock()
        found = true
        lock.unlock()
    }
    var value: Bool {
        lock.lock()
        defer { lock.unlock() }
        return found
    }
}
