// The C library, for every module that imports OptimusNumerics: one place for the platform switch instead of a
// `#if canImport(Glibc)` block in every file that calls exp, log, getrusage or rename.
import CNetworkKernels
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#endif

/// The process's memory allocator.
public enum Allocator {
    /// Keeps freed memory in the process for reuse instead of handing it back to the system at once (glibc: blocks
    /// up to 32 MB come from the heap, and the heap is trimmed only when 1 GB at its top is free). A differentiated
    /// unroll frees tens of megabytes of records at its end and allocates them again at the next; with glibc's
    /// defaults each time costs page faults and zeroed pages, 20% of a paper-preset differentiated step at N = 100
    /// (`optimus-bench meta-gradient`). The cost is that the process's resident memory stays at its peak. The
    /// `optimus` command and the benchmarks call it at start; a program that links the libraries decides for itself.
    /// Does nothing on other C libraries.
    public static func retainFreedMemory() {
        optimus_retain_freed_memory()
    }
}
