import ArgumentParser
import Foundation
import OptimusKit

/// `optimus plot-training`: validation meta-loss of several runs against CPU time (SVG; PNG via rsvg-convert).
struct PlotTraining: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot-training", abstract: "Plot validation meta-loss of training runs against CPU hours.")

    @Argument(help: "Run folders (each with metrics.jsonl).")
    var runs: [String]

    @Option(help: "Output SVG file.")
    var output: String

    func run() throws {
        try prepareOutputFile(output)
        var series: [(name: String, metrics: [TrainingMetrics])] = []
        for r in runs {
            do { series.append((URL(fileURLWithPath: r).lastPathComponent, try TrainingCurve.metrics(inRun: r))) } catch {
                throw failure("runs: cannot read \(r)/metrics.jsonl", code: ExitStatus.dataError)
            }
        }
        let svg = TrainingCurve.validationAgainstCPU(series, title: "Meta-training: validation meta-loss against CPU time")
        do { try svg.write(toFile: output, atomically: true, encoding: .utf8) } catch {
            throw failure("output: cannot write '\(output)': \(writeFailureReason(error))", code: ExitStatus.cannotCreate)
        }
        if convertToPNG(URL(fileURLWithPath: output)) {
            log("wrote \(output) and \((output as NSString).deletingPathExtension).png")
        } else {
            log("wrote \(output)")
            if pngConverter == nil { log(pngConverterMissingNotice) }
        }
    }
}
