// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-optimus",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "OptimusKit", targets: ["OptimusKit"]),
        .library(name: "OptimusNumerics", targets: ["OptimusNumerics"]),
        .library(name: "Objectives", targets: ["Objectives"]),
        .library(name: "Optimizers", targets: ["Optimizers"]),
        .executable(name: "optimus", targets: ["optimus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "OptimusNumerics", dependencies: ["COpenBLAS"]),
        .target(name: "Objectives", dependencies: ["OptimusNumerics"]),
        .target(name: "Optimizers", dependencies: ["OptimusNumerics", "Objectives"]),
        .target(name: "OptimusKit", dependencies: ["OptimusNumerics", "Objectives", "Optimizers"]),
        .executableTarget(
            name: "optimus",
            dependencies: [
                "OptimusKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "OptimusNumericsTests", dependencies: ["OptimusNumerics"]),
        .testTarget(
            name: "ObjectivesTests",
            dependencies: ["Objectives", "OptimusNumerics"],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "OptimizersTests",
            dependencies: ["Optimizers", "Objectives", "OptimusNumerics"],
            resources: [.copy("Resources")]
        ),
        .testTarget(name: "CLITests", dependencies: ["optimus", "OptimusKit"]),
    ],
    swiftLanguageModes: [.v6]
)
