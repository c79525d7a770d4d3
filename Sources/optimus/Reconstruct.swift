import ArgumentParser
import Foundation
import OptimusKit

/// `optimus reconstruct`: physics-based reconstruction of a motion clip from synthetic noisy observations.
struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconstruct a motion clip through the differentiable humanoid simulator and print the pose metrics.",
        discussion: """
            Observations are synthesized from the clip with a seeded noise model (noisy 3D kinematic estimate, \
            noisy 2D keypoints through a pinhole camera). The clip is solved in overlapping windows, each \
            warm-started from the previous one's simulated state. Metrics (MPJPE-G, MPJPE, MPJPE-PA in mm, \
            MPJPE-2d in px, TV in m/s², foot skate in %) are reported for the reconstruction and for the raw \
            observation. With --output, writes result.json and filmstrip.svg/png.
            """)

    @Option(help: "Clip name (e.g. walk, dance_a, walker/turn_left0); see --list-clips.")
    var clip: String?

    @Option(help: "Optimizer: \((OptimizerCatalog.classicalNames + LearnedOptimizerCatalog.names).joined(separator: ", ")).")
    var optimizer: String = "lbfgs"

    @Option(parsing: .unconditional, help: "Learning rate of gd, momentum and adam (default 0.003: Adam tuned over {0.003, 0.01, 0.03, 0.1} on walker/0walk_forward).")
    var learningRate: Double = 0.003

    @OptionGroup var search: LineSearchOption

    @Option(help: "Checkpoint of a learned optimizer (default: the shipped one fine-tuned on reconstruction windows where there is one, else the benchmark-trained one).")
    var checkpoint: String?

    @Option(parsing: .unconditional, help: "Window length in seconds.")
    var windowSeconds: Double = 0.5

    @Option(parsing: .unconditional, help: "Start-to-start distance of the overlapping windows in seconds.")
    var strideSeconds: Double = 0.25

    @Option(parsing: .unconditional, help: "Spacing of the keyframed PD targets in seconds (36 parameters per keyframe).")
    var keyframeInterval: Double = ReconstructionOptions().keyframeInterval

    @Option(parsing: .unconditional, help: "Optimizer iterations per window.")
    var iterations: Int = 100

    @Option(parsing: .unconditional, help: "Objective evaluations per window (a budget; default: no limit but --iterations).")
    var evaluations: Int?

    @Option(name: .customLong("weight-3d"), parsing: .unconditional, help: "Weight of the 3D keypoint term (m²).")
    var weight3d: Double = LossWeights().keypoints3D

    @Option(name: .customLong("weight-2d"), parsing: .unconditional, help: "Weight of the 2D reprojection term (Huber on errors in units of 100 px).")
    var weight2d: Double = LossWeights().keypoints2D

    @Option(parsing: .unconditional, help: "Seed of the synthetic observations.", transform: parseSeed)
    var seed: UInt64 = 0

    @Option(help: "Folder with humanoid.urdf and clips/ (default: the project's data/humanoid-motions).")
    var data: String?

    @Option(help: "Output folder for result.json and the filmstrip.")
    var output: String?

    @OptionGroup var format: JSONOutputOption

    @Flag(help: "End each window's search with the paper's stopping rule (stop once the loss exceeds the mean of the previous 5), as the paper's Table 4 runs Optimus; default: spend the whole budget.")
    var stoppingRule = false

    @Option(parsing: .unconditional, help: "Restart the optimizer from the best point so far when an iterate's loss rises above the best by more than this fraction (a safeguard for methods without a line search; default: none).")
    var restartOnIncrease: Double?

    @Flag(help: "Run the optimizer inside basin hopping (the paper's Table 4 \"Optimus + BasinHopping\"): local searches of --hop-iterations, then a random hop of every PD target.")
    var basinHopping = false

    @Option(parsing: .unconditional, help: "Basin hopping: iterations of each local search.")
    var hopIterations = ReconstructionOptions.BasinHoppingSettings().localIterations

    @Option(parsing: .unconditional, help: "Basin hopping: half-width of the uniform hop of each PD target, in radians.")
    var hopSize = ReconstructionOptions.BasinHoppingSettings().hopSize

    @Option(parsing: .unconditional, help: "Basin hopping: Metropolis temperature as a fraction of the window's starting loss.")
    var hopTemperature = ReconstructionOptions.BasinHoppingSettings().temperature

    @Flag(help: "Ablation: start from the ground-truth state instead of the estimate (an oracle; not a reconstruction).")
    var oracleInitialState = false

    @Flag(help: "Ablation: start keyframes inside a window's overlap with the previous window from its optimized controls.")
    var warmStartControls = false

    @Flag(help: "Ablation: residual force control — a penalized torque and force on the root (not physically plausible).")
    var rootResidual = false

    @Option(parsing: .unconditional, help: "Ablation: the simulator's friction regularization speed in m/s (default \(Simulator.Configuration().frictionSmoothing); 0.01, the earlier default, makes loaded feet chatter).")
    var frictionSmoothing: Double = Simulator.Configuration().frictionSmoothing

    @Option(parsing: .unconditional, help: "The optimizer works on θ / scale (a step of 1 moves a PD target by this much); for Adam and learned optimizers. Default: \(Self.learnedParameterScale) for learned optimizers (the units their motion checkpoint was trained in), 1 otherwise.")
    var parameterScale: Double?

    /// The default parameter scale of the learned optimizers: the scale the shipped motion checkpoint was fine-tuned
    /// at (chosen among 1, 0.1, 0.01, 0.001 on the held-out clip walker/0walk_forward).
    static let learnedParameterScale = 0.01

    var isLearned: Bool { LearnedOptimizerCatalog.names.contains(optimizer) }
    var effectiveParameterScale: Double { parameterScale ?? (isLearned ? Self.learnedParameterScale : 1) }

    @Flag(help: "List the clips and exit.")
    var listClips = false

    func validate() throws {
        guard iterations >= 0 else { throw ValidationError("iterations: must be ≥ 0") }
        if let evaluations, evaluations < 1 { throw ValidationError("evaluations: \(evaluations) must be ≥ 1") }
        guard windowSeconds.isFinite, windowSeconds >= 0.1 else { throw ValidationError("window-seconds: must be ≥ 0.1") }
        if let parameterScale, !(parameterScale > 0 && parameterScale.isFinite) {
            throw ValidationError("parameter-scale: \(parameterScale) must be a finite number > 0")
        }
        guard frictionSmoothing > 0, frictionSmoothing.isFinite else {
            throw ValidationError("friction-smoothing: \(frictionSmoothing) must be a finite number > 0 (m/s)")
        }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("learning-rate: must be a finite number > 0") }
        guard weight3d >= 0, weight3d.isFinite, weight2d >= 0, weight2d.isFinite else {
            throw ValidationError("weight-3d, weight-2d: must be finite numbers ≥ 0")
        }
        let known = OptimizerCatalog.classicalNames + LearnedOptimizerCatalog.names
        guard known.contains(optimizer) else {
            throw ValidationError("optimizer: '\(optimizer)' is not valid; valid: \(known.joined(separator: ", "))")
        }
        if let restartOnIncrease, !(restartOnIncrease >= 0 && restartOnIncrease.isFinite) {
            throw ValidationError("restart-on-increase: \(restartOnIncrease) must be a finite number ≥ 0")
        }
        guard hopIterations >= 1 else { throw ValidationError("hop-iterations: \(hopIterations) must be ≥ 1") }
        guard hopSize > 0, hopSize.isFinite else { throw ValidationError("hop-size: \(hopSize) must be a finite number > 0 (radians)") }
        guard hopTemperature > 0, hopTemperature.isFinite else {
            throw ValidationError("hop-temperature: \(hopTemperature) must be a finite number > 0 (a fraction of the window's starting loss)")
        }
        try search.check()
        if !listClips, clip == nil { throw ValidationError("clip: required (see --list-clips)") }
    }

    func run() throws {
        guard let folder = data.map({ URL(fileURLWithPath: $0) }) ?? MotionData.folder() else {
            throw failure("data: cannot find data/humanoid-motions; pass --data FOLDER or set OPTIMUS_DATA", code: ExitStatus.usage)
        }
        let names = MotionData.clipNames(in: folder)
        if listClips {
            names.forEach { print($0) }
            return
        }
        guard let name = clip, names.contains(name) else {
            throw failure("clip: '\(clip ?? "")' is not a clip in \(folder.path); valid: \(names.joined(separator: ", "))",
                          code: ExitStatus.usage)
        }
        // The output folder first: a reconstruction takes minutes and must not fail to save at the end.
        if let output { try createOutputFolder(output) }
        let humanoid: Humanoid
        let motion: MotionClip
        do {
            humanoid = try Humanoid.load(urdf: folder.appendingPathComponent("humanoid.urdf"))
            motion = try MotionClip.load(MotionData.clipURL(name, in: folder), humanoid: humanoid)
        } catch {
            throw failure(error.description, code: ExitStatus.dataError)
        }
        let (method, loaded) = try resolveOptimizer(
            named: optimizer, checkpoint: checkpoint, preset: nil, seed: 0,
            learningRate: OptimizerCatalog.takesLearningRate(optimizer) ? learningRate : nil, lineSearch: search.method,
            shipped: LearnedOptimizerCatalog.shippedMotionCheckpoint(for:))
        if let loaded { log("\(optimizer): checkpoint \(loaded.description), parameter scale \(effectiveParameterScale)") }
        var options = ReconstructionOptions()
        options.windowSeconds = windowSeconds
        options.strideSeconds = min(strideSeconds, windowSeconds)
        options.iterations = iterations
        options.keyframeInterval = keyframeInterval
        options.maxEvaluations = evaluations
        options.initialStateFromTruth = oracleInitialState
        options.warmStartControls = warmStartControls
        options.parameterScale = effectiveParameterScale
        options.stoppingRule = stoppingRule
        options.restartMargin = restartOnIncrease
        if basinHopping {
            var hopping = ReconstructionOptions.BasinHoppingSettings()
            hopping.localIterations = hopIterations
            hopping.hopSize = hopSize
            hopping.temperature = hopTemperature
            hopping.seed = seed
            options.basinHopping = hopping
        }
        options.weights.keypoints3D = weight3d
        options.weights.keypoints2D = weight2d
        var configuration = Simulator.Configuration()
        configuration.rootResidual = rootResidual
        configuration.frictionSmoothing = frictionSmoothing
        let simulator = Simulator(humanoid: humanoid, configuration: configuration)
        let observed = ObservedClip(clip: motion, humanoid: humanoid, seed: seed)
        BLAS.setThreadCount(1)
        var result: ReconstructionResult
        do {
            result = try Reconstructor.run(observed, simulator: simulator, optimizer: method, optimizerName: optimizer,
                                           options: options) { done, total, w in
                log(String(format: "window %d/%d (t = %.2f–%.2f s): loss %.5g → %.5g, %d evaluations, %@, %.1f s", done, total,
                           w.start, w.start + w.duration, w.initialLoss, w.finalLoss, w.evaluations, w.termination, w.seconds))
            }
        } catch {
            throw failure(error.description, code: ExitStatus.usage)
        }
        result.checkpoint = loaded?.path
        result.checkpointSHA256 = loaded?.sha256
        if let output {
            let dir = URL(fileURLWithPath: output)
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try makeRecordEncoder(pretty: true).encode(result).write(to: dir.appendingPathComponent("result.json"))
                let svg = Filmstrip.svg(truth: observed.truth, reconstruction: result.keypoints, observation: observed.keypoints3D,
                                        times: motion.times, camera: observed.camera,
                                        title: "\(name): \(optimizer), \(result.evaluations) evaluations, MPJPE-G "
                                            + String(format: "%.1f mm (observation %.1f mm)", result.metrics.mpjpeG,
                                                     result.observationMetrics.mpjpeG))
                let url = dir.appendingPathComponent("filmstrip.svg")
                try svg.write(to: url, atomically: true, encoding: .utf8)
                if !convertToPNG(url, width: 1400), pngConverter == nil { log(pngConverterMissingNotice) }
            } catch {
                throw failure("output: cannot write to '\(output)': \(writeFailureReason(error))",
                              code: ExitStatus.cannotCreate)
            }
        }
        if format.json {
            try printJSON(result)
            return
        }
        print("\(name) (\(String(format: "%.2f", motion.duration)) s), \(optimizer), seed \(seed): \(result.windows.count) windows, "
              + "\(result.evaluations) evaluations, \(String(format: "%.1f", result.seconds)) s"
              + (result.finite ? "" : " (a rollout blew up; see the windows)"))
        if let loaded {
            print("checkpoint \(loaded.description), parameter scale \(effectiveParameterScale)")
        }
        print("")
        print("| | MPJPE-G (mm) | MPJPE (mm) | MPJPE-PA (mm) | MPJPE-2d (px) | TV (m/s²) | foot skate (%) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for (label, m) in [("observation", result.observationMetrics), ("reconstruction", result.metrics)] {
            print("| \(label) | " + [m.mpjpeG, m.mpjpe, m.mpjpePA, m.mpjpe2d, m.totalVariation, m.footSkatePercent]
                .map { String(format: "%.1f", $0) }.joined(separator: " | ") + " |")
        }
        if let r = result.rootResidual {
            print(String(format: "\nroot residual (not physical): force mean %.1f %% of body weight (max %.1f %%), torque mean %.3f m·g·m",
                         100 * r.meanForce, 100 * r.maxForce, r.meanTorque))
        }
    }
}
