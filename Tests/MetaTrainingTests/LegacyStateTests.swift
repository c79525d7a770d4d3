import Foundation
import LearnedOptimizers
@testable import MetaTraining
import OptimusNumerics
import TaskFamilies
import Testing
@testable import TrainingRuns

/// Training states written before the estimator seam (`Resources/legacy-pes-state`, see its README): they must load
/// and continue bit-identically.
@Suite struct LegacyStateTests {
    static func fixture(_ name: String) throws -> URL {
        let root = try #require(Bundle.module.url(forResource: "legacy-pes-state", withExtension: nil, subdirectory: "Resources"))
        return root.appendingPathComponent(name)
    }

    /// Resumes the stored step-3 state through `MetaTrainingRun.run` with the stored configuration and returns the
    /// output folder (the caller removes it).
    static func resume(_ name: String) throws -> URL {
        let folder = try fixture(name)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("legacy-\(name)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("config.json"),
                                         to: output.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: folder.appendingPathComponent("training-state-step3.bin"),
                                         to: output.appendingPathComponent("training-state.bin"))
        let config = try TrainingConfiguration.decode(Data(contentsOf: folder.appendingPathComponent("config.json")))
        try MetaTrainingRun.run(configuration: config, output: output, resume: true)
        return output
    }

    @Test func oldConfigurationMeansPES() throws {
        for name in ["adafactor-mlp", "optimus-small"] {
            let data = try Data(contentsOf: Self.fixture(name).appendingPathComponent("config.json"))
            #expect(!String(decoding: data, as: UTF8.self).contains("estimator"))
            let config = try TrainingConfiguration.decode(data)
            #expect(config.estimator == .pes && config.resolvedEstimator == .pes && config.pes.persistent)
            #expect(config.pes.gradientNormClip == 0 && config.outerSteps == 6)
        }
    }

    /// The stored state decodes as today's PES state and re-encodes to the same bytes (the file format is unchanged).
    @Test func oldStateDecodesAndReencodesByteForByte() throws {
        typealias State = MetaTrainer<PESEstimator<LearnedOptimizerProblem<AdafactorMLP, TaskDistribution>>>.State
        let url = try Self.fixture("adafactor-mlp").appendingPathComponent("training-state-step3.bin")
        let state = try MetaTrainingRun.readState(url, as: State.self)
        #expect(state.outerStep == 3 && state.truncations == 3 && state.particles.count == 4)
        #expect(try MetaTrainingRun.stateMagic + BinaryCoder.encode(state) == Data(contentsOf: url))
    }

    /// Step 3 → 6 with the new code: θ, and for Adafactor-MLP the whole training-state file, bit-identical to the run
    /// made by the old code.
    @Test func adafactorMLPResumesBitIdentically() throws {
        let output = try Self.resume("adafactor-mlp")
        defer { try? FileManager.default.removeItem(at: output) }
        let folder = try Self.fixture("adafactor-mlp")
        let expected = try Checkpoint.read(from: folder.appendingPathComponent("adafactor-mlp-step6.safetensors"))
        let trained = try Checkpoint.read(from: output.appendingPathComponent("adafactor-mlp.safetensors"))
        let same = trained.parameters.map(\.bitPattern) == expected.parameters.map(\.bitPattern)
        #expect(same, "θ differs from the old code's in \(zip(trained.parameters, expected.parameters).filter { $0 != $1 }.count) coordinates")
        #expect(try Data(contentsOf: output.appendingPathComponent("training-state.bin"))
                == Data(contentsOf: folder.appendingPathComponent("training-state-step6.bin")))
        #expect(trained.provenance["estimator"] == "pes" && trained.provenance["source"] == "optimus train (PES)")
        let metrics = try MetaTrainingRun.readMetrics(output.appendingPathComponent("metrics.jsonl"))
        #expect(metrics.map(\.step) == [4, 5, 6] && metrics.allSatisfy { $0.estimator == "pes" && $0.esVariance == nil })
    }

    /// Optimus's attention changed arithmetic with the project's own kernels (issue 14: the softmax sums in 16
    /// lanes instead of 8, products are single FMA chains), so the old code's step-6 θ is matched to float rounding,
    /// and the current code's (`optimus-step6-kernels.safetensors`, written by this code from the same step-3 state)
    /// bit for bit.
    @Test func optimusResumes() throws {
        let output = try Self.resume("optimus-small")
        defer { try? FileManager.default.removeItem(at: output) }
        let folder = try Self.fixture("optimus-small")
        let old = try Checkpoint.read(from: folder.appendingPathComponent("optimus-step6.safetensors"))
        let current = try Checkpoint.read(from: folder.appendingPathComponent("optimus-step6-kernels.safetensors"))
        let trained = try Checkpoint.read(from: output.appendingPathComponent("optimus.safetensors"))
        let worst = zip(trained.parameters, old.parameters).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        #expect(worst <= 1e-6, "θ differs from the old code's by \(worst)")
        let same = trained.parameters.map(\.bitPattern) == current.parameters.map(\.bitPattern)
        #expect(same, "θ differs from the current code's in \(zip(trained.parameters, current.parameters).filter { $0 != $1 }.count) coordinates")
    }
}

