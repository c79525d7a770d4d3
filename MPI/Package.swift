// swift-tools-version: 6.0
// optimus-mpi: the meta-trainer across processes and machines with MPI. A separate package, so the main package's
// build and tests never need MPI (Debian: apt-get install libopenmpi-dev openmpi-bin).
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which depends on where the repository was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "optimus-mpi",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: root.path)],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .executableTarget(
            name: "optimus-mpi",
            dependencies: ["CMPI", .product(name: "OptimusKit", package: root.lastPathComponent)],
            path: "Sources/optimus-mpi"
        ),
    ],
    swiftLanguageModes: [.v6]
)
