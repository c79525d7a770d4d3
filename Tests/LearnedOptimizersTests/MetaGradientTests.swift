import Foundation
import NeuralNetworks
import Objectives
import OptimusNumerics
import Optimizers
import Testing
@testable import LearnedOptimizers

/// The meta-loss of the checks: ℓ = log₁₀((f − f*)/(f₀ − f*)), the training normalizer without its clip.
func logProgress(fStar: Double, f0: Double) -> StepLoss {
    { f in
        guard f.isFinite, f > fStar else { return (2, 0) }
        return (log10((f - fStar) / (f0 - fStar)), 1 / ((f - fStar) * log(10.0)))
    }
}

/// The backprop meta-gradient against finite differences of the meta-loss, in Double.
///
/// The meta-loss is L(θ) = Σ_t ℓ(f(x_t)) over a 5-step unroll that starts from a state reached by 3 ordinary steps
/// (so the accumulators, B and the power vector are not at their initial values and their adjoints matter). The
/// reference is a Richardson-extrapolated central difference along random unit directions u of θ:
/// R = (4·D(h/2) − D(h))/3 with D(h) = (L(θ + h·u) − L(θ − h·u))/(2h) and h = 10⁻⁴, whose truncation error is
/// O(h⁴) and rounding error ≈ 1e−16·|L|/h ≈ 1e−11 in Double. (Measured along the gradient of the full model:
/// R(10⁻²) = 4.22635, R(10⁻³) = 4.2268330, R(10⁻⁴) = 4.226825006836 against backprop's 4.226825006826: the
/// unconverged power iteration makes L strongly curved, so h = 10⁻³ is not small enough.) The tolerance, 1e−6
/// relative to |∇L|, is dominated by neither: a wrong adjoint (a missing path through B, the power iteration, the
/// accumulators or the objective's Hessian) is off at order 1, and Float would be off at ~1e−3, which is why the
/// check runs in Double.
@Suite struct MetaGradientTests {
    static let dimension = 5

    func setting() -> (objective: BenchmarkObjective, start: [Double]) {
        var g = Xoshiro256StarStar(seed: 11)
        let offset = (0..<Self.dimension).map { _ in g.uniform(-0.3, 0.3) }
        let objective = try! BenchmarkObjective(.rosenbrock, dimension: Self.dimension, offset: offset)
        return (objective, (0..<Self.dimension).map { _ in g.uniform(-1.5, 1.5) })
    }

    /// θ drawn by the model's initializer, with the rank-one heads and decays given weight so that every path counts.
    func randomTheta(_ layout: ParameterLayout, seed: UInt64) -> [Double] {
        var g = Xoshiro256StarStar(seed: seed)
        return (0..<layout.count).map { _ in g.uniform(-0.25, 0.25) }
    }

