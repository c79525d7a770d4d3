/// The seam between the PES trainer and the processes it runs on: one process (``SingleProcess``) or several
/// (`optimus-mpi`, which implements this protocol with MPI).
///
/// Particle i belongs to the process with rank i mod size. After each truncation every process contributes its
/// particles' estimates to a K×P buffer that is zero elsewhere, and ``allReduceSum(_:)`` adds the buffers; adding
/// zeros is exact, so every process ends up with the same per-particle estimates as a single process and reduces
/// them in the same index order — θ is bit-identical for any number of processes.
public protocol ParticleCommunicator: Sendable {
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise sum over all processes, in place; every process receives the result.
    func allReduceSum(_ values: inout [Double])
    /// Every process's bytes, in rank order, on every process.
    func allGather(_ bytes: [UInt8]) -> [[UInt8]]
}

/// The communicator of a single process: nothing to exchange.
public struct SingleProcess: ParticleCommunicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: inout [Double]) {}
    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
}
