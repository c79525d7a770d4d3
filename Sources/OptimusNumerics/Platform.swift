// The C library, for every module that imports OptimusNumerics: one place for the platform switch instead of a
// `#if canImport(Glibc)` block in every file that calls exp, log, getrusage or rename.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#endif
