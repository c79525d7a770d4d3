import Foundation
@testable import HumanMotion
import LearnedOptimizers
@testable import MetaTraining
import Objectives
import OptimusNumerics
import TaskFamilies
import Testing
import TrainingRuns

enum MotionTestData {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/humanoid-motions")
    static func distribution(window: Double = 0.5) -> MotionTaskDistribution {
        var d = MotionTaskDistribution()
        d.data = folder.path
        d.clips = ["run", "dance_b"]
        d.windowSeconds = window
        return d
    }
}

@Suite struct MotionTaskTests {
    /// Tasks are replayable from their seed, windows start from the ground truth at a time inside the clip, and the
    /// objective is the reconstruction window with the observed poses as its start.
    @Test func windowsAreSeededAndStartFromTheTruth() throws {
        let family = try MotionTaskFamily(MotionTestData.distribution())
        var a = Xoshiro256StarStar(seed: 3), b = Xoshiro256StarStar(seed: 3)
        let specs = (0..<20).map { _ in family.sample(using: &a) }
        #expect(specs == (0..<20).map { _ in family.sample(using: &b) })
        #expect(Set(specs.map(\.clip)) == ["run", "dance_b"])
        let humanoid = family.simulator.humanoid
        for spec in specs.prefix(4) {
            let clip = try MotionClip.load(MotionData.clipURL(spec.clip, in: MotionTestData.folder), humanoid: humanoid)
            #expect(spec.start >= 0 && spec.start <= clip.duration - 0.5 + 1e-12)
            let window = family.window(spec)
            #expect(window.dimension == 9 * 36 && abs(window.startTime - spec.start) < 1e-12)
            let (objective, x0, fStar) = family.build(spec)
            #expect(fStar == 0 && x0 == window.initialParameters && objective.dimension == x0.count)
            var scaledFamily = family.distribution
            scaledFamily.parameterScale = 0.01
            let (scaledObjective, y0, _) = try MotionTaskFamily(scaledFamily).build(spec)
            #expect(zip(y0, x0).allSatisfy { abs($0 * 0.01 - $1) <= 1e-15 * abs($1) })
            // (y₀·s differs from x₀ in the last bit; the stiff rollout amplifies that to ≈ 1e−10 relative.)
            #expect(abs(scaledObjective.value(at: y0) - objective.value(at: x0)) <= 1e-8 * objective.value(at: x0))
            let f0 = objective.value(at: x0)
            #expect(f0.isFinite && f0 > 0)
            // The initial state is the true pose at the start, lifted straight up just enough that no contact point is
            // below the ground (the mocap's feet sometimes are).
            let truth = humanoid.keypoints(clip.pose(at: spec.start))
            let state = family.simulator.keypoints(window.initialState)
            let lift = state[0].y - truth[0].y
            let error = zip(truth, state).map { t, s in
                let d = s - t - Vec3(0, lift, 0)
                return (d * d).sum().squareRoot()
            }.max()!
            // (Between frames the clip's hinge rotations are nlerped quaternions while the state keeps the lerped
            // angle: up to ≈ 0.1 mm apart.)
            #expect(lift >= 0 && error < 2e-4, "\(spec): lift \(lift) m, residual \(error) m")
            let frames = humanoid.frames(family.simulator.unflatten(window.initialState).pose)
            let lowest = family.simulator.contactPoints.map { frames[$0.body].apply($0.point).y - $0.radius }.min()!
            #expect(lift == 0 ? lowest >= -1e-6 : abs(lowest) < 1e-6, "\(spec): lowest contact point \(lowest) m")
        }
    }

    /// Near the clip's end the initial velocities come from a backward difference (finite, the truth's direction).
    @Test func initialStateAtTheEndOfAClip() throws {
        let family = try MotionTaskFamily(MotionTestData.distribution())
        let clip = try MotionClip.load(MotionData.clipURL("run", in: MotionTestData.folder), humanoid: family.simulator.humanoid)
        let observed = ObservedClip(clip: clip, humanoid: family.simulator.humanoid, seed: 1)
        let sim = family.simulator
        let x = Reconstructor.initialState(observed, simulator: sim, fromTruth: true, at: clip.duration)
        #expect(x.allSatisfy { $0.isFinite })
        let s = sim.unflatten(x)
        let world = s.pose.rotations[0].rotate(s.rootLinearVelocity)
        let expected = (clip.pose(at: clip.duration).rootPosition - clip.pose(at: clip.duration - 0.1).rootPosition) / 0.1
        #expect(((world - expected) * (world - expected)).sum().squareRoot() < 1e-9)
    }

