import ArgumentParser

/// `optimus`: the command-line front end. Thin by design: it parses, validates, calls the libraries and prints.
@main
struct OptimusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimus",
        abstract: "Learned and classical optimization: benchmark functions, optimizers, comparisons.",
        discussion: """
            Exit codes: 0 success; 64 bad usage or input (the message names the field and what is valid); \
            65 bad data file; 70 internal error. A numerical failure is a termination reason, not an exit code.
            """,
        subcommands: [Functions.self, Minimize.self, Demo.self, CheckpointCommand.self, Serve.self, Train.self, Validate.self, HeldOut.self, PlotTraining.self, Evaluate.self, ReportCommand.self, Reconstruct.self]
    )
}
