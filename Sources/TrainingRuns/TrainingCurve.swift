import Foundation
import Plotting

/// Plots of training runs, drawn with ``SVGPlot``.
public enum TrainingCurve {
    /// One run: the training meta-loss (thin, with a moving average) and the validation meta-loss (markers) against
    /// outer step.
    public static func svg(_ metrics: [TrainingMetrics], title: String) -> String {
        let train = metrics.map { (x: Double($0.step), y: $0.loss) }
        let validation = metrics.compactMap { m in m.validationLoss.map { (x: Double(m.step), y: $0) } }
        let window = max(1, train.count / 50)
        let smoothed = train.indices.map { i -> (x: Double, y: Double) in
            let slice = train[max(0, i - window + 1)...i].map(\.y)
            return (train[i].x, slice.reduce(0, +) / Double(slice.count))
        }
        var plot = SVGPlot(title: title, xLabel: "outer step",
                           yLabel: "meta-loss (log10 of f − f* relative to the start, mean over steps)")
        plot.width = 720
        plot.height = 440
        plot.series = [
            .init(name: "training", points: train, style: .line, color: "#9ecae1"),
            .init(name: "training (moving average)", points: smoothed, style: .line, color: "#08519c"),
            .init(name: "validation (held-out tasks)", points: validation, style: .lineAndMarkers, color: "#d94801"),
        ]
        return plot.svg()
    }

    /// Validation meta-loss of several runs against CPU hours (the paper's Fig. 6 left), one line per run.
    public static func validationAgainstCPU(_ runs: [(name: String, metrics: [TrainingMetrics])], title: String) -> String {
        var plot = SVGPlot(title: title, xLabel: "training CPU hours (validation excluded)", yLabel: "validation meta-loss (held-out tasks; lower is better)")
        plot.width = 720
        plot.height = 440
        for (i, run) in runs.enumerated() {
            let points = run.metrics.compactMap { m in m.validationLoss.map { (x: (m.trainingCPUSeconds ?? m.cpuSeconds) / 3600, y: $0) } }
                .filter { $0.y.isFinite }
            plot.series.append(.init(name: run.name, points: points, style: .line,
                                     color: SVGPlot.palette[i % SVGPlot.palette.count]))
        }
        return plot.svg()
    }

    /// Reads a run folder's metrics.
    public static func metrics(inRun folder: String) throws -> [TrainingMetrics] {
        try MetaTrainingRun.readMetrics(URL(fileURLWithPath: folder).appendingPathComponent("metrics.jsonl"))
    }
}
