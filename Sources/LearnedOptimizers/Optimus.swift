import NeuralNetworks
import OptimusNumerics
import Optimizers

/// Optimus (Gärtner et al., CVPR 2023): a per-parameter MLP proposes a step s, and Transformer encoders over the
/// parameter dimensions predict rank-one updates to a BFGS-like preconditioner B; the update is Δx = B·s.
///
/// Per step k, with the 39 ``AdafactorFeatures`` z_n of every coordinate n:
///
///     (d_n, α_n) = MLP(z_n),              s_n = λa·exp(λb·α_n)·d_n           (λa = λb = 0.1)
///     E⁰ = z·W_in + b_in,  Eˡ = Encoderˡ(Eˡ⁻¹),  u_l = Eˡ·M_l + c_l ∈ ℝᴺ    (l = 1…L)
///     B̃ = B + Σ_l u_l u_lᵀ,   B ← B̃ / ‖B̃‖,   B⁰ = I
///     x ← x − B·s
///
/// No positional encoding is used, so the step is permutation-equivariant in the coordinates, and one θ serves every
/// dimension. B stays symmetric positive semi-definite: it starts at I, gains only outer products and is divided by
/// a positive number. The choices the paper leaves open (norm, heads, feed-forward width, layer-norm placement,
/// initialization) are listed with their reasons in the article "Optimus architecture choices".
///
/// Variants (the paper's Table 4): ``Variant/noState`` rebuilds B from I every step; ``Variant/noStructure`` drops
/// B and lets the Transformer map [z, s] to Δx directly.
public struct Optimus: LearnedOptimizer {
    public static let kind = "optimus"

    /// Which model of Table 4.
    public enum Variant: String, Codable, Sendable {
        /// The full model.
        case full
        /// B rebuilt from the identity every step (no memory across steps).
        case noState
        /// No preconditioner: Δx_n = s_n + λa·v_n, with v the output of a head on the last encoder layer, whose
        /// input is [z_n, s_n].
        case noStructure
    }

    /// How B̃ is normalized.
    public enum Norm: String, Codable, Sendable {
        /// The spectral norm (largest eigenvalue of the PSD B̃), by warm-started power iteration: B⁰ = I has norm 1,
        /// so an untouched B leaves s unchanged at every dimension.
        case spectral
        /// The Frobenius norm: cheaper, but ‖I‖_F = √N shrinks the step by √N, so it does not transfer across N.
        case frobenius
    }

    /// What B starts from at each step before the learned rank-one updates are added.
    public enum CurvaturePrior: String, Codable, Sendable, CaseIterable {
        /// B from the previous step (the paper): all curvature is learned.
        case none
        /// The previous B after a self-scaled BFGS update with the last secant pair (``OptimusOptimizer``'s
        /// `bfgsUpdate`): the learned rank-one updates correct a quasi-Newton estimate instead of building one.
        case bfgs

        public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
    }