    func directionalCheck(
        parameterCount: Int, seed: UInt64, label: String,
        loss: ([Double]) -> Double, gradient: [Double], theta: [Double]
    ) {
        var g = Xoshiro256StarStar(seed: seed)
        let norm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(norm > 1e-6, "\(label): gradient is zero")
        for trial in 0..<3 {
            var u = (0..<parameterCount).map { _ in g.normal() }
            // One direction along the gradient itself, two random ones.
            if trial == 0 { u = gradient }
            let un = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            u = u.map { $0 / un }
            func d(_ h: Double) -> Double {
                let plus = zip(theta, u).map { $0 + h * $1 }, minus = zip(theta, u).map { $0 - h * $1 }
                return (loss(plus) - loss(minus)) / (2 * h)
            }
            let h = 1e-4
            let reference = (4 * d(h / 2) - d(h)) / 3
            let analytic = zip(gradient, u).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(reference - analytic) <= 1e-6 * norm,
                    "\(label) direction \(trial): backprop \(analytic), finite differences \(reference), |∇| \(norm)")
        }
    }

    @Test(arguments: [
        ("full, spectral", Optimus.Configuration.small),
        ("no state", { var c = Optimus.Configuration.small; c.variant = .noState; return c }()),
        ("no structure", { var c = Optimus.Configuration.small; c.variant = .noStructure; return c }()),
        ("Frobenius norm", { var c = Optimus.Configuration.small; c.norm = .frobenius; return c }()),
    ])
    func optimusGradientMatchesFiniteDifferences(_ label: String, _ configuration: Optimus.Configuration) {
        let model = Optimus(configuration: configuration)
        let (objective, x0) = setting()
        let theta = randomTheta(model.layout, seed: 5)
        let optimizer = model.optimizer(theta: theta.map(Float.init))
        var start = optimizer.makeState(start: x0)
        for _ in 0..<3 {
            let (f, g) = objective.valueAndGradient(at: start.point)
            _ = optimizer.update(&start, value: f, gradient: g)
        }
        let loss = logProgress(fStar: objective.fStar, f0: objective.value(at: x0))
        func metaLoss(_ t: [Double]) -> Double {
            var s = start
            return model.unrollGradient(theta: t, state: &s, objective: objective, steps: 5, loss: loss).losses
                .reduce(0, +)
        }
        var s = start
        let result = model.unrollGradient(theta: theta, state: &s, objective: objective, steps: 5, loss: loss)
        #expect(result.finite)
        directionalCheck(parameterCount: model.parameterCount, seed: 3, label: "Optimus \(label)", loss: metaLoss,
                         gradient: result.gradient, theta: theta)
        // The decay offsets reach the loss only through the accumulators: check each one on its own.
        for k in 0..<7 {
            let i = model.decays.offset + k
            func d(_ h: Double) -> Double {
                var p = theta, m = theta
                p[i] += h
                m[i] -= h
                return (metaLoss(p) - metaLoss(m)) / (2 * h)
            }
            let reference = (4 * d(5e-5) - d(1e-4)) / 3
            #expect(abs(reference - result.gradient[i]) <= 1e-6 * max(1, abs(reference)),
                    "Optimus \(label) decay \(k): \(result.gradient[i]) vs \(reference)")
        }
    }

    @Test func adafactorMLPGradientMatchesFiniteDifferences() {
        let model = AdafactorMLP(configuration: .init(hiddenSize: 8, hiddenLayers: 2, expMult: 0.5, stepMult: 0.05))
        let (objective, x0) = setting()
        let theta = randomTheta(model.layout, seed: 6)
        let optimizer = model.optimizer(theta: theta.map(Float.init))
        var start = optimizer.makeState(start: x0)
        for _ in 0..<3 {
            let (f, g) = objective.valueAndGradient(at: start.point)
            _ = optimizer.update(&start, value: f, gradient: g)
        }
        let loss = logProgress(fStar: objective.fStar, f0: objective.value(at: x0))
        func metaLoss(_ t: [Double]) -> Double {
            var s = start
            return model.unrollGradient(theta: t, state: &s, objective: objective, steps: 5, loss: loss).losses
                .reduce(0, +)
        }
        var s = start
        let result = model.unrollGradient(theta: theta, state: &s, objective: objective, steps: 5, loss: loss)
        #expect(result.finite)
        directionalCheck(parameterCount: model.parameterCount, seed: 4, label: "Adafactor-MLP", loss: metaLoss,
                         gradient: result.gradient, theta: theta)
    }

    /// In Float the differentiated unroll walks the optimizer's own trajectory, bit for bit: the gradient is the
    /// gradient of what `update` does.
    @Test(arguments: [Optimus.Variant.full, .noState, .noStructure])
    func singlePrecisionUnrollIsTheOptimizersTrajectory(_ variant: Optimus.Variant) {
        var configuration = Optimus.Configuration.small
        configuration.variant = variant
        let model = Optimus(configuration: configuration)
        let (objective, x0) = setting()
        let theta = model.initialParameters(seed: 2)
        let optimizer = model.optimizer(theta: theta)
        var plain = optimizer.makeState(start: x0)
        var differentiated = plain
        for _ in 0..<6 {
            let (f, g) = objective.valueAndGradient(at: plain.point)
            _ = optimizer.update(&plain, value: f, gradient: g)
        }
        _ = model.unrollGradient(theta: theta, state: &differentiated, objective: objective, steps: 6,
                                 loss: logProgress(fStar: objective.fStar, f0: objective.value(at: x0)))
        #expect(plain.point.map(\.bitPattern) == differentiated.point.map(\.bitPattern))
        #expect(plain.preconditioner.storage.map(\.bitPattern) == differentiated.preconditioner.storage.map(\.bitPattern))
        #expect(plain.powerVector.map(\.bitPattern) == differentiated.powerVector.map(\.bitPattern))
        #expect(plain.features == differentiated.features)
    }

    @Test func singlePrecisionGradientIsCloseToTheReference() {
        let model = Optimus(configuration: .small)
        let (objective, x0) = setting()
        let theta = model.initialParameters(seed: 2)
        let start = model.optimizer(theta: theta).makeState(start: x0)
        let loss = logProgress(fStar: objective.fStar, f0: objective.value(at: x0))
        var a = start, b = start
        let single = model.unrollGradient(theta: theta, state: &a, objective: objective, steps: 5, loss: loss)
        let double = model.unrollGradient(theta: theta, state: &b, objective: objective, steps: 5, loss: loss,
                                          precision: .double)
        let norm = double.gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let error = zip(single.gradient, double.gradient).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        // Float's rounding, amplified through 5 steps: a few 1e−5 of the gradient's norm.
        #expect(error / norm < 1e-3, "single vs double: relative error \(error / norm)")
    }
}
