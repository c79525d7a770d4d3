import Foundation
import Optimizers
import Testing
@testable import OptimusServer

#if canImport(Glibc)
import Glibc
#endif

/// `optimus serve` under untrusted input (issue 16): a memory budget for every start, bounded line reading, replies
/// within the server's own limit, and `null` with a reason for non-finite results.
@Suite struct ServerHardeningTests {
    /// Reproducer: BFGS at d = 100,000 (a 1 MB start message) made the server abort allocating 80 GB. It is now an
    /// error reply naming what it would need and the optimizers that scale; the server goes on serving.
    @Test func aStartOverTheMemoryBudgetIsAnErrorReply() throws {
        let server = ProtocolServer(memoryBudget: MemoryBudget(bytes: 8 << 30))
        let x0 = "\"x0\":\"" + Base64Vector.encode([Double](repeating: 0.5, count: 100_000)) + "\",\"encoding\":\"base64\""
        let refused = try parse(server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"bfgs\",\(x0)}"))
        #expect(refused["type"]?.string == "error" && refused["code"]?.string == "over_memory_budget")
        #expect(refused["field"]?.string == "x0" && !server.isRunning)
        let message = try #require(refused["message"]?.string)
        #expect(message.contains("d = 100000") && message.contains("74.5 GiB") && message.contains("L-BFGS"), "\(message)")
        for name in ["optimus", "optimus-no-structure"] {
            let r = try parse(server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"\(name)\",\(x0)}"))
            #expect(r["code"]?.string == "over_memory_budget", "\(name): \(r)")
        }
        // The same dimension with a method linear in d runs.
        for name in ["lbfgs", "adafactor-mlp"] {
            let r = try parse(server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"\(name)\",\(x0)}"))
            #expect(r["type"]?.string == "evaluate", "\(name): \(r["message"] ?? .null)")
            _ = server.handle(line: "{\"type\":\"cancel\"}")
        }
    }

    /// The declarations behind the budget (``MemoryBudget``'s table).
    @Test func memoryDeclarations() throws {
        let d = 1000
        #expect(BFGS().memoryBytes(dimension: d) == 8 * d * d + 8 * 16 * d)
        #expect(LBFGS().memoryBytes(dimension: d) == 16 * 10 * d + 8 * 16 * d)
        #expect(Adam(learningRate: 0.1).memoryBytes(dimension: d) == 8 * 12 * d)
        #expect(AnyOptimizer(BFGS()).memoryBytes(dimension: d) == BFGS().memoryBytes(dimension: d))
        #expect(BFGS().memoryBytes(dimension: Int.max / 2) == 1 << 62)  // saturates, never overflows
        #expect(MemoryBudget(parsing: "6G")?.bytes == 6 << 30 && MemoryBudget(parsing: "512MiB")?.bytes == 512 << 20)
        #expect(MemoryBudget(parsing: "1000")?.bytes == 1000 && MemoryBudget(parsing: "x") == nil)
        #expect(MemoryBudget(parsing: "0") == nil && MemoryBudget(parsing: "200%") == nil)
        #expect(MemoryBudget(parsing: "50%")?.bytes == MemoryBudget.physicalMemory / 2)
        #expect(MemoryBudget.default.bytes == Int(Double(MemoryBudget.physicalMemory) * 0.25))
    }

    /// A reply longer than the server's limit becomes an error: an evaluation request the client could not accept
    /// ends the run; a result is summarized in the error.
    @Test func repliesNeverExceedTheLimit() throws {
        let small = ProtocolServer(replyLimit: 200)
        let x0 = JSONNumbers.array((0..<20).map { 0.123456789 + Double($0) })
        let request = try parse(small.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"lbfgs\",\"x0\":\(x0)}"))
        #expect(request["type"]?.string == "error" && request["code"]?.string == "reply_too_long", "\(request)")
        #expect(request["message"]?.string?.contains("run has been ended") == true && !small.isRunning)

        let server = ProtocolServer(replyLimit: 400)
        var r = try parse(server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"gd\",\"x0\":[1,2,3],"
            + "\"options\":{\"maxIterations\":3,\"iterates\":true}}"))
        while r["type"]?.string == "evaluate" {
            let x = doubles(r["x"])
            let id = try #require(r["id"]?.integer)
            r = try parse(server.handle(line: "{\"type\":\"evaluation\",\"id\":\(id),\"value\":\(x.map { $0 * $0 }.reduce(0, +)),"
                + "\"gradient\":\(JSONNumbers.array(x.map { 2 * $0 }))}"))
        }
        #expect(r["code"]?.string == "reply_too_long", "\(r)")
        let message = try #require(r["message"]?.string)
        #expect(message.contains("3 iterations") && message.contains("iterationLimit") && message.contains("base64"))
        #expect(!server.isRunning)
    }

    /// A run whose values are all "not evaluable" ends with `null` values and says why (JSON has no NaN).
    @Test func nonFiniteResultsAreNullWithAReason() throws {
        let server = ProtocolServer()
        _ = server.handle(line: "{\"type\":\"start\",\"protocol\":1,\"optimizer\":\"gd\",\"x0\":[1e308,1e308]}")
        let line = server.handle(line: "{\"type\":\"evaluation\",\"id\":1,\"value\":null,\"gradient\":[null,null]}")
        let r = try parse(line)
        #expect(r["type"]?.string == "result" && r["value"] == .null && r["termination"]?.string == "nonFiniteObjective")
        #expect(r["nullReason"]?.string?.contains("value") == true && !line.contains("NaN"))
    }

    /// The line reader: lines, CRLF, an over-long line in the middle (discarded, reported once with its length), a
    /// last line without a terminator, and an over-long last line without one.
    @Test func theLineReaderBoundsEveryLine() throws {
        func lines(_ text: String, limit: Int) throws -> [LineReader.Item] {
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            let bytes = Array(text.utf8)
            let writeEnd = fds[1]
            let writer = Thread {
                bytes.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = write(writeEnd, raw.baseAddress! + offset, min(4096, raw.count - offset))
                        if n <= 0 { break }
                        offset += n
                    }
                }
                close(writeEnd)
            }
            writer.start()
            var reader = LineReader(fileDescriptor: fds[0], maximumLength: limit, chunkSize: 7)
            var items: [LineReader.Item] = []
            while let item = reader.next() { items.append(item) }
            close(fds[0])
            return items
        }
        let long = String(repeating: "y", count: 1000)
        #expect(try lines("ab\ncd\r\n\(long)\nef\n\nlast", limit: 10)
            == [.line("ab"), .line("cd"), .tooLong(bytes: 1000), .line("ef"), .line(""), .line("last")])
        #expect(try lines("ok\n\(long)", limit: 10) == [.line("ok"), .tooLong(bytes: 1000)])
        #expect(try lines("0123456789\n01234567890\n", limit: 10) == [.line("0123456789"), .tooLong(bytes: 11)])
        #expect(try lines("", limit: 10) == [])
    }
}
