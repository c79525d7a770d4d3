import Dispatch

/// Runs `body` over `0..<count` cut into contiguous chunks, on every core when `parallel` (and `count` is large
/// enough to pay for it), else in one call. Each index belongs to exactly one chunk and is handled as in a serial
/// loop, so element-wise work (and a sum over particles per index, in index order) gives the same bits either way.
func forEachChunk(_ count: Int, parallel: Bool, _ body: @Sendable (Range<Int>) -> Void) {
    let minimumChunk = 16_384
    guard parallel, count >= 2 * minimumChunk else {
        if count > 0 { body(0..<count) }
        return
    }
    let chunks = min(count / minimumChunk, 64)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        body((c * count / chunks)..<((c + 1) * count / chunks))
    }
}
