import Foundation
import LearnedOptimizers
import Optimizers

/// The `optimus serve` protocol, version 1: JSON Lines over a byte stream; one response line for every request line.
///
/// The full specification with an example exchange is `docs/protocol.md`. In short:
///
/// - `{"type":"start","protocol":1,"optimizer":"lbfgs","x0":[…],"options":{…}}` starts a run and is answered by an
///   evaluation request `{"type":"evaluate","id":1,"x":[…]}` (or a result, if the run ends at once).
/// - `{"type":"evaluation","id":1,"value":f,"gradient":[…]}` answers request `id`; the server replies with the next
///   request or with `{"type":"result",…}`. A `null` value means "not evaluable here".
/// - `{"type":"cancel"}` ends the current run (its result has termination `callback`).
/// - Anything malformed is answered with `{"type":"error","code":…,"field":…,"message":…}`; the state is unchanged,
///   so a corrected message can follow.
///
/// The run is a ``Optimizers/Minimization``, the same driver as `optimus minimize`, so both give identical iterates
/// for identical values. Numbers are written as the shortest decimal that round-trips to the same Double.
public final class ProtocolServer {
    /// The protocol version this server speaks.
    public static let protocolVersion = 1
    /// Longest accepted line, in bytes (a gradient of 10⁶ numbers fits).
    public static let maximumLineLength = 64 << 20
    /// Longest reply, in bytes: the server's own limit applies to what it writes too, so a client that accepts the
    /// server's lines never receives one it would refuse. A reply that would be longer becomes an error
    /// (`reply_too_long`).
    public static let maximumReplyLength = maximumLineLength

    private var run: Minimization<AnyOptimizer>?
    private var pendingID = 0
    private var nextID = 1
    private var recordTrace = false
    private var base64Vectors = false

    /// The largest memory a run may need (``Optimizers/MemoryBudget``); a start over it is refused.
    public let memoryBudget: MemoryBudget

    /// The longest reply this server writes (``maximumReplyLength`` unless a test asks for less).
    public let replyLimit: Int

    public init(memoryBudget: MemoryBudget = .default, replyLimit: Int = ProtocolServer.maximumReplyLength) {
        self.memoryBudget = memoryBudget
        self.replyLimit = replyLimit
    }

    /// Serves the protocol: request lines from the file descriptor `input`, read in bounded chunks (``LineReader``), and
    /// one response line each to `output`, until the input ends or `output` fails (the reader went away).
    public func serve(input: Int32, output: FileHandle) {
        var reader = LineReader(fileDescriptor: input, maximumLength: Self.maximumLineLength)
        while let item = reader.next() {
            let response: String
            switch item {
            case .line(let line): response = handle(line: line)
            case .tooLong(let bytes): response = lineTooLong(bytes: bytes)
            }
            do { try output.write(contentsOf: Data((response + "\n").utf8)) } catch { return }
        }
    }

    /// The answer to a request line of `bytes` bytes, over ``maximumLineLength`` (discarded unread): an error that
    /// changes nothing.
    public func lineTooLong(bytes: Int) -> String {
        error("line_too_long", field: nil, "a line has \(bytes) bytes; at most \(Self.maximumLineLength)")
    }

    /// Handles one request line and returns the response line (without a newline), at most ``maximumReplyLength``
    /// bytes. Never throws, never traps on input.
    public func handle(line: String) -> String {
        let reply = respond(to: line)
        // Results and evaluation requests are bounded where they are made (``next()``); this is the last guard. Error
        // replies are short by construction (fields are clipped) and are never replaced.
        guard reply.utf8.count > replyLimit, !reply.hasPrefix("{\"type\":\"error\"") else { return reply }
        return error("reply_too_long", field: nil, "the reply would be a \(reply.utf8.count)-byte line, more than the "
            + "limit of \(replyLimit) bytes")
    }

    private static let replyAdvice =
        "; send \"encoding\":\"base64\" in start (and no trace or iterates), or use a smaller dimension"