    /// Architecture hyperparameters.
    public struct Configuration: Codable, Sendable, Equatable {
        public var variant: Variant
        /// Width of the per-parameter MLP's hidden layers. Paper: 128.
        public var mlpHiddenSize: Int
        /// Number of hidden layers of the per-parameter MLP. Paper: 4.
        public var mlpHiddenLayers: Int
        /// Transformer width d. Paper: 128.
        public var modelWidth: Int
        /// Number of encoder layers L (= rank-one updates per step). Paper: 3.
        public var encoderLayers: Int
        /// Attention heads. Not in the paper; 2 (head width 64): at N = 1000 one step takes 42 ms with 1 head, 50 ms
        /// with 2 and 67 ms with 4 (the N² softmax runs once per head, and Q·Kᵀ with K = 32 runs BLAS below speed).
        public var heads: Int
        /// Feed-forward width. Not in the paper; 4·d = 512, the Transformer default.
        public var feedForwardWidth: Int
        /// λa. Paper: 0.1.
        public var lambdaA: Double
        /// λb. Paper: 0.1.
        public var lambdaB: Double
        /// Normalization of B̃.
        public var norm: Norm
        /// Power iterations per step for the spectral norm (warm-started from the previous step's vector).
        public var powerIterations: Int
        /// The unit of Δx: ``StepScale/absolute`` (the paper) or ``StepScale/secant`` (Δx = σ_k·B·s, equivariant to
        /// rescaling x; σ_k from ``SecantStepScale`` with unit λa). Not in the paper. A configuration without this
        /// field means `absolute`, and `absolute` is not written, so checkpoints written before it read and compare
        /// unchanged.
        public var stepScale: StepScale {
            get { stepScaleOption ?? .absolute }
            set { stepScaleOption = newValue == .absolute ? nil : newValue }
        }
        /// What the learned rank-one updates of B add to (``CurvaturePrior``; `none`, the paper, is not written).
        /// `bfgs` needs the full variant.
        public var curvaturePrior: CurvaturePrior {
            get { curvaturePriorOption ?? .none }
            set { curvaturePriorOption = newValue == .none ? nil : newValue }
        }
        // Stored as optionals (nil = the papers' choice), so the synthesized Codable omits them from a configuration
        // that does not use them: checkpoints written before the options existed read and compare unchanged.
        private var stepScaleOption: StepScale?
        private var curvaturePriorOption: CurvaturePrior?

        /// Whether the exact meta-gradient covers this configuration: absolute steps without a curvature prior.
        public var isDifferentiable: Bool { stepScale == .absolute && curvaturePrior == .none }

        public init(
            variant: Variant = .full, mlpHiddenSize: Int = 128, mlpHiddenLayers: Int = 4, modelWidth: Int = 128,
            encoderLayers: Int = 3, heads: Int = 2, feedForwardWidth: Int = 512, lambdaA: Double = 0.1,
            lambdaB: Double = 0.1, norm: Norm = .spectral, powerIterations: Int = 8, stepScale: StepScale = .absolute,
            curvaturePrior: CurvaturePrior = .none
        ) {
            stepScaleOption = stepScale == .absolute ? nil : stepScale
            curvaturePriorOption = curvaturePrior == .none ? nil : curvaturePrior
            self.variant = variant
            self.mlpHiddenSize = mlpHiddenSize
            self.mlpHiddenLayers = mlpHiddenLayers
            self.modelWidth = modelWidth
            self.encoderLayers = encoderLayers
            self.heads = heads
            self.feedForwardWidth = feedForwardWidth
            self.lambdaA = lambdaA
            self.lambdaB = lambdaB
            self.norm = norm
            self.powerIterations = powerIterations
        }

        /// The paper's model.
        public static let paper = Configuration()
        /// A small model for tests and quick experiments (width 32, 2 layers, MLP 32×2).
        public static let small = Configuration(mlpHiddenSize: 32, mlpHiddenLayers: 2, modelWidth: 32,
                                                encoderLayers: 2, heads: 2, feedForwardWidth: 64)

        private enum CodingKeys: String, CodingKey {
            case variant, mlpHiddenSize, mlpHiddenLayers, modelWidth, encoderLayers, heads, feedForwardWidth, lambdaA,
                 lambdaB, norm, powerIterations
            case stepScaleOption = "stepScale", curvaturePriorOption = "curvaturePrior"
        }
    }

    public let configuration: Configuration
    public let layout: ParameterLayout
    public let decays: TensorSpec
    public let stepMLP: MLP
    public let inputProjection: Dense
    public let encoders: [TransformerEncoderLayer]
    /// M_l (full, noState: one per layer) or the single Δx head (noStructure).
    public let heads: [Dense]

