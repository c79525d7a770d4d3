// swift-tools-version: 6.0
// Benchmarks for swift-optimus, kept out of the main package so its build and tests never pay for them.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which depends on where the repository was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "optimus-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: root.path)],
    targets: [
        .executableTarget(
            name: "optimus-bench",
            dependencies: [.product(name: "OptimusKit", package: root.lastPathComponent)],
            path: "Sources/optimus-bench"
        )
    ],
    swiftLanguageModes: [.v6]
)
