import Foundation
@testable import MetaTraining
import OptimusNumerics
import Testing
import TrainingRuns

/// An inner problem whose loss at a trajectory's step t is t itself (θ plays no part): the truncation losses the
/// estimators report are then sums of the weights times the step index, known in closed form.
struct StepIndexLoss: InnerProblem {
    struct State: Codable, Sendable { var step: Int }
    var parameterCount: Int { 3 }
    func stepper(theta: [Float]) -> Int { 0 }
    func reset(generator: inout Xoshiro256StarStar) -> State { State(step: 0) }
    func step(_ stepper: Int, state: inout State) -> Double {
        defer { state.step += 1 }
        return Double(state.step)
    }
}

@Suite struct LossWeightingTests {
    static func configuration(_ weighting: LossWeighting) -> PESConfiguration {
        var c = PESConfiguration()
        c.particles = 1
        c.truncationLength = 5
        c.schedule = .constant(length: 10)
        c.initialOffset = 0
        c.lossWeighting = weighting
        return c
    }

    /// The reported loss of three consecutive truncations of one particle (trajectories of 10 steps, truncations of 5
    /// slots; the third truncation spends its first slot on the reset).
    static func truncationLosses(_ weighting: LossWeighting, persistent: Bool) -> [Double] {
        let c = configuration(weighting)
        var losses: [Double] = []
        if persistent {
            let e = PESEstimator(problem: StepIndexLoss(), configuration: c)
            var p = e.initialParticle(index: 0)
            for k in 0..<3 { losses.append(e.advance(&p, theta: [0, 0, 0], truncation: k, index: 0).loss) }
        } else {
            let e = TruncatedESEstimator(problem: StepIndexLoss(), configuration: c)
            var p = e.initialParticle(index: 0)
            for k in 0..<3 { losses.append(e.advance(&p, theta: [0, 0, 0], truncation: k, index: 0).loss) }
        }
        return losses
    }

    @Test func weightsHaveMeanOneAndGrowLinearly() {
        for length in [1, 2, 7, 50] {
            let w = (0..<length).map { LossWeighting.linear.weight(step: $0, length: length) }
            #expect(abs(w.reduce(0, +) / Double(length) - 1) < 1e-14, "T = \(length)")
            #expect(abs(w[length - 1] - 2 * Double(length) / Double(length + 1)) < 1e-14)
        }
        #expect(LossWeighting.uniform.weight(step: 3, length: 10) == 1)
    }

    @Test(arguments: [true, false]) func truncationLossesAreTheWeightedMeans(persistent: Bool) {
        // Uniform: the mean step index of each truncation (0…4, 5…9, then 0…3 after the reset slot).
        #expect(Self.truncationLosses(.uniform, persistent: persistent) == [2, 7, 1.5])
        // Linear, T = 10: w_t = 2(t + 1)/11, so the loss is Σ t·2(t + 1)/11 over the truncation's steps / their count.
        let expected = [(2.0 / 11) * 40 / 5, (2.0 / 11) * 290 / 5, (2.0 / 11) * 20 / 4]
        let got = Self.truncationLosses(.linear, persistent: persistent)
        for (g, e) in zip(got, expected) { #expect(abs(g - e) < 1e-12, "\(got) against \(expected)") }
    }

    @Test func configurationFieldIsOptionalValidatedAndNeedsAnESEstimator() throws {
        func decode(_ json: String) throws -> TrainingConfiguration { try TrainingConfiguration.decode(Data(json.utf8)) }
        #expect(try decode("{}").pes.lossWeighting == .uniform)
        let late = try decode(#"{"pes": {"lossWeighting": "linear"}}"#)
        #expect(late.pes.lossWeighting == .linear)
        #expect(try TrainingConfiguration.decode(JSONEncoder().encode(late)) == late)
        #expect(try decode(#"{"estimator": "truncated-es", "pes": {"lossWeighting": "linear"}}"#).pes.lossWeighting == .linear)
        do {
            _ = try decode(#"{"pes": {"lossWeighting": "quadratic"}}"#)
            Issue.record("accepted lossWeighting 'quadratic'")
        } catch {
            #expect("\(error)" == "pes.lossWeighting: 'quadratic' is not valid; valid: uniform, linear")
        }
        let backprop = try decode(#"{"estimator": "backprop", "pes": {"lossWeighting": "linear"}}"#)
        do {
            try backprop.validate()
            Issue.record("backprop accepted lossWeighting linear")
        } catch {
            #expect("\(error)".hasPrefix("pes.lossWeighting: 'linear' needs estimator pes or truncated-es"))
        }
        // A PESConfiguration encoded without the field (as before it existed) decodes to uniform.
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(PESConfiguration())) as? [String: Any])
        object["lossWeighting"] = nil
        let old = try JSONDecoder().decode(PESConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old == PESConfiguration() && old.lossWeighting == .uniform)
    }
}
