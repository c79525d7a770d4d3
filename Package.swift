// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-optimus",
    platforms: [.macOS(.v15)],
    // The public API: the umbrella and the modules a user builds on. The layers beneath them (OptimusNumerics,
    // OptimusSupport, NeuralNetworks, Plotting, OptimusServer, the C kernels) are internal targets, not products;
    // `import OptimusKit` re-exports them for code that needs a matrix, a seeded generator or a layer.
    products: [
        .library(name: "OptimusKit", targets: ["OptimusKit"]),
        .library(name: "Objectives", targets: ["Objectives"]),
        .library(name: "Optimizers", targets: ["Optimizers"]),
        .library(name: "LearnedOptimizers", targets: ["LearnedOptimizers"]),
        .library(name: "MetaTraining", targets: ["MetaTraining"]),
        .library(name: "TaskFamilies", targets: ["TaskFamilies"]),
        .library(name: "TrainingRuns", targets: ["TrainingRuns"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "HumanoidSimulation", targets: ["HumanoidSimulation"]),
        .library(name: "HumanMotion", targets: ["HumanMotion"]),
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
        // The network's single-precision kernels (same bits on every CPU); internal, not a product.
        .target(name: "CNetworkKernels"),
        // Files and JSON shared by the modules at the edges (atomic writes, JSON Lines, the record encoders, strict
        // decoding); internal, not a product.
        .target(name: "OptimusSupport"),
        .target(name: "OptimusNumerics", dependencies: ["COpenBLAS", "CNetworkKernels"]),
        .target(name: "Objectives", dependencies: ["OptimusNumerics"]),
        .target(name: "Optimizers", dependencies: ["OptimusNumerics", "Objectives"]),
        .target(name: "NeuralNetworks", dependencies: ["OptimusNumerics"]),
        .target(name: "LearnedOptimizers", dependencies: ["OptimusNumerics", "Objectives", "Optimizers", "NeuralNetworks"]),
        .target(name: "OptimusServer", dependencies: ["OptimusNumerics", "Optimizers", "LearnedOptimizers", "OptimusSupport"]),
        .target(name: "Plotting"),
        // The outer trainers and the inner-problem interface; the concrete task families sit above it.
        .target(name: "MetaTraining", dependencies: ["OptimusNumerics", "Objectives", "Optimizers", "LearnedOptimizers"]),
        .target(name: "TaskFamilies", dependencies: ["MetaTraining", "OptimusNumerics", "Objectives", "HumanMotion"]),
        // `optimus train`: a configuration names a task family and an estimator, a run builds both.
        .target(
            name: "TrainingRuns",
            dependencies: [
                "MetaTraining", "TaskFamilies", "OptimusNumerics", "Objectives", "Optimizers", "LearnedOptimizers",
                "Plotting", "OptimusSupport",
            ]
        ),
        .target(
            name: "Evaluation",
            dependencies: ["OptimusNumerics", "Objectives", "Optimizers", "LearnedOptimizers", "Plotting", "OptimusSupport"]
        ),
        // The differentiable humanoid simulator alone; HumanMotion is the reconstruction application built on it.
        .target(name: "HumanoidSimulation", dependencies: ["OptimusNumerics"]),
        .target(name: "HumanMotion", dependencies: ["HumanoidSimulation", "OptimusNumerics", "Objectives", "Optimizers"]),
        .target(
            name: "OptimusKit",
            dependencies: [
                "OptimusNumerics", "Objectives", "Optimizers", "NeuralNetworks", "LearnedOptimizers", "OptimusServer",
                "MetaTraining", "TaskFamilies", "TrainingRuns", "Evaluation", "HumanoidSimulation", "HumanMotion",
                "Plotting", "OptimusSupport",
            ]
        ),
        .executableTarget(
            name: "optimus",
            dependencies: [
                "OptimusKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "OptimusNumericsTests", dependencies: ["OptimusNumerics"]),
        .testTarget(name: "OptimusSupportTests", dependencies: ["OptimusSupport"]),
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
        .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "OptimusNumerics"]),
        .testTarget(
            name: "LearnedOptimizersTests",
            dependencies: ["LearnedOptimizers", "NeuralNetworks", "Optimizers", "Objectives", "OptimusNumerics"]
        ),
        .testTarget(name: "OptimusServerTests", dependencies: ["OptimusServer", "Optimizers", "Objectives"]),
        .testTarget(
            name: "MetaTrainingTests",
            dependencies: [
                "MetaTraining", "TaskFamilies", "TrainingRuns", "LearnedOptimizers", "Objectives", "Optimizers",
                "OptimusNumerics", "HumanMotion",
            ],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Objectives", "Optimizers", "OptimusNumerics", "OptimusSupport"]
        ),
        // Test data and helpers shared by the simulator's and the reconstruction's tests (not a product).
        .target(name: "HumanoidTestSupport", dependencies: ["HumanoidSimulation"], path: "Tests/HumanoidTestSupport"),
        .testTarget(
            name: "HumanoidSimulationTests",
            dependencies: ["HumanoidSimulation", "HumanoidTestSupport", "OptimusNumerics"]
        ),
        .testTarget(
            name: "HumanMotionTests",
            dependencies: ["HumanMotion", "HumanoidSimulation", "HumanoidTestSupport", "OptimusNumerics", "Optimizers"]
        ),
        .testTarget(name: "CLITests", dependencies: ["optimus", "OptimusKit"]),
    ],
    swiftLanguageModes: [.v6]
)
