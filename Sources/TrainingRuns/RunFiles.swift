import Foundation
import MetaTraining
import OptimusNumerics
import OptimusSupport

// The files of a training run: the training state (magic line + BinaryCoder), atomic writes, CPU time.
extension MetaTrainingRun {
    static let stateMagic = Data("OPTIMUS-TRAINING-STATE-1\n".utf8)

    /// The bytes of a training-state file: the magic line, then ``BinaryCoder``'s encoding.
    static func encodeState<S: Encodable>(_ state: S, capacity: Int = 0) throws -> Data {
        try BinaryCoder.encode(state, after: stateMagic, capacity: capacity)
    }

    static func readState<S: Decodable>(_ url: URL, as type: S.Type) throws -> S {
        let data = try Data(contentsOf: url)
        guard data.starts(with: stateMagic) else {
            throw MetaTrainingError.state("\(url.path) is not a swift-optimus training state (version 1)")
        }
        do { return try BinaryCoder.decode(type, from: data.dropFirst(stateMagic.count)) } catch {
            throw MetaTrainingError.state("\(url.path) is truncated or corrupted (\(error))")
        }
    }

    /// ``OptimusSupport/atomicWrite(_:to:)`` (temporary file in the same folder, fsync, rename), its own failures
    /// reported as ``MetaTrainingError/state(_:)``.
    static func atomicWrite(_ data: Data, to url: URL) throws {
        do { try OptimusSupport.atomicWrite(data, to: url) } catch let e as FileError {
            throw MetaTrainingError.state(e.reason)
        }
    }

    /// `x` if finite (JSON has no NaN or infinity), else nil.
    static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

/// Writes files with ``MetaTrainingRun/atomicWrite(_:to:)`` on a background thread, one at a time: the caller waits
/// only for the previous write (so at most one is in flight), and ``finish()`` waits for the last one and throws the
/// first error a write met. A training state of the Optimus paper preset is ~100 MB, and its write and fsync kept
/// both cores idle for ~0.25 s per checkpoint.
final class BackgroundFileWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "swift-optimus.state-writer")
    private let lock = NSLock()
    private var failure: (any Error)?

    func write(_ data: Data, to url: URL) throws {
        try finish()
        queue.async {
            do { try MetaTrainingRun.atomicWrite(data, to: url) } catch {
                self.lock.lock()
                if self.failure == nil { self.failure = error }
                self.lock.unlock()
            }
        }
    }

    func finish() throws {
        queue.sync {}
        lock.lock()
        defer { lock.unlock() }
        if let failure {
            self.failure = nil
            throw failure
        }
    }
}
