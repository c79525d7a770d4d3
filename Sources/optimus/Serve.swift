import ArgumentParser
import Foundation
import OptimusKit

/// `optimus serve`: the JSON Lines protocol on standard input and output (see docs/protocol.md).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the optimization protocol (JSON Lines on stdin/stdout; see docs/protocol.md).",
        discussion: "Every request line is answered by exactly one response line. The server ends at end of input.")

    func run() throws {
        let server = ProtocolServer()
        let out = FileHandle.standardOutput
        while let line = readLine(strippingNewline: true) {
            let response = server.handle(line: line) + "\n"
            do { try out.write(contentsOf: Data(response.utf8)) } catch {
                return  // the reader went away: end quietly
            }
        }
    }
}
