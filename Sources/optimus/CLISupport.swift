import ArgumentParser
import Foundation
import OptimusKit

/// Exit codes of the command-line contract (BSD sysexits).
enum ExitStatus {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let internalError: Int32 = 70
}

/// Prints `Error: message` to standard error and returns the exit code to throw.
func failure(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
    return ExitCode(code)
}

/// Writes a line to standard error (logs never go to standard output, which carries results).
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// A JSON encoder for results: sorted keys, non-finite numbers as the strings "NaN", "Infinity", "-Infinity".
func makeJSONEncoder(pretty: Bool = false) -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    e.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return e
}

/// Prints one JSON object on standard output.
func printJSON(_ value: some Encodable) throws {
    let data = try makeJSONEncoder().encode(value)
    print(String(decoding: data, as: UTF8.self))
}

/// Reads a starting point from a file: a JSON array of numbers, or numbers separated by whitespace or commas.
func readPoint(path: String, field: String) throws -> [Double] {
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw failure("\(field): cannot read file '\(path)'", code: ExitStatus.usage)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw failure("\(field): cannot read file '\(path)'", code: ExitStatus.usage)
    }
    if let array = try? JSONDecoder().decode([Double].self, from: data) { return array }
    let text = String(decoding: data, as: UTF8.self)
    let tokens = text.split(whereSeparator: { $0.isWhitespace || $0 == "," })
    var values: [Double] = []
    for (i, t) in tokens.enumerated() {
        guard let v = Double(t) else {
            throw failure("\(field): '\(path)' item \(i + 1) ('\(t.prefix(40))') is not a number; expected a JSON "
                + "array of numbers or numbers separated by whitespace or commas", code: ExitStatus.dataError)
        }
        values.append(v)
    }
    guard !values.isEmpty else {
        throw failure("\(field): '\(path)' holds no numbers", code: ExitStatus.dataError)
    }
    return values
}

/// Formats a number for tables: 6 significant digits.
func fmt(_ v: Double) -> String { String(format: "%.6g", v) }

/// Pads or truncates to a column width.
func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    if s.count >= width { return s }
    let fill = String(repeating: " ", count: width - s.count)
    return right ? fill + s : s + fill
}
