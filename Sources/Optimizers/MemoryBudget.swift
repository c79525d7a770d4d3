import Foundation

/// The memory of a run and the budget that bounds it: one policy for `optimus minimize` and `optimus serve`.
///
/// Every optimizer declares the bytes a run at dimension d needs (``Optimizer/memoryBytes(dimension:)``): its state and
/// the workspaces of one step, not the objective's own memory. The declarations:
///
/// | optimizer | bytes at dimension d | why |
/// |---|---|---|
/// | gd, momentum, adam | 8·d·12 | a dozen vectors of d Doubles (iterate, gradient, moments, the driver's best point) |
/// | bfgs | 8·d² + 8·d·16 | the dense inverse Hessian H |
/// | lbfgs | 16·m·d + 8·d·16 | m pairs (s, y), m = 10 |
/// | adafactor-mlp | linear in d | accumulators and the MLP's activations, per coordinate |
/// | optimus | 4·d² + 4·d² + linear | B (`Float`, not for `optimus-no-structure`) and one head's attention scores over the d coordinates |
///
/// A request whose need exceeds the budget is refused before anything is allocated
/// (``OptimizationError/overMemoryBudget(optimizer:dimension:needed:budget:)``), with a message that says what it
/// would need and which optimizers scale linearly (L-BFGS, Adafactor-MLP). Before, one ordinary `start` message (BFGS
/// at d = 100,000) made `optimus serve` abort allocating 80 GB, and the CLI had a fixed cap that was too high for
/// Optimus and unrelated to the machine.
///
/// The default budget is a quarter of physical memory (``defaultFraction``): the run's dense matrices then leave room
/// for the objective, the operating system and a second run; `--memory-budget` on `minimize` and `serve` changes it.
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    /// The largest need accepted, in bytes.
    public var bytes: Int

    public init(bytes: Int) { self.bytes = max(0, bytes) }

    /// The fraction of physical memory that is the default budget: 1/4.
    public static let defaultFraction = 0.25

    /// This machine's physical memory in bytes.
    public static var physicalMemory: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// ``defaultFraction`` of ``physicalMemory``.
    public static var `default`: MemoryBudget {
        MemoryBudget(bytes: Int(Double(physicalMemory) * defaultFraction))
    }

    /// A budget from text: bytes (`1048576`), with a binary suffix (`512K`, `512M`, `6G`, `1T`; `KiB`, `MiB`, … and
    /// `KB`, `MB`, … mean the same), or a percentage of physical memory (`50%`). nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("%") {
            guard let p = Double(t.dropLast()), p.isFinite, p > 0, p <= 100 else { return nil }
            self.init(bytes: Int(Double(Self.physicalMemory) * p / 100))
            return
        }
        let units: [(String, Double)] = [("TIB", 0x1p40), ("GIB", 0x1p30), ("MIB", 0x1p20), ("KIB", 0x1p10),
                                         ("TB", 0x1p40), ("GB", 0x1p30), ("MB", 0x1p20), ("KB", 0x1p10),
                                         ("T", 0x1p40), ("G", 0x1p30), ("M", 0x1p20), ("K", 0x1p10), ("B", 1)]
        var number = Substring(t)
        var scale = 1.0
        for (suffix, factor) in units where t.uppercased().hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = factor
            break
        }
        guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0,
              v * scale < 0x1p62 else { return nil }
        self.init(bytes: Int(v * scale))
    }

    /// "6.0 GiB".
    public var description: String { Self.format(bytes) }

    /// Throws ``OptimizationError/overMemoryBudget(optimizer:dimension:needed:budget:)`` when `optimizer` at
    /// `dimension` needs more than the budget.
    public func check(_ optimizer: some Optimizer, dimension: Int) throws(OptimizationError) {
        let needed = optimizer.memoryBytes(dimension: dimension)
        guard needed <= bytes else {
            throw .overMemoryBudget(optimizer: optimizer.name, dimension: dimension, needed: needed, budget: bytes)
        }
    }

    /// Bytes as "80.0 GiB", "512 MiB", "96 KiB".
    public static func format(_ bytes: Int) -> String {
        let b = Double(bytes)
        for (unit, factor) in [("TiB", 0x1p40), ("GiB", 0x1p30), ("MiB", 0x1p20), ("KiB", 0x1p10)] where b >= factor {
            return String(format: b / factor < 100 ? "%.1f %@" : "%.0f %@", b / factor, unit)
        }
        return "\(bytes) bytes"
    }

    /// `coefficient`·d² + `perCoordinate`·d bytes, saturating instead of overflowing (a server's d is bounded only by
    /// its line length).
    public static func bytes(squared coefficient: Double = 0, perCoordinate: Double, dimension d: Int) -> Int {
        let n = Double(max(0, d))
        let total = coefficient * n * n + perCoordinate * n
        return total >= 0x1p62 ? 1 << 62 : Int(total)
    }

    /// A dozen vectors of d Doubles: the default declaration, enough for a first-order method and the driver's own
    /// copies (iterate, point, gradient, best point).
    public static func linear(dimension d: Int, vectors: Int = 12) -> Int {
        bytes(perCoordinate: Double(8 * vectors), dimension: d)
    }
}
