// OptimusKit re-exports the library modules, so `import OptimusKit` gives the whole toolkit.
@_exported import Objectives
@_exported import OptimusNumerics
@_exported import Optimizers
@_exported import LearnedOptimizers
@_exported import NeuralNetworks
@_exported import OptimusServer
@_exported import MetaTraining
@_exported import TaskFamilies
@_exported import TrainingRuns
@_exported import Evaluation
@_exported import HumanoidSimulation
@_exported import HumanMotion
@_exported import Plotting
@_exported import OptimusSupport
