import ArgumentParser
import Foundation
import OptimusKit

/// `optimus serve`: the JSON Lines protocol on standard input and output (see docs/protocol.md).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the optimization protocol (JSON Lines on stdin/stdout; see docs/protocol.md).",
        discussion: """
            Every request line is answered by exactly one response line. The server ends at end of input. A start \
            whose optimizer would need more memory than --memory-budget at its dimension is answered with an error \
            (code over_memory_budget).
            """)

    @OptionGroup var memory: MemoryBudgetOption

    func run() throws {
        // Lines are read in bounded chunks: an over-long line is discarded as it streams past, never held whole.
        ProtocolServer(memoryBudget: memory.memoryBudget).serve(input: STDIN_FILENO, output: FileHandle.standardOutput)
    }
}
