import Foundation
import HumanMotion
import MetaTraining
import Objectives
import OptimusNumerics

/// The physics-reconstruction task distribution for meta-training (`taskFamily: "motion"`): a task is one
/// reconstruction window (``ReconstructionWindow``) of a training clip, starting at a random time from the
/// ground-truth state there (`docs/physics-motion.md`, *Controls and windows*: training windows start from the true
/// state), with freshly seeded synthetic observations. The loss is nonnegative, so the meta-loss uses f* = 0: decades
/// of loss reduction relative to the window's initial guess (the observed poses as PD targets).
public struct MotionTaskDistribution: Codable, Equatable, Sendable {
    /// Training clips, as `optimus reconstruct --list-clips` names them. The default leaves out the clips of the
    /// reported reconstruction table (walk, dance_a) and the acrobatic and floor clips (backflip, cartwheel, crawl,
    /// roll, get-ups).
    public var clips: [String] = [
        "walker/0walk_forward", "walker/turn_left0", "walker/turn_left1", "walker/turn_right0", "walker/turn_right1",
        "run", "jump", "kick", "punch", "spin", "spinkick", "dance_b",
    ]
    /// Window length (s).
    public var windowSeconds: Double = 0.5
    /// Keyframe spacing of the PD targets (s).
    public var keyframeInterval: Double = 1.0 / 15
    /// The folder with humanoid.urdf and clips/; empty: the project's data/humanoid-motions (or $OPTIMUS_DATA).
    public var data: String = ""
    /// The learned optimizer works on θ / `parameterScale` (``ScaledObjective``), as `optimus reconstruct
    /// --parameter-scale` does: use the same value when reconstructing with the trained optimizer.
    public var parameterScale: Double = 1

    public init() {}

    public func validate() throws(MetaTrainingError) {
        guard !clips.isEmpty else { throw .invalid("motionTasks.clips", "must list at least one clip") }
        guard windowSeconds >= 0.1, windowSeconds <= 2 else {
            throw .invalid("motionTasks.windowSeconds", "must be in [0.1, 2] s, got \(windowSeconds)")
        }
        guard keyframeInterval >= 1.0 / 120, keyframeInterval <= windowSeconds / 2 else {
            throw .invalid("motionTasks.keyframeInterval", "must be in [1/120 s, windowSeconds/2], got \(keyframeInterval)")
        }
        guard parameterScale > 0, parameterScale.isFinite else {
            throw .invalid("motionTasks.parameterScale", "must be a finite number > 0, got \(parameterScale)")
        }
    }
}

/// One reconstruction window: clip, start time (s) and observation seed.
public struct MotionTaskSpec: Codable, Hashable, Sendable {
    public var clip: String
    public var start: Double
    public var seed: UInt64
}

/// ``MotionTaskDistribution`` with its clips loaded (once) and the simulator built.
public struct MotionTaskFamily: TrainingTaskFamily {
    public let distribution: MotionTaskDistribution
    public let simulator: Simulator
    let clips: [String: MotionClip]

    public init(_ distribution: MotionTaskDistribution) throws(MetaTrainingError) {
        try distribution.validate()
        guard let folder = distribution.data.isEmpty ? MotionData.folder() : URL(fileURLWithPath: distribution.data)
        else { throw .invalid("motionTasks.data", "cannot find data/humanoid-motions; give the folder or set OPTIMUS_DATA") }
        let humanoid: Humanoid
        do { humanoid = try Humanoid.load(urdf: folder.appendingPathComponent("humanoid.urdf")) } catch {
            throw .invalid("motionTasks.data", error.description)
        }
        let available = MotionData.clipNames(in: folder)
        var clips: [String: MotionClip] = [:]
        for name in distribution.clips {
            guard available.contains(name) else {
                throw .invalid("motionTasks.clips", "'\(name)' is not a clip in \(folder.path); valid: "
                    + available.joined(separator: ", "))
            }
            do { clips[name] = try MotionClip.load(MotionData.clipURL(name, in: folder), humanoid: humanoid) } catch {
                throw .invalid("motionTasks.clips", error.description)
            }
            guard clips[name]!.duration + 1e-9 >= distribution.windowSeconds else {
                throw .invalid("motionTasks.clips", "'\(name)' is shorter than a window (\(distribution.windowSeconds) s)")
            }
        }
        self.distribution = distribution
        self.clips = clips
        simulator = Simulator(humanoid: humanoid)
    }

    public func sample(using g: inout Xoshiro256StarStar) -> MotionTaskSpec {
        let name = distribution.clips[g.nextInt(below: distribution.clips.count)]
        let latest = max(0, clips[name]!.duration - distribution.windowSeconds)
        return MotionTaskSpec(clip: name, start: g.uniform(0, latest), seed: g.next())
    }

    /// The window as an objective (its start: the observed poses as keyframe targets) and f* = 0.
    public func window(_ spec: MotionTaskSpec) -> ReconstructionWindow {
        guard let clip = clips[spec.clip] else { preconditionFailure("MotionTaskFamily: unknown clip \(spec.clip)") }
        let observed = ObservedClip(clip: clip, humanoid: simulator.humanoid, seed: spec.seed)
        var options = ReconstructionOptions()
        options.windowSeconds = distribution.windowSeconds
        options.keyframeInterval = distribution.keyframeInterval
        let x0 = Reconstructor.initialState(observed, simulator: simulator, fromTruth: true, at: spec.start)
        let duration = min(distribution.windowSeconds, clip.duration - spec.start)
        return Reconstructor.window(observed, simulator: simulator, start: spec.start, duration: duration,
                                    initialState: x0, options: options)
    }

    /// The window in scaled coordinates (``MotionTaskDistribution/parameterScale``), its start (the observed poses as
    /// keyframe targets, scaled) and f* = 0.
    public func build(_ spec: MotionTaskSpec) -> (objective: any Objective, start: [Double], fStar: Double) {
        let scaled = ScaledObjective(window(spec), scale: distribution.parameterScale)
        return (scaled, scaled.scale(scaled.base.initialParameters), 0)
    }
}
