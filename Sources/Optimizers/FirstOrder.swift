import OptimusNumerics


/// The state of a first-order method (``GradientDescent``, ``Momentum``, ``Adam``): one evaluation per iteration.
public struct FirstOrderState: OptimizerState {
    public internal(set) var point: [Double]
    public internal(set) var iterate: [Double]
    public internal(set) var iterateValue: Double = .nan
    public internal(set) var iterateGradient: [Double] = []
    /// Momentum buffer v (``Momentum``) or first moment m (``Adam``); empty for ``GradientDescent``.
    public internal(set) var firstMoment: [Double]
    /// Second moment v (``Adam`` only).
    public internal(set) var secondMoment: [Double]
    /// Number of steps taken (t in Adam's bias correction).
    public internal(set) var steps = 0

    init(start x0: [Double], moments: Int) {
        point = x0
        iterate = x0
        firstMoment = moments >= 1 ? [Double](repeating: 0, count: x0.count) : []
        secondMoment = moments >= 2 ? [Double](repeating: 0, count: x0.count) : []
    }

    /// Accepts the evaluated point, or reports a non-finite evaluation.
    mutating func accept(value: Double, gradient: [Double]) -> Bool {
        guard value.isFinite else { return false }
        iterate = point
        iterateValue = value
        iterateGradient = gradient
        steps += 1
        return true
    }
}

/// Fixed-step gradient descent: x ← x − lr·∇f(x).
///
/// A non-finite value or gradient ends the run with ``TerminationReason/nonFiniteObjective`` (no step back).
public struct GradientDescent: Optimizer, Equatable, Codable {
    public var name: String { "gd" }
    /// The step size lr > 0. Default 1e−3.
    public var learningRate: Double

    public init(learningRate: Double = 1e-3) { self.learningRate = learningRate }

    public func makeState(start x0: [Double]) -> FirstOrderState { FirstOrderState(start: x0, moments: 0) }

    public func update(_ s: inout FirstOrderState, value: Double, gradient g: [Double]) -> OptimizerEvent {
        guard s.accept(value: value, gradient: g) else { return .stopped(.nonFiniteObjective) }
        var x = s.iterate
        for i in x.indices { x[i] = x[i] - learningRate * g[i] }
        s.point = x
        return .accepted
    }
}

/// Gradient descent with heavy-ball momentum, PyTorch convention (as the paper's GD-M baseline):
///
///     v ← μ·v + ∇f(x),   x ← x − lr·v,   v₀ = 0.
///
/// With `nesterov`, the step uses ∇f(x) + μ·v instead of v (PyTorch's Nesterov variant).
public struct Momentum: Optimizer, Equatable, Codable {
    public var name: String { "momentum" }
    /// lr > 0. Default 1e−3.
    public var learningRate: Double
    /// μ in [0, 1). Default 0.9.
    public var momentum: Double
    /// Nesterov's variant. Default false.
    public var nesterov: Bool

    public init(learningRate: Double = 1e-3, momentum: Double = 0.9, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public func makeState(start x0: [Double]) -> FirstOrderState { FirstOrderState(start: x0, moments: 1) }

    public func update(_ s: inout FirstOrderState, value: Double, gradient g: [Double]) -> OptimizerEvent {
        guard s.accept(value: value, gradient: g) else { return .stopped(.nonFiniteObjective) }
        var x = s.iterate
        for i in x.indices {
            let v = momentum * s.firstMoment[i] + g[i]
            s.firstMoment[i] = v
            x[i] = x[i] - learningRate * (nesterov ? g[i] + momentum * v : v)
        }
        s.point = x
        return .accepted
    }
}

/// Adam (Kingma & Ba 2015), bias-corrected:
///
///     m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,
///     m̂ = m/(1−β₁ᵗ),   v̂ = v/(1−β₂ᵗ),   x ← x − lr·m̂/(√v̂ + ε).
///
/// Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e−8 (the paper's baseline); lr default 1e−3, but the paper tunes lr per problem
/// over a grid (``LearningRateSearch``).
public struct Adam: Optimizer, Equatable, Codable {
    public var name: String { "adam" }
    /// lr > 0. Default 1e−3.
    public var learningRate: Double
    /// β₁ in [0, 1). Default 0.9.
    public var beta1: Double
    /// β₂ in [0, 1). Default 0.999.
    public var beta2: Double
    /// ε > 0. Default 1e−8.
    public var epsilon: Double

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func makeState(start x0: [Double]) -> FirstOrderState { FirstOrderState(start: x0, moments: 2) }

    public func update(_ s: inout FirstOrderState, value: Double, gradient g: [Double]) -> OptimizerEvent {
        guard s.accept(value: value, gradient: g) else { return .stopped(.nonFiniteObjective) }
        let t = Double(s.steps)
        let c1 = 1 - pow(beta1, t)
        let c2 = 1 - pow(beta2, t)
        var x = s.iterate
        for i in x.indices {
            let m = beta1 * s.firstMoment[i] + (1 - beta1) * g[i]
            let v = beta2 * s.secondMoment[i] + (1 - beta2) * (g[i] * g[i])
            s.firstMoment[i] = m
            s.secondMoment[i] = v
            let mHat = m / c1
            let vHat = v / c2
            x[i] = x[i] - learningRate * mHat / (vHat.squareRoot() + epsilon)
        }
        s.point = x
        return .accepted
    }
}