    private func respond(to line: String) -> String {
        if line.utf8.count > Self.maximumLineLength { return lineTooLong(bytes: line.utf8.count) }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(line)
        } catch {
            return self.error("invalid_json", field: nil, "not valid JSON: \(error.description)")
        }
        guard let message = parsed.object else {
            return error("invalid_message", field: nil, "a message must be a JSON object")
        }
        guard let type = message["type"]?.string else {
            return error("invalid_message", field: "type", "missing or not a string; one of start, evaluation, cancel")
        }
        switch type {
        case "start": return start(message)
        case "evaluation": return evaluation(message)
        case "cancel": return cancel(message)
        default:
            return error("invalid_message", field: "type", "'\(clip(type))' is not a message type; one of start, evaluation, cancel")
        }
    }

    /// Whether a run is in progress.
    public var isRunning: Bool { run != nil }

    // MARK: - Messages

    private func start(_ m: [String: JSONValue]) -> String {
        if let unknown = unknownField(m, allowed: ["type", "protocol", "optimizer", "x0", "options", "checkpoint", "preset",
                                                   "encoding"]) {
            return error("unknown_field", field: unknown, "start has no field '\(clip(unknown))'")
        }
        guard run == nil else {
            return error("out_of_order", field: "type", "a run is in progress; answer its request or send cancel first")
        }
        guard let version = m["protocol"]?.integer else {
            return error("invalid_value", field: "protocol", "missing or not an integer; this server speaks \(Self.protocolVersion)")
        }
        guard version == Self.protocolVersion else {
            return error("unsupported_protocol", field: "protocol", "version \(version); this server speaks \(Self.protocolVersion)")
        }
        guard let name = m["optimizer"]?.string else {
            return error("invalid_value", field: "optimizer", "missing or not a string")
        }
        var base64 = false
        if let e = m["encoding"], !e.isNull {
            switch e.string {
            case "json": base64 = false
            case "base64": base64 = true
            default: return error("invalid_value", field: "encoding", "must be \"json\" or \"base64\"")
            }
        }
        guard let x0 = vector(m["x0"]), !x0.isEmpty else {
            return error("invalid_value", field: "x0",
                         "must be a non-empty array of numbers (or base64 of little-endian float64)")
        }
        guard x0.allSatisfy(\.isFinite) else { return error("invalid_value", field: "x0", "every value must be finite") }
        guard let options = (m["options"] ?? .object([:])).object else {
            return error("invalid_value", field: "options", "must be an object")
        }
        let parsed: ParsedOptions
        switch parseOptions(options) {
        case .success(let p): parsed = p
        case .failure(let e): return error(e.code, field: "options.\(e.field)", e.message)
        }
        let optimizer: AnyOptimizer
        switch makeOptimizer(name: name, options: parsed, checkpoint: m["checkpoint"], preset: m["preset"]) {
        case .success(let o): optimizer = o
        case .failure(let e): return error(e.code, field: e.field, e.message)
        }
        // Before the run allocates its state: BFGS at d = 100,000 used to abort the server allocating 80 GB.
        do { try memoryBudget.check(optimizer, dimension: x0.count) } catch {
            return self.error("over_memory_budget", field: "x0", error.description)
        }
        do {
            run = try Minimization(optimizer: optimizer, start: x0, options: parsed.minimization)
        } catch {
            return self.error("invalid_value", field: "options", error.description)
        }
        recordTrace = parsed.minimization.recordTrace
        base64Vectors = base64
        return next()
    }

    private func evaluation(_ m: [String: JSONValue]) -> String {
        if let unknown = unknownField(m, allowed: ["type", "id", "value", "gradient"]) {
            return error("unknown_field", field: unknown, "evaluation has no field '\(clip(unknown))'")
        }
        guard var current = run else {
            return error("out_of_order", field: "type", "no run in progress; send start first")
        }
        guard let id = m["id"]?.integer else {
            return error("invalid_value", field: "id", "missing or not an integer; expected \(pendingID)")
        }
        guard id == pendingID else {
            return error("wrong_id", field: "id", "\(id) does not answer the pending request \(pendingID)")
        }
        let value: Double
        if m["value"] == .null {
            value = .nan
        } else if let v = m["value"]?.number {
            value = v
        } else {
            return error("invalid_value", field: "value", "must be a number, or null where f cannot be evaluated")
        }
        let n = current.state.point.count
        guard let gradient = vector(m["gradient"], allowNull: true) else {
            return error("invalid_value", field: "gradient",
                         "must be an array of \(n) numbers (or base64 of \(8 * n) bytes of little-endian float64)")
        }
        guard gradient.count == n else {
            return error("wrong_length", field: "gradient", "has \(gradient.count) values, expected \(n)")
        }
        run = nil  // one reference, so the state (BFGS: a d×d matrix) is updated in place rather than copied
        current.tell(value: value, gradient: gradient)
        run = current
        return next()
    }

    private func cancel(_ m: [String: JSONValue]) -> String {
        if let unknown = unknownField(m, allowed: ["type"]) {
            return error("unknown_field", field: unknown, "cancel has no field '\(clip(unknown))'")
        }
        guard var current = run else { return error("out_of_order", field: "type", "no run in progress") }
        run = nil
        current.stop()
        run = current
        return next()
    }

    /// The next request of the run, or its result (which ends the run). Non-finite points are not sent: they are
    /// told back as "not evaluable" at once, exactly as an in-process objective returning NaN would be.
    private func next() -> String {
        guard var current = run else { return error("internal", field: nil, "no run") }
        run = nil  // one reference while the run is told values (see evaluation)
        while let x = current.nextPoint {
            if x.allSatisfy(\.isFinite) {
                let encoded = base64Vectors ? "\"" + Base64Vector.encode(x) + "\"" : JSONNumbers.array(x)
                let request = "{\"type\":\"evaluate\",\"id\":\(nextID),\"x\":\(encoded)}"
                guard request.utf8.count <= replyLimit else {
                    // The client could not accept this line, so the run cannot go on: it ends here.
                    pendingID = 0
                    return error("reply_too_long", field: nil, "the next evaluation request would be a "
                        + "\(request.utf8.count)-byte line, more than the limit of \(replyLimit) bytes; the "
                        + "run has been ended" + Self.replyAdvice)
                }
                run = current
                pendingID = nextID
                nextID += 1
                return request
            }
            current.tell(value: .nan, gradient: [Double](repeating: .nan, count: x.count))
        }
        run = nil
        pendingID = 0
        let r = current.result
        let line = resultLine(r)
        guard line.utf8.count <= replyLimit else {
            return error("reply_too_long", field: nil, "the result (value \(JSONNumbers.number(r.value)), "
                + "\(r.iterations) iterations, termination \(r.termination.rawValue)) would be a \(line.utf8.count)-byte "
                + "line, more than the limit of \(replyLimit) bytes; the run has ended" + Self.replyAdvice)
        }
        return line
    }

    private func resultLine(_ r: MinimizationResult) -> String {
        var s = "{\"type\":\"result\",\"optimizer\":\(JSONNumbers.string(r.optimizer))"
        s += ",\"x\":\(JSONNumbers.array(r.x)),\"value\":\(JSONNumbers.number(r.value))"
        s += ",\"initialValue\":\(JSONNumbers.number(r.initialValue)),\"finalValue\":\(JSONNumbers.number(r.finalValue))"
        s += ",\"finalPoint\":\(JSONNumbers.array(r.finalPoint))"
        s += ",\"finalGradientNorm\":\(JSONNumbers.number(r.finalGradientNorm))"
        s += ",\"iterations\":\(r.iterations),\"functionEvaluations\":\(r.functionEvaluations)"
        s += ",\"gradientEvaluations\":\(r.gradientEvaluations)"
        s += ",\"termination\":\(JSONNumbers.string(r.termination.rawValue))"
        s += ",\"converged\":\(r.termination.isConvergence),\"seconds\":\(JSONNumbers.number(r.seconds))"
        if let reason = r.nullReason(valueField: "value") { s += ",\"nullReason\":\(JSONNumbers.string(reason))" }
        if recordTrace, let trace = r.trace {
            s += ",\"trace\":["
            s += trace.map { e in
                var t = "{\"iteration\":\(e.iteration),\"value\":\(JSONNumbers.number(e.value))"
                t += ",\"bestValue\":\(JSONNumbers.number(e.bestValue)),\"gradientNorm\":\(JSONNumbers.number(e.gradientNorm))"
                t += ",\"evaluations\":\(e.evaluations)"
                if let x = e.x { t += ",\"x\":\(JSONNumbers.array(x))" }
                return t + "}"
            }.joined(separator: ",")
            s += "]"
        }
        return s + "}"
    }

    private func error(_ code: String, field: String?, _ message: String) -> String {
        var s = "{\"type\":\"error\",\"code\":\(JSONNumbers.string(code))"
        if let field { s += ",\"field\":\(JSONNumbers.string(field))" }
        s += ",\"message\":\(JSONNumbers.string(message))"
        if run != nil { s += ",\"pending\":\(pendingID)" }
        return s + "}"
    }

    // MARK: - Parsing helpers

    private func unknownField(_ m: [String: JSONValue], allowed: Set<String>) -> String? {
        m.keys.sorted().first { !allowed.contains($0) }
    }

    private func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(60)) + "…" : s }
}

/// Reads a vector: a JSON array of numbers (nulls mapped to NaN when allowed), or a base64 string of little-endian
/// float64 values.
func vector(_ v: JSONValue?, allowNull: Bool = false) -> [Double]? {
    if let s = v?.string { return Base64Vector.decode(s) }
    return numbers(v, allowNull: allowNull)
}

/// Reads a JSON array of numbers (nulls mapped to NaN when allowed).
func numbers(_ v: JSONValue?, allowNull: Bool = false) -> [Double]? {
    guard let array = v?.array else { return nil }
    var out = [Double]()
    out.reserveCapacity(array.count)
    for e in array {
        switch e {
        case .number(let d): out.append(d)
        case .null where allowNull: out.append(.nan)
        default: return nil
        }
    }
    return out
}
