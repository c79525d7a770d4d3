import ArgumentParser
import Foundation
import OptimusKit

// Options that several commands share, declared once (`@OptionGroup`): same flag, default and help text everywhere.
// A group's own `validate()` would run while the command is parsed, before the command's `validate()`, and so change
// which message a command line with several mistakes gets; groups that need checking offer `check()` instead, which
// the command calls at its place among its other checks.

/// `--json`: one JSON object on standard output instead of text.
struct JSONOutputOption: ParsableArguments {
    @Flag(help: "Print one JSON object on standard output.")
    var json = false
}

/// `--line-search` of the quasi-Newton methods.
struct LineSearchOption: ParsableArguments {
    @Option(help: "Line search of bfgs and lbfgs: strong-wolfe or backtracking.")
    var lineSearch: String = "strong-wolfe"

    /// Throws the usage error for a name other than `strong-wolfe` and `backtracking`.
    func check() throws {
        guard ["strong-wolfe", "backtracking"].contains(lineSearch) else {
            throw ValidationError("line-search: '\(lineSearch)' is not valid; use strong-wolfe or backtracking")
        }
    }

    /// The method named (after ``check()``).
    var method: LineSearchMethod { lineSearch == "backtracking" ? .backtracking : .strongWolfe }
}

/// `--memory-budget`: the largest memory a run may need.
struct MemoryBudgetOption: ParsableArguments {
    @Option(help: "Largest memory a run may need: bytes, with K/M/G/T (binary), or a percentage of physical memory (default 25%).",
            transform: parseMemoryBudget)
    var memoryBudget: MemoryBudget = .default
}

/// `--threads`: worker threads of an evaluation.
struct ThreadsOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Worker threads (default: every core).")
    var threads: Int?

    /// The threads to use: `--threads`, else every core.
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
}
