import Foundation
import OptimusSupport
import Testing

@Suite struct StrictJSONTests {
    @Test func theFirstUnknownFieldIsNamedWithItsPathAndTheValidFields() {
        #expect(UnknownField.first(in: ["a", "b"], valid: ["a", "b"]) == nil)
        let unknown = UnknownField.first(in: ["a", "x", "y"], valid: ["b", "a"], prefix: "outer.")
        #expect(unknown?.field == "outer.x")
        #expect(unknown?.message == "unknown field; valid: b, a")
    }

    struct Inner: Decodable {
        var count: Int
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyCodingKey.self)
            if let unknown = c.unknownField(valid: ["count"]) { throw Failure(text: "\(unknown.field): \(unknown.message)") }
            count = try c.value("count", default: 3)
        }
    }
    struct Outer: Decodable { var inner: Inner }
    struct Failure: Error { var text: String }

    @Test func containersTakeDefaultsAndNameUnknownFieldsBelowTheRoot() throws {
        #expect(try JSONDecoder().decode(Outer.self, from: Data(#"{"inner":{}}"#.utf8)).inner.count == 3)
        #expect(try JSONDecoder().decode(Outer.self, from: Data(#"{"inner":{"count":5}}"#.utf8)).inner.count == 5)
        do {
            _ = try JSONDecoder().decode(Outer.self, from: Data(#"{"inner":{"cuont":5}}"#.utf8))
            Issue.record("accepted an unknown field")
        } catch let e as Failure { #expect(e.text == "inner.cuont: unknown field; valid: count") }
    }
}

@Suite struct FileTests {
    struct Line: Codable, Equatable, Sendable { var step: Int; var loss: Double }

    @Test func atomicWriteReplacesTheFileAndLeavesNoTemporary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("support-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("state.bin")
        try atomicWrite(Data("old".utf8), to: url)
        try atomicWrite(Data("new".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["state.bin"])
        let missing = dir.appendingPathComponent("no/such/folder/file")
        #expect(throws: FileError.self) { try atomicWrite(Data(), to: missing) }
    }

    @Test func jsonLinesRoundTripAndLenientReadingPassesOverOtherLines() throws {
        let lines = [Line(step: 1, loss: 0.5), Line(step: 2, loss: 0.25)]
        let data = try JSONLines.lines(lines, encoder: JSONEncoder())
        #expect(data.last == UInt8(ascii: "\n"))
        let text = String(decoding: data, as: UTF8.self) + "{\"step\":3\n\n{\"step\":4,\"loss\":1}"
        #expect(JSONLines.decodable(Line.self, in: text) == lines + [Line(step: 4, loss: 1)])
    }
}
