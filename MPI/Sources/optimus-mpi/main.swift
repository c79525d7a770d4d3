// optimus-mpi: `optimus train` with particles spread over MPI ranks.
//
//   mpirun -np 2 optimus-mpi train --config FILE --output DIR [--resume]
//
// Each rank advances the particles i with i mod size == rank; the per-particle estimates are combined with one
// MPI_Allreduce per outer step (exact, see ParticleCommunicator), so θ is bit-identical to the single-process
// trainer with the same configuration. Rank 0 writes every file.
import CMPI
import Foundation
import OptimusKit

struct MPICommunicator: ParticleCommunicator {
    let rank: Int
    let size: Int

    func allReduceSum(_ values: inout [Double]) {
        let n = Int32(values.count)
        values.withUnsafeMutableBufferPointer { b in
            _ = MPI_Allreduce(swmpi_in_place(), b.baseAddress, n, swmpi_double(), swmpi_sum(), swmpi_comm_world())
        }
    }

    func allGather(_ bytes: [UInt8]) -> [[UInt8]] {
        var mine = Int64(bytes.count)
        var sizes = [Int64](repeating: 0, count: size)
        _ = MPI_Allgather(&mine, 1, swmpi_int64(), &sizes, 1, swmpi_int64(), swmpi_comm_world())
        let counts = sizes.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(1, size) { displacements[r] = displacements[r - 1] + counts[r - 1] }
        var all = [UInt8](repeating: 0, count: Int(sizes.reduce(0, +)))
        var send = bytes
        _ = MPI_Allgatherv(&send, Int32(bytes.count), swmpi_byte(), &all, counts, displacements, swmpi_byte(),
                           swmpi_comm_world())
        return (0..<size).map { r in Array(all[Int(displacements[r])..<Int(displacements[r] + counts[r])]) }
    }
}

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
guard MPI_Init(&argc, &argv) == MPI_SUCCESS else {
    FileHandle.standardError.write(Data("optimus-mpi: MPI_Init failed\n".utf8))
    exit(70)
}
var rankValue: Int32 = 0, sizeValue: Int32 = 1
MPI_Comm_rank(swmpi_comm_world(), &rankValue)
MPI_Comm_size(swmpi_comm_world(), &sizeValue)
let rank = rankValue, size = sizeValue

func fail(_ message: String, code: Int32) -> Never {
    if rank == 0 { FileHandle.standardError.write(Data("Error: \(message)\n".utf8)) }
    MPI_Abort(swmpi_comm_world(), code)
    exit(code)
}

guard CommandLine.arguments.dropFirst().first == "train", let configPath = argument("--config"),
      let output = argument("--output")
else { fail("usage: optimus-mpi train --config FILE --output DIR [--resume]", code: 64) }
guard let data = FileManager.default.contents(atPath: configPath) else { fail("config: cannot read '\(configPath)'", code: 64) }
let configuration: TrainingConfiguration
do {
    configuration = try TrainingConfiguration.decode(data)
    try configuration.validate()
} catch {
    fail("config: \(error)", code: 65)
}
if rank == 0 { FileHandle.standardError.write(Data("optimus-mpi: \(size) ranks\n".utf8)) }
do {
    try MetaTrainingRun.run(configuration: configuration, output: URL(fileURLWithPath: output),
                            resume: CommandLine.arguments.contains("--resume"),
                            communicator: MPICommunicator(rank: Int(rank), size: Int(size))) { p in
        if p.step % 10 == 0 || p.step == p.total || p.validationLoss != nil {
            let v = p.validationLoss.map { String(format: "  validation %.3f", $0) } ?? ""
            FileHandle.standardError.write(Data(String(format: "step %d/%d  meta-loss %.4f  %.2f steps/s", p.step,
                                                       p.total, p.loss, p.stepsPerSecond).utf8 + Data((v + "\n").utf8)))
        }
    }
} catch {
    fail("\(error)", code: 65)
}
MPI_Finalize()
