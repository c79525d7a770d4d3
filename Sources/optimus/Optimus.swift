import ArgumentParser
import OptimusKit

/// `optimus`: the command-line front end. Thin by design: it parses, validates, calls the libraries and prints.
@main
struct OptimusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimus",
        abstract: "Learned and classical optimization: benchmark functions, optimizers, comparisons.",
        discussion: """
            Exit codes: 0 success; 64 bad usage or argument (the message names the field and what is valid); \
            65 an input file's content is not valid; 66 an input file does not exist or cannot be read (the \
            message gives the reason); 70 internal error; 73 an output file or folder cannot be created. A \
            numerical failure is a termination reason, not an exit code.
            """,
        subcommands: [Functions.self, Minimize.self, Demo.self, CheckpointCommand.self, Serve.self, Train.self, Validate.self, HeldOut.self, PlotTraining.self, Evaluate.self, ReportCommand.self, Reconstruct.self]
    )

    static func main() {
        Allocator.retainFreedMemory()
        main(nil)
    }
}
