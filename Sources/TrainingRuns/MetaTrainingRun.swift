import Dispatch
import Foundation
import LearnedOptimizers
import MetaTraining
import Objectives
import Optimizers
import OptimusNumerics
import OptimusSupport
import TaskFamilies

/// `optimus train`: meta-trains on a configuration with its estimator (PES by default), with checkpoints, resume,
/// metrics, validation and a curve.
///
/// Files in the output folder:
/// - `config.json`: the configuration (a resume must use the same one);
/// - `training-state.bin`: everything needed to continue bit-identically (``BinaryCoder``), written atomically;
/// - `metrics.jsonl`: one ``TrainingMetrics`` per outer step;
/// - `<kind>.safetensors`: the usable meta-parameters, with provenance (latest);
/// - `<kind>-best.safetensors`: θ with the best validation meta-loss so far;
/// - `curve.svg`: training and validation meta-loss against outer step.
public enum MetaTrainingRun {
    /// Progress after each outer step.
    public struct Progress: Sendable {
        public var step: Int
        public var total: Int
        public var loss: Double
        public var stepsPerSecond: Double
        public var secondsRemaining: Double
        public var validationLoss: Double?
    }

    /// - Parameter cpuBudget: stop (with a checkpoint) after the first outer step at which the run's training CPU
    ///   seconds (``TrainingMetrics/trainingCPUSeconds``, all sittings together) reach this many; nil: run to
    ///   `outerSteps`. Comparing estimators at equal compute uses it.
    public static func run(
        configuration: TrainingConfiguration, output: URL, resume: Bool,
        communicator: any ParticleCommunicator = SingleProcess(), cpuBudget: Double? = nil,
        progress: (Progress) -> Void = { _ in }
    ) throws {
        try configuration.validate()
        let configuration = configuration.canonical
        // Particles run one per core; BLAS inside each must not spawn threads of its own (oversubscription makes
        // OpenBLAS threads spin and yield).
        BLAS.setThreadCount(1)
        guard let untrained = LearnedOptimizerCatalog.untrained(
            name: configuration.model.kind, preset: configuration.model.preset, seed: configuration.model.seed,
            stepScale: configuration.model.stepScale, curvaturePrior: configuration.model.curvaturePrior)
        else { throw MetaTrainingError.invalid("model", "unknown kind or preset") }
        let checkpoint = try initialCheckpoint(configuration, untrained: untrained)
        try train(checkpoint, tasks: try taskFamily(configuration), configuration, output, resume, communicator, cpuBudget,
                  progress)
    }

    /// θ₀ of a run: the untrained model, or, when `model.initialCheckpoint` is set (fine-tuning), that checkpoint's θ
    /// (it must hold the same model: kind and preset) in the configured step options.
    static func initialCheckpoint(_ configuration: TrainingConfiguration, untrained: Checkpoint) throws -> Checkpoint {
        guard !configuration.model.initialCheckpoint.isEmpty else { return untrained }
        // Fine-tuning: θ₀ from a trained checkpoint of the same model (kind and preset).
        let url = URL(fileURLWithPath: configuration.model.initialCheckpoint)
        let given: Checkpoint
        do { given = try Checkpoint.read(from: url) } catch {
            throw MetaTrainingError.invalid("model.initialCheckpoint", "\(url.path): \(error)")
        }
        guard given.kind == untrained.kind,
              LearnedOptimizerCatalog.sameModel(given, untrained, ignoringStepOptions: true) else {
            throw MetaTrainingError.invalid("model.initialCheckpoint", "\(url.path) holds \(given.kind) "
                + "(\(given.configuration)), not \(configuration.model.kind) with preset \(configuration.model.preset)")
        }
        // θ₀ from the given checkpoint, in the configured step unit (the same layout either way).
        return given.configuration == untrained.configuration ? given
            : try LearnedOptimizerCatalog.withStepOptions(
                given, stepScale: configuration.model.stepScale,
                curvaturePrior: given.kind == Optimus.kind ? configuration.model.curvaturePrior : nil)
    }

