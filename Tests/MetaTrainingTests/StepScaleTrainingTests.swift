import Foundation
import LearnedOptimizers
@testable import MetaTraining
import OptimusNumerics
import Testing
import TrainingRuns

/// `model.stepScale` in a training configuration: validated, refused with the exact meta-gradient, and accepted when
/// fine-tuning from a checkpoint of the other unit.
@Suite struct StepScaleTrainingTests {
    static func decode(_ json: String) throws -> TrainingConfiguration { try TrainingConfiguration.decode(Data(json.utf8)) }

    static func message(_ json: String) -> String? {
        do { _ = try decode(json); return nil } catch { return "\(error)" }
    }

    @Test func theStepScaleIsValidated() throws {
        #expect(try Self.decode("{}").model.stepScale == .absolute)
        let secant = try Self.decode(#"{"model": {"stepScale": "secant"}, "estimator": "truncated-es"}"#)
        #expect(secant.model.stepScale == .secant)
        #expect(try TrainingConfiguration.decode(JSONEncoder().encode(secant)) == secant)
        #expect(Self.message(#"{"model": {"stepScale": "relative"}}"#)
                == "model.stepScale: 'relative' is not valid; valid: absolute, secant")
        var backprop = secant
        backprop.estimator = .backprop
        backprop.pes.persistent = true
        do {
            try backprop.validate()
            Issue.record("accepted secant steps with the backprop estimator")
        } catch {
            #expect("\(error)".hasPrefix("model.stepScale: 'secant' is trained with estimator pes or truncated-es"))
        }
    }

    /// Fine-tuning an absolute checkpoint into secant steps: θ₀ is the checkpoint's, the trained checkpoint is written
    /// with the secant unit, and a checkpoint of another preset is still refused.
    @Test func fineTuningChangesTheUnitAndKeepsTheta() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secant-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let start = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 7))
        let startURL = folder.appendingPathComponent("start.safetensors")
        try start.write(to: startURL)
        var config = ExtendRunTests.config(steps: 1)
        config.estimator = .truncatedES
        config.model.stepScale = .secant
        config.model.initialCheckpoint = startURL.path
        config.pes.learningRate = 1e-9  // one Adam step moves θ by about 1e-9: θ₀ must be the checkpoint's
        let output = folder.appendingPathComponent("run")
        try MetaTrainingRun.run(configuration: config, output: output, resume: false)
        let trained = try Checkpoint.read(from: output.appendingPathComponent("adafactor-mlp.safetensors"))
        #expect(try trained.configuration(of: AdafactorMLP.self).stepScale == .secant)
        let moved = zip(trained.parameters, start.parameters).map { abs($0 - $1) }.max() ?? .infinity
        #expect(moved <= 1e-7, "θ moved by \(moved) from the fine-tuning checkpoint")
        let paper = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "paper", seed: 7))
        try paper.write(to: startURL)
        #expect(throws: MetaTrainingError.self) {
            try MetaTrainingRun.run(configuration: config, output: folder.appendingPathComponent("other"), resume: false)
        }
    }
}
