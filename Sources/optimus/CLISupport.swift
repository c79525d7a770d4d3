import ArgumentParser
import Foundation
import OptimusKit

/// Exit codes of the command-line contract (BSD sysexits), documented in the README.
enum ExitStatus {
    /// Bad usage or argument: the message names the field and what is valid.
    static let usage: Int32 = 64
    /// An input file was read but its content is not valid.
    static let dataError: Int32 = 65
    /// An input file named on the command line does not exist or cannot be read.
    static let noInput: Int32 = 66
    static let internalError: Int32 = 70
    /// An output file or folder cannot be created or written.
    static let cannotCreate: Int32 = 73
}

/// Parses a seed: an integer in 0…2⁶⁴−1 (a negative number is a clear error, not a missing value).
func parseSeed(_ text: String) throws -> UInt64 {
    guard let value = UInt64(text) else {
        throw ValidationError("'\(text)' is not a seed; a seed is an integer in 0…\(UInt64.max)")
    }
    return value
}

/// Parses `--memory-budget`: bytes, with a binary suffix (K, M, G, T), or a percentage of physical memory.
func parseMemoryBudget(_ text: String) throws -> MemoryBudget {
    guard let budget = MemoryBudget(parsing: text) else {
        throw ValidationError("'\(text)' is not a memory size; give bytes, with K, M, G or T (binary: 6G = 6·2³⁰ bytes), "
            + "or a percentage of physical memory such as 50%")
    }
    return budget
}

/// The bytes of an input file named by `field`, or the exit ``ExitStatus/noInput`` with the reason (no such file,
/// permission denied, a folder) in the message.
func readInputFile(_ path: String, field: String) throws -> Data {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        throw failure("\(field): '\(path)' is a folder, not a file", code: ExitStatus.noInput)
    }
    // open(2) rather than FileManager: its errno is the reason the user needs (no such file, permission denied).
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        let reason = String(cString: strerror(errno))
        throw failure("\(field): cannot read '\(path)': \(reason)", code: ExitStatus.noInput)
    }
    let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    do { return try handle.readToEnd() ?? Data() } catch {
        throw failure("\(field): cannot read '\(path)': \(error.localizedDescription)", code: ExitStatus.noInput)
    }
}

/// Creates the output folder `path` with its parents, or exits ``ExitStatus/cannotCreate`` (73) naming the component
/// that cannot be made and why (a regular file in the way, permission denied, read-only file system). Commands call it
/// before any work, so that a run never computes for minutes and then fails to save.
@discardableResult
func createOutputFolder(_ path: String, field: String = "output", for target: String? = nil) throws -> URL {
    let url = URL(fileURLWithPath: path)
    let named = target ?? path
    var prefix = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
        prefix += "/" + component
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: prefix, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw failure("\(field): cannot create '\(named)': '\(prefix)' is a file, not a folder",
                              code: ExitStatus.cannotCreate)
            }
            continue
        }
        // mkdir(2) rather than FileManager: its errno is the reason the user needs.
        if mkdir(prefix, 0o777) != 0 && errno != EEXIST {
            throw failure("\(field): cannot create '\(named)': \(String(cString: strerror(errno)))",
                          code: ExitStatus.cannotCreate)
        }
    }
    guard access(path, W_OK | X_OK) == 0 else {
        throw failure("\(field): cannot create '\(named)': \(String(cString: strerror(errno)))",
                      code: ExitStatus.cannotCreate)
    }
    return url
}

/// Checks that the output file `path` can be created: its folder is made if missing (``createOutputFolder(_:field:)``)
/// and must be writable, and the path itself must not be a folder; else exits 73.
func prepareOutputFile(_ path: String, field: String = "output") throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        throw failure("\(field): cannot write '\(path)': it is a folder", code: ExitStatus.cannotCreate)
    }
    let parent = (path as NSString).deletingLastPathComponent
    try createOutputFolder(parent.isEmpty ? "." : parent, field: field, for: path)
}

/// The reason a write failed, for messages: the POSIX error underneath Foundation's (whose own text is "The
/// operation could not be completed").
func writeFailureReason(_ error: any Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    return ns.localizedDescription
}

extension CocoaError {
    /// Foundation's write errors (`NSFileWrite…`, codes 512…642): an output that cannot be created or written.
    var isWriteError: Bool { (512...642).contains(code.rawValue) }
}

/// A path for records and messages: relative to the current folder when the file lies below it (so results made in
/// a clone do not carry the machine's absolute paths), else as given.
func displayPath(_ path: String) -> String {
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
    let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
    let prefix = current.hasSuffix("/") ? current : current + "/"
    return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : path
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

/// Prints one JSON object on standard output, with the records' encoder (``makeRecordEncoder(pretty:)``: sorted keys,
/// non-finite numbers as `null`, never a string such as "NaN"; the output that can hold one says why in a reason field).
func printJSON(_ value: some Encodable) throws {
    let data = try makeRecordEncoder().encode(value)
    print(String(decoding: data, as: UTF8.self))
}

/// Reads a starting point from a file: a JSON array of numbers, or numbers separated by whitespace or commas. Every
/// value must be finite; a bad item is named by its position (exit 65).
func readPoint(path: String, field: String) throws -> [Double] {
    let data = try readInputFile(path, field: field)
    if let array = try? JSONDecoder().decode([Double].self, from: data) { return array }
    let text = String(decoding: data, as: UTF8.self)
    // Brackets are separators too, so that "[1, NaN]" (not JSON) names its second item rather than "[1".
    let tokens = text.split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == "[" || $0 == "]" })
    var values: [Double] = []
    for (i, t) in tokens.enumerated() {
        guard let v = Double(t) else {
            throw failure("\(field): '\(path)' item \(i + 1) ('\(t.prefix(40))') is not a number; expected a JSON "
                + "array of numbers or numbers separated by whitespace or commas", code: ExitStatus.dataError)
        }
        guard v.isFinite else {
            throw failure("\(field): '\(path)' item \(i + 1) ('\(t.prefix(40))') is not a finite number; every "
                + "value must be finite", code: ExitStatus.dataError)
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