    /// The task family a configuration trains on (``TrainingConfiguration/taskFamily``).
    public static func taskFamily(_ configuration: TrainingConfiguration) throws -> any TrainingTaskFamily {
        switch configuration.taskFamily {
        case "motion": try MotionTaskFamily(configuration.motionTasks)
        case "augmented": configuration.augmentedTasks
        default: configuration.tasks
        }
    }

    static func train<Tasks: TrainingTaskFamily>(
        _ checkpoint: Checkpoint, tasks: Tasks, _ configuration: TrainingConfiguration, _ output: URL, _ resume: Bool,
        _ communicator: any ParticleCommunicator, _ cpuBudget: Double?, _ progress: (Progress) -> Void
    ) throws {
        try withoutActuallyEscaping(progress) { progress in
            try LearnedOptimizerRegistry.visit(checkpoint, with: TrainingVisitor(
                tasks: tasks, configuration: configuration, output: output, resume: resume, communicator: communicator,
                cpuBudget: cpuBudget, progress: progress))
        }
    }

    /// A training run of the checkpoint's model, with the configuration's estimator.
    struct TrainingVisitor<Tasks: TrainingTaskFamily>: LearnedOptimizerVisitor {
        let tasks: Tasks
        let configuration: TrainingConfiguration
        let output: URL
        let resume: Bool
        let communicator: any ParticleCommunicator
        let cpuBudget: Double?
        let progress: (Progress) -> Void

        func visit<M: DifferentiableLearnedOptimizer>(_ model: M, theta: [Float]) throws where M.Stepper.State: Codable {
            let problem = LearnedOptimizerProblem(model: model, tasks: tasks, normalizer: configuration.normalizer)
            let c = configuration.pes
            switch configuration.resolvedEstimator {
            case .pes: try run(PESEstimator(problem: problem, configuration: c), model, theta)
            case .truncatedES: try run(TruncatedESEstimator(problem: problem, configuration: c), model, theta)
            case .backprop: try run(BackpropEstimator(problem: problem, configuration: c), model, theta)
            case .hybrid: try run(HybridEstimator(problem: problem, configuration: c), model, theta)
            }
        }

        func run<E: MetaGradientEstimator, M: LearnedOptimizer>(_ estimator: E, _ model: M, _ theta: [Float]) throws {
            try MetaTrainingRun.train(MetaTrainer(estimator: estimator, communicator: communicator), model: model,
                                      theta0: theta, tasks: tasks, configuration, output, resume, cpuBudget, progress)
        }
    }

    /// Where the loop starts: the saved state and metrics of `output` when resuming (only the length of the run may
    /// change), or a fresh state, after writing the configuration (rank 0 only writes).
    static func startOrResume<E: MetaGradientEstimator>(
        _ trainer: MetaTrainer<E>, theta0: [Float], _ config: TrainingConfiguration, output: URL, resume: Bool,
        writer: Bool
    ) throws -> (MetaTrainer<E>.State, [TrainingMetrics]) {
        let fm = FileManager.default
        let configURL = output.appendingPathComponent("config.json")
        let stateURL = output.appendingPathComponent("training-state.bin")
        let metricsURL = output.appendingPathComponent("metrics.jsonl")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        if resume && fm.fileExists(atPath: stateURL.path) {
            // Only the length of the run may change on resume (to extend it): every other field shapes the
            // trajectory that the saved state continues.
            var stored = try TrainingConfiguration.decode(Data(contentsOf: configURL))
            let storedSteps = stored.outerSteps
            stored.outerSteps = config.outerSteps
            guard stored == config else {
                throw MetaTrainingError.state("config.json in \(output.path) differs from the given configuration; "
                    + "resume with the same configuration (only outerSteps may change), or use a new output folder")
            }
            let state = try readState(stateURL, as: MetaTrainer<E>.State.self)
            if storedSteps != config.outerSteps && writer {
                guard config.outerSteps >= state.outerStep else {
                    throw MetaTrainingError.invalid("outerSteps", "\(config.outerSteps) is below the \(state.outerStep) "
                        + "steps already run in \(output.path)")
                }
                try encoder.encode(config).write(to: configURL, options: .atomic)
            }
            let history = ((try? readMetrics(metricsURL)) ?? []).filter { $0.step <= state.outerStep }
            if writer { try writeMetrics(history, to: metricsURL) }  // drop steps after the checkpoint: redone
            return (state, history)
        } else {
            if !resume && fm.fileExists(atPath: stateURL.path) {
                throw MetaTrainingError.state("\(output.path) already holds a run; pass --resume or choose a new folder")
            }
            if writer {
                try encoder.encode(config).write(to: configURL, options: .atomic)
                try? fm.removeItem(at: metricsURL)
            }
            return (trainer.initialState(theta: theta0), [])
        }
    }

