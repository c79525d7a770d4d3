import OptimusNumerics


/// Reads `\n`-terminated lines from a file descriptor in bounded chunks, never holding more than `maximumLength`
/// bytes of one line: a longer line is discarded up to its newline as it streams past and reported once, as
/// ``Item/tooLong(bytes:)``.
///
/// `readLine()` buffers a whole line before anyone can check its length: a 300 MB line without a newline took
/// `optimus serve` to 623 MB of memory before its 64 MiB check ran. With this reader the memory of an over-long line
/// is one chunk plus at most `maximumLength` bytes, whatever the line's length, and the server answers it with
/// exactly one error and goes on with the next line.
public struct LineReader {
    /// What the next line is.
    public enum Item: Equatable, Sendable {
        /// A line without its terminator (`\n`, or `\r\n`), decoded as UTF-8 (invalid bytes become U+FFFD).
        case line(String)
        /// A line longer than the maximum, discarded; `bytes` is its length without the terminator.
        case tooLong(bytes: Int)
    }

    public let fileDescriptor: Int32
    public let maximumLength: Int
    private var chunk: [UInt8]
    private var start = 0, end = 0
    private var current: [UInt8] = []
    private var discarding = false
    private var discarded = 0
    private var atEnd = false

    /// A reader of `fileDescriptor` (not closed by the reader) that accepts lines of at most `maximumLength` bytes and
    /// reads `chunkSize` bytes at a time.
    public init(fileDescriptor: Int32, maximumLength: Int, chunkSize: Int = 1 << 16) {
        precondition(maximumLength >= 0 && chunkSize > 0, "LineReader: negative limit or empty chunk")
        self.fileDescriptor = fileDescriptor
        self.maximumLength = maximumLength
        chunk = [UInt8](repeating: 0, count: chunkSize)
    }

    /// The next line, or nil at the end of input (a last line without a terminator is still returned).
    public mutating func next() -> Item? {
        while true {
            if start == end {
                if atEnd { return finishAtEnd() }
                let n = chunk.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    atEnd = true
                    continue
                }
                start = 0
                end = n
            }
            let newline: Int? = chunk.withUnsafeBytes { raw in
                guard let p = memchr(raw.baseAddress! + start, 0x0A, end - start) else { return nil }
                return raw.baseAddress!.distance(to: UnsafeRawPointer(p))
            }
            let pieceEnd = newline ?? end
            let pieceLength = pieceEnd - start
            if discarding {
                discarded += pieceLength
            } else if current.count + pieceLength > maximumLength {
                // Too long: forget what was kept (its memory too) and count the rest as it streams past.
                discarding = true
                discarded = current.count + pieceLength
                current = []
            } else {
                current.append(contentsOf: chunk[start..<pieceEnd])
            }
            start = newline.map { $0 + 1 } ?? end
            if newline != nil { return finishLine() }
        }
    }

    private mutating func finishLine() -> Item {
        if discarding {
            let n = discarded
            discarding = false
            discarded = 0
            return .tooLong(bytes: n)
        }
        if current.last == 0x0D { current.removeLast() }
        let line = String(decoding: current, as: UTF8.self)
        current.removeAll(keepingCapacity: current.count <= 1 << 20)
        return .line(line)
    }

    private mutating func finishAtEnd() -> Item? {
        guard discarding || !current.isEmpty else { return nil }
        return finishLine()
    }
}
