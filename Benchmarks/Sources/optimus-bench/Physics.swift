import Foundation
import OptimusKit

#if canImport(Glibc)
import Glibc
#endif

/// Seconds of the forward rollout (loss only) and of loss + gradient (rollout adjoint) of a reconstruction window of
/// `seconds` on the walk clip, best of `repeats`, one core; and the process's peak resident memory.
func benchmarkPhysics(windowSeconds: Double, repeats: Int) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let folder = root.appendingPathComponent("data/humanoid-motions")
    guard let humanoid = try? Humanoid.load(urdf: folder.appendingPathComponent("humanoid.urdf")),
          let clip = try? MotionClip.load(MotionData.clipURL("walk", in: folder), humanoid: humanoid)
    else {
        print("cannot load \(folder.path)")
        return
    }
    let simulator = Simulator(humanoid: humanoid)
    let observed = ObservedClip(clip: clip, humanoid: humanoid, seed: 0)
    var options = ReconstructionOptions()
    options.windowSeconds = windowSeconds
    let window = Reconstructor.window(observed, simulator: simulator, start: 0, duration: windowSeconds,
                                      initialState: Reconstructor.initialState(observed, simulator: simulator),
                                      options: options)
    func best(_ body: () -> Void) -> Double {
        var t = Double.infinity
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            body()
            t = min(t, (ContinuousClock.now - start).inSeconds)
        }
        return t
    }
    var gradient = [Double]()
    let forward = best { _ = window.value(at: window.initialParameters) }
    let both = best { _ = window.valueAndGradient(at: window.initialParameters, gradient: &gradient) }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print("reconstruction window \(windowSeconds) s on walk: \(window.steps) steps of \(simulator.configuration.timeStep) s, "
          + "\(window.dimension) parameters, \(simulator.contactPointCount) contact candidates")
    print(String(format: "forward (loss):        %8.2f ms  (%.1f µs per step)", 1000 * forward, 1e6 * forward / Double(window.steps)))
    print(String(format: "loss + gradient:       %8.2f ms  (%.1f× forward; goal < 100 ms)", 1000 * both, both / forward))
    print("peak resident memory:  \(usage.ru_maxrss / 1024) MiB (whole process)")
}