    /// The training loop: one outer step after another, with checkpoints, resume, metrics and validation.
    static func train<E: MetaGradientEstimator, M: LearnedOptimizer, Tasks: TrainingTaskFamily>(
        _ trainer: MetaTrainer<E>, model: M, theta0: [Float], tasks: Tasks, _ config: TrainingConfiguration,
        _ output: URL, _ resume: Bool, _ cpuBudget: Double? = nil, _ progress: (Progress) -> Void
    ) throws {
        let communicator = trainer.communicator
        if cpuBudget != nil && communicator.size > 1 {
            // Each process measures its own CPU time: they would stop at different steps.
            throw MetaTrainingError.invalid("cpuBudget", "is for single-process runs; under MPI set outerSteps")
        }
        let estimatorName = config.resolvedEstimator.rawValue
        let source = "optimus train (\(config.resolvedEstimator.displayName))"
        // Recorded only when it is not the default, so checkpoints of existing configurations keep their bytes.
        let perturbationProvenance = config.pes.perturbation == .boxMuller || config.resolvedEstimator == .backprop
            ? [:] : ["perturbation": config.pes.perturbation.rawValue]
        let fm = FileManager.default
        let writer = communicator.rank == 0  // only rank 0 writes files and reports
        if writer { try fm.createDirectory(at: output, withIntermediateDirectories: true) }
        let stateURL = output.appendingPathComponent("training-state.bin")
        let metricsURL = output.appendingPathComponent("metrics.jsonl")
        var (state, history) = try startOrResume(trainer, theta0: theta0, config, output: output, resume: resume,
                                                 writer: writer)
        let validationTasks: [Tasks.Spec] = {
            var g = Xoshiro256StarStar(seed: config.validation.seed)
            return (0..<config.validation.tasks).map { _ in tasks.sample(using: &g) }
        }()
        let startTime = ContinuousClock.now
        let cpuAtStart = cpuSeconds()
        let previousSeconds = history.last?.seconds ?? 0
        let previousCPU = history.last?.cpuSeconds ?? 0
        let previousTrainingCPU = history.last.map { $0.trainingCPUSeconds ?? $0.cpuSeconds } ?? 0
        var validationCPU = 0.0
        let firstStep = state.outerStep
        var bestValidation = history.compactMap(\.validationLoss).min() ?? .infinity
        let metricsHandle = writer ? try appendHandle(metricsURL) : nil
        defer { try? metricsHandle?.close() }
        // The training state is encoded here and written (with its fsync) on a background thread, while the next
        // outer steps run: at most one write in flight; the run returns only after the last one is on disk.
        let stateWriter = BackgroundFileWriter()
        defer { try? stateWriter.finish() }
        var stateBytes = 0
        // The outer steps since the last metrics line (``TrainingConfiguration/metricsEvery``).
        var window = (steps: 0, loss: 0.0, norm: 0.0, inner: 0, nonFinite: false, nonFiniteParticles: 0)
        while state.outerStep < config.outerSteps {
            let report = trainer.step(&state)
            window.steps += 1
            window.loss += report.loss
            window.norm += report.gradientNorm
            window.inner += report.innerSteps
            window.nonFinite = window.nonFinite || report.nonFinite
            window.nonFiniteParticles += report.nonFiniteParticles
            var validation: Double?
            if writer && config.validation.every > 0 && state.outerStep % config.validation.every == 0 {
                let before = cpuSeconds()
                validation = validationLoss(model, theta: state.theta, family: tasks, tasks: validationTasks,
                                            steps: config.validation.steps, normalizer: config.normalizer,
                                            score: config.validation.score)
                validationCPU += cpuSeconds() - before
            }
            let cpuNow = cpuSeconds()
            let trainingCPU = previousTrainingCPU + cpuNow - cpuAtStart - validationCPU
            var budgetReached = cpuBudget.map { trainingCPU >= $0 } == true
            if cpuBudget != nil && communicator.size > 1 {
                // Rank 0's clock decides for every process: ranks that stopped at different steps would wait forever
                // in the next collective (the particle exchange, the checkpoint's synchronization).
                var flag = [communicator.rank == 0 && budgetReached ? 1.0 : 0.0]
                communicator.allReduceSum(&flag)
                budgetReached = flag[0] > 0
            }
            let checkpointNow = state.outerStep % config.checkpointEvery == 0 || state.outerStep == config.outerSteps
                || budgetReached
            let elapsed = (ContinuousClock.now - startTime).inSeconds
            let logNow = state.outerStep % config.metricsEvery == 0 || validation != nil || checkpointNow
            let m = TrainingMetrics(step: state.outerStep, loss: window.loss / Double(window.steps),
                                    gradientNorm: window.norm / Double(window.steps),
                                    innerSteps: window.inner, seconds: previousSeconds + elapsed,
                                    cpuSeconds: previousCPU + cpuNow - cpuAtStart, trainingCPUSeconds: trainingCPU,
                                    nonFiniteGradient: window.nonFinite, validationLoss: validation,
                                    estimator: estimatorName,
                                    nonFiniteParticles: window.nonFiniteParticles > 0 ? window.nonFiniteParticles : nil,
                                    esVariance: report.hybrid?.esVariance.flatMap(finite),
                                    reparameterizationVariance: report.hybrid?.reparameterizationVariance.flatMap(finite),
                                    reparameterizationWeight: report.hybrid.flatMap { finite($0.reparameterizationWeight) })
            if logNow {
                history.append(m)
                window = (0, 0, 0, 0, false, 0)
            }
            if let v = validation, v < bestValidation {
                // The best θ on the validation tasks so far (choose it for shipping; report on other tasks).
                bestValidation = v
                try Checkpoint(model: model, parameters: state.theta, provenance: [
                    "source": source + ", best validation", "estimator": estimatorName,
                    "outerSteps": String(state.outerStep),
                    "seed": String(config.pes.seed), "modelSeed": String(config.model.seed),
                    "validationLoss": String(v),
                ].merging(perturbationProvenance) { a, _ in a }).write(to: output.appendingPathComponent("\(config.model.kind)-best.safetensors"))
            }
            if logNow {
                let line = try JSONLines.line(m, encoder: JSONEncoder())
                try metricsHandle?.write(contentsOf: line)
            }
            let done = state.outerStep - firstStep
            let rate = Double(done) / max(elapsed, 1e-9)
            if writer { progress(Progress(step: state.outerStep, total: config.outerSteps, loss: report.loss,
                              stepsPerSecond: rate, secondsRemaining: Double(config.outerSteps - state.outerStep) / rate,
                              validationLoss: validation)) }
            if checkpointNow {
                try trainer.synchronizeParticles(&state)
                guard writer else { continue }
                let encoded = try encodeState(state, capacity: stateBytes)
                stateBytes = encoded.count
                try stateWriter.write(encoded, to: stateURL)
                let provenance = [
                    "source": source, "estimator": estimatorName, "outerSteps": String(state.outerStep),
                    "seed": String(config.pes.seed), "modelSeed": String(config.model.seed),
                    "cpuSeconds": String(format: "%.0f", m.cpuSeconds),
                    "validationLoss": history.last(where: { $0.validationLoss != nil })?.validationLoss.map { String($0) } ?? "",
                ].merging(perturbationProvenance) { a, _ in a }
                try Checkpoint(model: model, parameters: state.theta, provenance: provenance)
                    .write(to: output.appendingPathComponent("\(config.model.kind).safetensors"))
                try TrainingCurve.svg(history, title: "\(config.model.kind) (\(config.model.preset)) meta-training")
                    .write(to: output.appendingPathComponent("curve.svg"), atomically: true, encoding: .utf8)
            }
            if budgetReached { break }
        }
        try stateWriter.finish()
    }
}