@Suite struct EstimatorConfigurationTests {
    func decode(_ json: String) throws -> TrainingConfiguration { try TrainingConfiguration.decode(Data(json.utf8)) }

    func error(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch { return "\(error)" }
    }

    @Test func estimatorIsDecodedAndUnknownOnesAreRejected() throws {
        #expect(try decode("{}").estimator == .pes)
        for kind in MetaGradientEstimatorKind.allCases {
            let config = try decode(#"{"estimator": "\#(kind.rawValue)"}"#)
            #expect(config.estimator == kind && config.resolvedEstimator == kind)
            #expect(config.pes.persistent == (kind != .truncatedES))
            // The canonical form written to config.json decodes to itself.
            #expect(try TrainingConfiguration.decode(JSONEncoder().encode(config)) == config)
        }
        let message = try #require(error(#"{"estimator": "sgd"}"#))
        #expect(message == "estimator: 'sgd' is not valid; valid: pes, truncated-es, backprop, hybrid")
        #expect(error(#"{"estimator": 3}"#)?.hasPrefix("estimator: ") == true)
    }

    @Test func persistentFalseMeansTruncatedES() throws {
        let config = try decode(#"{"pes": {"persistent": false}}"#)
        #expect(config.estimator == .truncatedES && config.resolvedEstimator == .truncatedES && !config.pes.persistent)
        #expect(try decode(#"{"estimator": "truncated-es", "pes": {"persistent": false}}"#) == config)
        #expect(try decode(#"{"estimator": "pes", "pes": {"persistent": true}}"#).estimator == .pes)
        // Contradictions name the field.
        #expect(error(#"{"estimator": "backprop", "pes": {"persistent": false}}"#)?.hasPrefix("pes.persistent: ") == true)
        #expect(error(#"{"estimator": "pes", "pes": {"persistent": false}}"#)?.hasPrefix("pes.persistent: ") == true)
        #expect(error(#"{"estimator": "truncated-es", "pes": {"persistent": true}}"#)?.hasPrefix("pes.persistent: ") == true)
        // Built in code: the legacy flag still selects truncated ES, and contradicts the differentiable estimators.
        var built = TrainingConfiguration()
        built.pes.persistent = false
        #expect(built.resolvedEstimator == .truncatedES && built.canonical == config)
        built.estimator = .hybrid
        #expect(throws: MetaTrainingError.self) { try built.validate() }
        var negative = TrainingConfiguration()
        negative.pes.gradientNormClip = -1
        do { try negative.validate(); Issue.record("accepted a negative norm clip") } catch {
            #expect(error.description.hasPrefix("pes.gradientNormClip"))
        }
    }

    /// A checkpoint kind the registry does not know is an error naming it and the known kinds (it used to be read as
    /// Optimus).
    @Test func unknownCheckpointKindIsRejected() throws {
        var checkpoint = try #require(LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 1))
        checkpoint.kind = "mystery-mlp"
        do {
            _ = try MetaTrainingRun.heldOutLoss(configuration: ExtendRunTests.config(steps: 1), checkpoint: checkpoint,
                                                tasks: 1, seed: 1, steps: 1)
            Issue.record("accepted kind mystery-mlp")
        } catch {
            #expect("\(error)" == "kind: 'mystery-mlp' is not a learned optimizer kind meta-training knows; valid: "
                + "adafactor-mlp, optimus")
        }
        #expect(LearnedOptimizerRegistry.kinds == [AdafactorMLP.kind, Optimus.kind])
    }
}
