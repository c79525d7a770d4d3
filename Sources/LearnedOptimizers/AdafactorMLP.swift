import NeuralNetworks
import Optimizers
import OptimusNumerics

/// The Adafactor-MLP learned optimizer (Metz et al. 2022, "Practical tradeoffs between memory, compute, and
/// performance in learned optimizers"), the paper's learned baseline.
///
/// Per coordinate, an MLP maps the 39 ``AdafactorFeatures`` to a direction d and a magnitude a; the step is
///
///     Δ = d·exp(expMult·a)·stepMult,   x ← x − Δ,
///
/// with expMult = stepMult = 1e−3 (`docs/adafactor-mlp-and-pes.md`, *MLP and step*). θ holds the 7 decay offsets
/// (`decays`, shape [7]: momentum ×3, RMS, Adafactor ×3) and the MLP weights (`mlp.l.weight` [in, out],
/// `mlp.l.bias`).
public struct AdafactorMLP: LearnedOptimizer {
    public static let kind = "adafactor-mlp"

    /// Architecture hyperparameters.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Width of each hidden layer.
        public var hiddenSize: Int
        /// Number of hidden layers.
        public var hiddenLayers: Int
        /// Multiplier of the magnitude output inside exp. Default 1e−3.
        public var expMult: Double
        /// Global step scale. Default 1e−3.
        public var stepMult: Double
        /// The unit of Δ: ``StepScale/absolute`` (learned_optimization's) or ``StepScale/secant`` (Δ times σ_k of
        /// ``SecantStepScale`` with unit stepMult). Missing in a configuration means `absolute`, which is not written.
        public var stepScale: StepScale {
            get { stepScaleOption ?? .absolute }
            set { stepScaleOption = newValue == .absolute ? nil : newValue }
        }
        // nil = absolute, omitted by the synthesized Codable (older checkpoints read and compare unchanged).
        private var stepScaleOption: StepScale?

        public init(hiddenSize: Int, hiddenLayers: Int, expMult: Double = 1e-3, stepMult: Double = 1e-3,
                    stepScale: StepScale = .absolute) {
            stepScaleOption = stepScale == .absolute ? nil : stepScale
            self.hiddenSize = hiddenSize
            self.hiddenLayers = hiddenLayers
            self.expMult = expMult
            self.stepMult = stepMult
        }

        /// learned_optimization's default: 2 hidden layers of 4 (197 meta-parameters).
        public static let reference = Configuration(hiddenSize: 4, hiddenLayers: 2)
        /// The paper's Table 4 setting: 4 hidden layers of 128.
        public static let paper = Configuration(hiddenSize: 128, hiddenLayers: 4)

        private enum CodingKeys: String, CodingKey {
            case hiddenSize, hiddenLayers, expMult, stepMult, stepScaleOption = "stepScale"
        }
    }

    public let configuration: Configuration
    public let layout: ParameterLayout
    /// The decay offsets φ, shape [7].
    public let decays: TensorSpec
    /// The per-coordinate MLP, 39 → hidden… → 2.
    public let mlp: MLP

    /// Valid ranges: `hiddenSize` 1…4096, `hiddenLayers` 1…32, `expMult` and `stepMult` finite in (0, 1000].
    public static func validate(_ c: Configuration) throws(CheckpointError) {
        try requireConfiguration((1...4096).contains(c.hiddenSize), "hiddenSize", c.hiddenSize, valid: "1…4096")
        try requireConfiguration((1...32).contains(c.hiddenLayers), "hiddenLayers", c.hiddenLayers, valid: "1…32")
        try requireConfiguration(c.expMult.isFinite && c.expMult > 0 && c.expMult <= 1000, "expMult", c.expMult,
                                 valid: "finite, in (0, 1000]")
        try requireConfiguration(c.stepMult.isFinite && c.stepMult > 0 && c.stepMult <= 1000, "stepMult", c.stepMult,
                                 valid: "finite, in (0, 1000]")
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
        var layout = ParameterLayout()
        decays = layout.add("decays", shape: [7])
        mlp = MLP("mlp", sizes: [AdafactorFeatures.count]
                    + Array(repeating: configuration.hiddenSize, count: configuration.hiddenLayers) + [2],
                  layout: &layout)
        self.layout = layout
    }

    public func initialParameters(seed: UInt64) -> [Float] { Initialization.standard(layout, seed: seed) }

    public func optimizer(theta: [Float], horizon: Int? = nil) -> AdafactorMLPOptimizer {
        requireParameterCount(of: theta)
        return AdafactorMLPOptimizer(model: self, theta: theta, horizon: horizon)
    }
}

