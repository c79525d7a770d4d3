import Foundation
import MetaTraining
import OptimusSupport

/// One line of `metrics.jsonl`.
public struct TrainingMetrics: Codable, Sendable, Equatable {
    public var step: Int
    /// The mean training meta-loss of the outer steps since the previous line (one step unless
    /// ``TrainingConfiguration/metricsEvery`` > 1).
    public var loss: Double
    /// The mean norm of the meta-gradient estimate over the same steps (before clipping).
    public var gradientNorm: Double
    /// Inner steps run over the same steps.
    public var innerSteps: Int
    public var seconds: Double
    public var cpuSeconds: Double
    /// CPU seconds spent on meta-training alone: ``cpuSeconds`` without the validation runs (which cost the same
    /// per run for every estimator but happen at different CPU spacings); nil in lines written before it existed.
    public var trainingCPUSeconds: Double?
    public var nonFiniteGradient: Bool
    public var validationLoss: Double?
    /// The estimator (``MetaGradientEstimatorKind``); nil in lines written before estimators were selectable (PES).
    public var estimator: String?
    /// Particles whose backward pass was non-finite (backprop, hybrid; omitted when 0).
    public var nonFiniteParticles: Int?
    /// The hybrid's pooled variances of its ES and reparameterization particle means and the weight w of the
    /// latter (``HybridCombination``); nil for the other estimators (and the variances with one particle).
    public var esVariance: Double?
    public var reparameterizationVariance: Double?
    public var reparameterizationWeight: Double?
}

extension MetaTrainingRun {
    // metrics.jsonl: read, rewritten whole on resume (steps after the checkpoint are redone), appended line by line.

    static func readMetrics(_ url: URL) throws -> [TrainingMetrics] {
        JSONLines.decodable(TrainingMetrics.self, in: try String(contentsOf: url, encoding: .utf8))
    }

    static func writeMetrics(_ metrics: [TrainingMetrics], to url: URL) throws {
        try atomicWrite(JSONLines.lines(metrics, encoder: JSONEncoder()), to: url)
    }

    static func appendHandle(_ url: URL) throws -> FileHandle {
        do { return try openForAppending(url) } catch { throw MetaTrainingError.state(error.description) }
    }
}
