// swift-tools-version: 6.0
// Benchmarks for swift-optimus, kept out of the main package so its build and tests never pay for them.
import PackageDescription

let package = Package(
    name: "optimus-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "optimus-bench",
            dependencies: [.product(name: "OptimusKit", package: "swift-optimus")],
            path: "Sources/optimus-bench"
        )
    ],
    swiftLanguageModes: [.v6]
)