/// An ``AdafactorMLP`` with fixed meta-parameters, as an ordinary optimizer.
public struct AdafactorMLPOptimizer: Optimizer {
    public var name: String { "adafactor-mlp" }
    public let model: AdafactorMLP
    public let theta: [Float]
    public let horizon: Int?
    let decays: AdafactorFeatures.Decays

    init(model: AdafactorMLP, theta: [Float], horizon: Int?) {
        self.model = model
        self.theta = theta
        self.horizon = horizon
        decays = AdafactorFeatures.Decays(offsets: theta[model.decays.range])
    }

    /// Linear in d (``Optimizers/MemoryBudget``): per coordinate, 7 accumulators and a dozen vectors of Doubles, and
    /// the features and every hidden layer's activations of the MLP (`Float`).
    public func memoryBytes(dimension d: Int) -> Int {
        let c = model.configuration
        let activations = AdafactorFeatures.count + 2 + 2 * c.hiddenSize * c.hiddenLayers
        return MemoryBudget.bytes(perCoordinate: Double(8 * (7 + 12) + 4 * activations), dimension: d)
    }

    public struct State: OptimizerState, AdafactorFeatureState, Codable {
        public internal(set) var point: [Double]
        public internal(set) var iterate: [Double]
        public internal(set) var iterateValue: Double = .nan
        public internal(set) var iterateGradient: [Double] = []
        /// The accumulators.
        public internal(set) var features: AdafactorFeatures.State
    }

    public func makeState(start x0: [Double]) -> State {
        State(point: x0, iterate: x0, features: AdafactorFeatures.State(count: x0.count))
    }

    /// The step Δ for features of N coordinates (Δ = d·exp(expMult·a)·stepMult) and the mean of a over them.
    func step(features: [Float], count n: Int) -> (delta: [Double], meanMagnitude: Double) {
        let out = theta.withUnsafeBufferPointer { mlp.forward(features, rows: n, parameters: $0.baseAddress!) }
        let c = model.configuration
        var sum = 0.0
        for i in 0..<n { sum += Double(out[2 * i + 1]) }
        return ((0..<n).map { i in Double(out[2 * i]) * libmExp(c.expMult * Double(out[2 * i + 1])) * c.stepMult },
                n > 0 ? sum / Double(n) : 0)
    }

    var mlp: MLP { model.mlp }

    public func update(_ s: inout State, value: Double, gradient g: [Double]) -> OptimizerEvent {
        guard value.isFinite else { return .stopped(.nonFiniteObjective) }
        // The last secant pair (x_{k−1}, g_{k−1}); empty at the first step.
        let first = s.iterateGradient.isEmpty
        let previousPoint = first ? [] : s.iterate, previousGradient = s.iterateGradient
        s.enterStep(value: value, gradient: g)
        let features = AdafactorFeatures.update(&s.features, parameters: s.iterate, gradient: g, decays: decays)
        let (delta, meanMagnitude) = step(features: features, count: g.count)
        guard model.configuration.stepScale == .secant else {
            s.point = zip(s.iterate, delta).map { $0 - $1 }
            return .accepted
        }
        // Secant unit: direction from the network, length from the last secant pair (x_{k−1}, g_{k−1}), (x_k, g_k).
        let length = SecantStepScale.length(point: s.iterate, gradient: g, previousPoint: previousPoint,
                                            previousGradient: previousGradient)
        let factor = SecantStepScale.factor(length: length, meanMagnitude: meanMagnitude,
                                            multiplier: model.configuration.expMult, step: delta)
        s.point = zip(s.iterate, delta).map { $0 - factor * $1 }
        return .accepted
    }
}

@inline(__always) func libmExp(_ x: Double) -> Double { exp(x) }
