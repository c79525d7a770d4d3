import Foundation
import Synchronization

/// Append-only JSON Lines file that survives interruption: on open, a torn last line (the process was killed while
/// writing it) is cut off, so a resumed evaluation redoes only that run. Appends are serialized and flushed per line.
/// Records are written with ``makeRecordEncoder(pretty:)`` and read with ``makeRecordDecoder()``.
public final class JSONLinesFile<Record: Codable & Sendable>: Sendable {
    public let url: URL
    private let handle: Mutex<FileHandle>

    /// Opens (creating if needed) and returns the file with the records already in it. A line that is complete
    /// but not a valid record is an error naming the line, not silently skipped.
    public static func open(_ url: URL) throws(FileError) -> (JSONLinesFile, [Record]) {
        let fm = FileManager.default
        var records: [Record] = []
        if fm.fileExists(atPath: url.path) {
            guard let data = fm.contents(atPath: url.path) else { throw .unreadable(path: url.path, reason: "cannot read") }
            let decoder = makeRecordDecoder()
            var validLength = 0
            var offset = 0
            let bytes = [UInt8](data)
            var lineNumber = 0
            while offset < bytes.count {
                guard let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else { break }  // torn last line
                lineNumber += 1
                let line = Data(bytes[offset..<end])
                if !line.isEmpty {
                    do { records.append(try decoder.decode(Record.self, from: line)) } catch {
                        throw .unreadable(path: url.path, reason: "line \(lineNumber) is not a valid record: \(error)")
                    }
                }
                offset = end + 1
                validLength = offset
            }
            if validLength < bytes.count {
                do {
                    let h = try FileHandle(forWritingTo: url)
                    try h.truncate(atOffset: UInt64(validLength))
                    try h.close()
                } catch { throw .unwritable(path: url.path, reason: "cannot cut the torn last line: \(error)") }
            }
        }
        return (JSONLinesFile(url: url, handle: try openForAppending(url)), records)
    }

    private init(url: URL, handle: FileHandle) {
        self.url = url
        self.handle = Mutex(handle)
    }

    /// Appends one record as one line.
    public func append(_ record: Record) throws {
        let data = try JSONLines.line(record, encoder: makeRecordEncoder())
        try handle.withLock { h in
            try h.write(contentsOf: data)
            try h.synchronize()
        }
    }

    /// Reads all records of a file (no repair); a missing file gives []. When only `<file>.gz` exists (evaluations
    /// are committed compressed), it is read through `gzip -dc`.
    public static func read(_ url: URL) throws(FileError) -> [Record] {
        let fm = FileManager.default
        var contents = fm.contents(atPath: url.path)
        let compressed = url.appendingPathExtension("gz")
        if contents == nil, fm.fileExists(atPath: compressed.path) {
            contents = try gunzip(compressed)
        }
        guard let data = contents else { return [] }
        let decoder = makeRecordDecoder()
        var out: [Record] = []
        let lines = data.split(separator: UInt8(ascii: "\n"))
        for (i, line) in lines.enumerated() where !line.isEmpty {
            do { out.append(try decoder.decode(Record.self, from: Data(line))) } catch {
                // A torn last line is what an interrupted evaluation leaves; anything else is corrupt.
                if i == lines.count - 1, data.last != UInt8(ascii: "\n") { break }
                throw .unreadable(path: url.path, reason: "line \(i + 1) is not a valid record: \(error)")
            }
        }
        return out
    }
}

/// JSON Lines text: one JSON value a line, each line ended by "\n".
public enum JSONLines {
    /// `value` as one line: its JSON and "\n".
    public static func line(_ value: some Encodable, encoder: JSONEncoder) throws -> Data {
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// `values` as lines (``line(_:encoder:)`` each), e.g. a whole file to write with ``atomicWrite(_:to:)``.
    public static func lines<Value: Encodable>(_ values: [Value], encoder: JSONEncoder) throws -> Data {
        var data = Data()
        for v in values { data += try line(v, encoder: encoder) }
        return data
    }

    /// The lines of `text` that decode as `Value`, in order; every other line (empty, torn, or of another shape) is
    /// passed over. For logs whose readers take what they can (a training run's metrics); the evaluation's records
    /// are read strictly with ``JSONLinesFile``.
    public static func decodable<Value: Decodable>(_ type: Value.Type, in text: String,
                                                   decoder: JSONDecoder = JSONDecoder()) -> [Value] {
        text.split(separator: "\n").compactMap { try? decoder.decode(type, from: Data($0.utf8)) }
    }
}