    /// Valid ranges: `mlpHiddenSize`, `modelWidth` 1…2048, `mlpHiddenLayers`, `encoderLayers` 1…32, `heads` ≥ 1
    /// dividing `modelWidth`, `feedForwardWidth` 1…8192, `lambdaA`, `lambdaB` finite in [0, 100], `powerIterations`
    /// 0…1000.
    public static func validate(_ c: Configuration) throws(CheckpointError) {
        try requireConfiguration((1...2048).contains(c.mlpHiddenSize), "mlpHiddenSize", c.mlpHiddenSize, valid: "1…2048")
        try requireConfiguration((1...32).contains(c.mlpHiddenLayers), "mlpHiddenLayers", c.mlpHiddenLayers, valid: "1…32")
        try requireConfiguration((1...2048).contains(c.modelWidth), "modelWidth", c.modelWidth, valid: "1…2048")
        try requireConfiguration((1...32).contains(c.encoderLayers), "encoderLayers", c.encoderLayers, valid: "1…32")
        try requireConfiguration(c.heads >= 1 && c.heads <= c.modelWidth && c.modelWidth % c.heads == 0, "heads", c.heads,
                                 valid: "a divisor of modelWidth (\(c.modelWidth))")
        try requireConfiguration((1...8192).contains(c.feedForwardWidth), "feedForwardWidth", c.feedForwardWidth,
                                 valid: "1…8192")
        try requireConfiguration(c.lambdaA.isFinite && (0...100).contains(c.lambdaA), "lambdaA", c.lambdaA,
                                 valid: "finite, in [0, 100]")
        try requireConfiguration(c.lambdaB.isFinite && (0...100).contains(c.lambdaB), "lambdaB", c.lambdaB,
                                 valid: "finite, in [0, 100]")
        try requireConfiguration((0...1000).contains(c.powerIterations), "powerIterations", c.powerIterations,
                                 valid: "0…1000")
        try requireConfiguration(c.curvaturePrior == .none || c.variant == .full, "curvaturePrior",
                                 c.curvaturePrior.rawValue, valid: "none unless the variant is full")
    }

    public init(configuration c: Configuration) {
        configuration = c
        var layout = ParameterLayout()
        decays = layout.add("decays", shape: [7])
        stepMLP = MLP("step_mlp", sizes: [AdafactorFeatures.count]
                        + Array(repeating: c.mlpHiddenSize, count: c.mlpHiddenLayers) + [2], layout: &layout)
        let inputs = AdafactorFeatures.count + (c.variant == .noStructure ? 1 : 0)
        inputProjection = Dense("input", inputs: inputs, outputs: c.modelWidth, layout: &layout)
        encoders = (0..<c.encoderLayers).map {
            TransformerEncoderLayer("encoder.\($0)", width: c.modelWidth, heads: c.heads,
                                    feedForwardWidth: c.feedForwardWidth, layout: &layout)
        }
        if c.variant == .noStructure {
            heads = [Dense("delta_head", inputs: c.modelWidth, outputs: 1, layout: &layout)]
        } else {
            heads = (0..<c.encoderLayers).map { Dense("rank_one.\($0)", inputs: c.modelWidth, outputs: 1, layout: &layout) }
        }
        self.layout = layout
    }

    /// Truncated-normal weights with σ = 1/√fan_in, except the rank-one heads (σ = 0.1/√d, so an untrained B starts
    /// near I) and the Δx head of ``Variant/noStructure`` (same).
    public func initialParameters(seed: UInt64) -> [Float] {
        Initialization.standard(layout, seed: seed, gains: ["rank_one.": 0.1, "delta_head.": 0.1])
    }

    public func optimizer(theta: [Float], horizon: Int? = nil) -> OptimusOptimizer {
        requireParameterCount(of: theta)
        return OptimusOptimizer(model: self, theta: theta, horizon: horizon)
    }

    /// Multiply-add FLOPs of one step at dimension n (matrix products, the B update and B·s).
    public func flops(dimension n: Int) -> Int {
        let d = configuration.modelWidth
        var total = n * stepMLP.flopsPerRow + 2 * n * inputProjection.inputs * d
        total += encoders.reduce(0) { $0 + $1.flops(rows: n) } + heads.count * 2 * n * d
        if configuration.variant != .noStructure {
            total += heads.count * 2 * n * n + 2 * n * n  // rank-one updates, B·s
            if configuration.norm == .spectral { total += configuration.powerIterations * 2 * n * n }
        }
        return total
    }
}