    @Test func badMotionConfigurationsNameTheField() throws {
        var d = MotionTestData.distribution()
        d.clips = ["moonwalk"]
        #expect(throws: MetaTrainingError.self) { try MotionTaskFamily(d) }
        do { _ = try MotionTaskFamily(d) } catch { #expect(error.description.hasPrefix("motionTasks.clips: 'moonwalk'")) }
        d = MotionTestData.distribution(window: 3)
        do { _ = try MotionTaskFamily(d) } catch { #expect(error.description.hasPrefix("motionTasks.windowSeconds")) }
        var config = TrainingConfiguration()
        config.taskFamily = "images"
        do { try config.validate(); Issue.record("accepted taskFamily images") } catch {
            #expect(error.description.hasPrefix("taskFamily: 'images' is not valid"))
        }
        #expect(throws: MetaTrainingError.self) {
            try TrainingConfiguration.decode(Data(#"{"motionTasks": {"clip": ["run"]}}"#.utf8))
        }
    }

    /// `optimus train` on reconstruction windows, fine-tuning from a checkpoint: θ₀ is the checkpoint's, one outer
    /// Adam step moves every coordinate by at most the learning rate (Adam's first step is ±lr per coordinate), and the
    /// run writes finite metrics and a checkpoint of the same model.
    @Test func fineTuningOnReconstructionWindows() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("motion-train-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let start = LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 7)!
        let startURL = folder.appendingPathComponent("start.safetensors")
        try start.write(to: startURL)
        var config = TrainingConfiguration()
        config.model.kind = "adafactor-mlp"
        config.model.preset = "reference"
        config.model.initialCheckpoint = startURL.path
        config.taskFamily = "motion"
        config.motionTasks = MotionTestData.distribution(window: 0.1)
        config.motionTasks.keyframeInterval = 0.05
        config.pes.particles = 2
        config.pes.truncationLength = 2
        config.pes.schedule = .constant(length: 4)
        config.pes.initialOffset = 0
        config.pes.learningRate = 1e-3
        config.outerSteps = 1
        config.validation.every = 1
        config.validation.tasks = 2
        config.validation.steps = 2
        let output = folder.appendingPathComponent("run")
        try MetaTrainingRun.run(configuration: config, output: output, resume: false)
        let trained = try Checkpoint.read(from: output.appendingPathComponent("adafactor-mlp.safetensors"))
        #expect(trained.kind == start.kind && trained.parameters.count == start.parameters.count)
        let moves = zip(trained.parameters, start.parameters).map { abs(Double($0) - Double($1)) }
        #expect(moves.max()! <= 1e-3 * 1.001 && moves.max()! > 0)
        let metrics = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let line = try JSONDecoder().decode(TrainingMetrics.self, from: Data(metrics.split(separator: "\n")[0].utf8))
        #expect(line.loss.isFinite && line.validationLoss?.isFinite == true && line.innerSteps == 2 * 2 * 2)
        // A checkpoint of another model is refused, naming the field.
        config.model.kind = "optimus"
        config.model.preset = "small"
        do {
            try MetaTrainingRun.run(configuration: config, output: folder.appendingPathComponent("other"), resume: false)
            Issue.record("accepted an adafactor-mlp checkpoint for optimus")
        } catch { #expect("\(error)".hasPrefix("model.initialCheckpoint")) }
    }
}

@Suite struct ExtendRunTests {
    static func config(steps: Int) -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model.kind = "adafactor-mlp"
        c.model.preset = "reference"
        c.tasks.maximumDimension = 8
        c.pes.particles = 2
        c.pes.truncationLength = 3
        c.pes.schedule = .constant(length: 6)
        c.pes.threads = 1
        c.outerSteps = steps
        c.checkpointEvery = 1
        c.validation.every = 0
        return c
    }

    /// A finished run extended with a larger outerSteps continues where it stopped, bit-identical to a run made that
    /// long from the start; any other change, or fewer steps than already run, is refused.
    @Test func resumeWithMoreOuterStepsExtendsTheRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("extend-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let extended = folder.appendingPathComponent("extended"), straight = folder.appendingPathComponent("straight")
        try MetaTrainingRun.run(configuration: Self.config(steps: 2), output: extended, resume: false)
        try MetaTrainingRun.run(configuration: Self.config(steps: 4), output: extended, resume: true)
        try MetaTrainingRun.run(configuration: Self.config(steps: 4), output: straight, resume: false)
        let a = try Checkpoint.read(from: extended.appendingPathComponent("adafactor-mlp.safetensors"))
        let b = try Checkpoint.read(from: straight.appendingPathComponent("adafactor-mlp.safetensors"))
        #expect(a.parameters == b.parameters)
        let lines = try String(contentsOf: extended.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == 4)
        let stored = try TrainingConfiguration.decode(Data(contentsOf: extended.appendingPathComponent("config.json")))
        #expect(stored.outerSteps == 4)
        do {
            try MetaTrainingRun.run(configuration: Self.config(steps: 3), output: extended, resume: true)
            Issue.record("accepted fewer outer steps than already run")
        } catch { #expect("\(error)".hasPrefix("outerSteps: 3 is below the 4 steps")) }
        var other = Self.config(steps: 6)
        other.pes.sigma = 0.02
        do {
            try MetaTrainingRun.run(configuration: other, output: extended, resume: true)
            Issue.record("accepted a changed sigma on resume")
        } catch { #expect("\(error)".contains("only outerSteps may change")) }
    }
}

@Suite struct HeldOutLossTests {
    /// `optimus validate`'s number is the mean over the drawn tasks of the per-step meta-loss of the checkpoint's
    /// optimizer, recomputed here step by step.
    @Test func heldOutLossIsTheMeanMetaLossOverTheDrawnTasks() throws {
        let config = ExtendRunTests.config(steps: 1)
        let checkpoint = LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 3)!
        let loss = try MetaTrainingRun.heldOutLoss(configuration: config, checkpoint: checkpoint, tasks: 3, seed: 11, steps: 4)
        var g = Xoshiro256StarStar(seed: 11)
        let model = try checkpoint.model(AdafactorMLP.self)
        let optimizer = model.optimizer(theta: try checkpoint.parameters(for: model), horizon: 4)
        var total = 0.0
        for _ in 0..<3 {
            let (objective, x0) = config.tasks.sample(using: &g).build()
            var state = optimizer.makeState(start: x0)
            let f0 = objective.value(at: x0)
            for _ in 0..<4 {
                let (f, gradient) = objective.valueAndGradient(at: state.point)
                total += config.normalizer.loss(value: f, start: f0, fStar: objective.fStar) / 4
                _ = optimizer.update(&state, value: f, gradient: gradient)
            }
        }
        #expect(abs(loss - total / 3) < 1e-12, "\(loss) vs \(total / 3)")
        #expect(throws: MetaTrainingError.self) {
            try MetaTrainingRun.heldOutLoss(configuration: config, checkpoint: checkpoint, tasks: 0, seed: 1, steps: 4)
        }
    }

    /// With `validation.score: best` the number is, per task, the meta-loss of the lowest value among the evaluated
    /// iterates (recomputed here), averaged over the tasks; it is never above the mean score.
    @Test func bestScoreIsTheMetaLossOfTheBestValue() throws {
        var config = ExtendRunTests.config(steps: 1)
        config.validation.score = .best
        let checkpoint = LearnedOptimizerCatalog.untrained(name: "adafactor-mlp", preset: "reference", seed: 3)!
        let steps = 12
        let best = try MetaTrainingRun.heldOutLoss(configuration: config, checkpoint: checkpoint, tasks: 3, seed: 11,
                                                   steps: steps)
        config.validation.score = .mean
        let mean = try MetaTrainingRun.heldOutLoss(configuration: config, checkpoint: checkpoint, tasks: 3, seed: 11,
                                                   steps: steps)
        var g = Xoshiro256StarStar(seed: 11)
        let model = try checkpoint.model(AdafactorMLP.self)
        let optimizer = model.optimizer(theta: try checkpoint.parameters(for: model), horizon: steps)
        var total = 0.0
        for _ in 0..<3 {
            let (objective, x0) = config.tasks.sample(using: &g).build()
            var state = optimizer.makeState(start: x0)
            let f0 = objective.value(at: x0)
            var lowest = Double.infinity
            for _ in 0..<steps {
                let (f, gradient) = objective.valueAndGradient(at: state.point)
                lowest = min(lowest, f)
                _ = optimizer.update(&state, value: f, gradient: gradient)
            }
            total += config.normalizer.loss(value: lowest, start: f0, fStar: objective.fStar)
        }
        #expect(abs(best - total / 3) < 1e-12, "\(best) vs \(total / 3)")
        #expect(best < mean)
    }

    @Test func scoreIsOptionalAndValidated() throws {
        func decode(_ json: String) throws -> TrainingConfiguration { try TrainingConfiguration.decode(Data(json.utf8)) }
        #expect(try decode("{}").validation.score == .mean)
        #expect(try decode(#"{"validation": {"score": "best"}}"#).validation.score == .best)
        do {
            _ = try decode(#"{"validation": {"score": "final"}}"#)
            Issue.record("accepted validation.score 'final'")
        } catch {
            #expect("\(error)" == "validation.score: 'final' is not valid; valid: mean, best")
        }
    }
}
