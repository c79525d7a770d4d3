import Foundation

/// A file that cannot be read or written. ``description`` is "path: reason"; the modules that report files to the
/// user turn it into their own error (the evaluation's input and output errors, which the CLI exits 65 and 73 for).
public enum FileError: Error, Equatable, CustomStringConvertible, Sendable {
    /// An input file cannot be read or is not valid.
    case unreadable(path: String, reason: String)
    /// An output file cannot be created or written.
    case unwritable(path: String, reason: String)

    public var path: String {
        switch self {
        case .unreadable(let path, _), .unwritable(let path, _): path
        }
    }

    public var reason: String {
        switch self {
        case .unreadable(_, let reason), .unwritable(_, let reason): reason
        }
    }

    public var description: String { "\(path): \(reason)" }
}

/// Writes `data` to a temporary file in the same folder (`.<name>.tmp`), fsyncs it, and renames it over `url`: a
/// reader, or a run resumed after a crash, sees the old file or the new one, never a torn one. Foundation's
/// `.atomic` option does the same without the fsync; this is for files a resume depends on (a training state).
///
/// - Throws: ``FileError/unwritable(path:reason:)`` with the reason "cannot create <temporary>" or "cannot rename
///   <temporary> to <url>", and Foundation's error when the write or the fsync fails.
public func atomicWrite(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
    guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
        throw FileError.unwritable(path: url.path, reason: "cannot create \(temporary.path)")
    }
    let handle = try FileHandle(forWritingTo: temporary)
    try handle.write(contentsOf: data)
    try handle.synchronize()
    try handle.close()
    guard rename(temporary.path, url.path) == 0 else {
        throw FileError.unwritable(path: url.path, reason: "cannot rename \(temporary.path) to \(url.path)")
    }
}

/// A handle that writes at the end of `url`, creating the file (empty) if it does not exist.
public func openForAppending(_ url: URL) throws(FileError) -> FileHandle {
    if !FileManager.default.fileExists(atPath: url.path),
       !FileManager.default.createFile(atPath: url.path, contents: nil) {
        throw .unwritable(path: url.path, reason: "cannot create")
    }
    do {
        let h = try FileHandle(forWritingTo: url)
        try h.seekToEnd()
        return h
    } catch { throw .unwritable(path: url.path, reason: "cannot open for writing: \(error)") }
}

/// The decompressed contents of a gzip file (`gzip -dc`, present on every Debian system).
public func gunzip(_ url: URL) throws(FileError) -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-dc", url.path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { throw .unreadable(path: url.path, reason: "cannot run gzip: \(error.localizedDescription)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw .unreadable(path: url.path, reason: "gzip -dc failed (status \(p.terminationStatus))")
    }
    return data
}
