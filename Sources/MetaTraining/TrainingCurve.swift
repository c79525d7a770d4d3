import Foundation

/// A small SVG line plot of a training run: the training meta-loss (thin, with a moving average) and the validation
/// meta-loss (markers) against outer step.
public enum TrainingCurve {
    public static func svg(_ metrics: [TrainingMetrics], title: String) -> String {
        let width = 720.0, height = 440.0, left = 70.0, right = 20.0, top = 40.0, bottom = 50.0
        let train = metrics.map { (Double($0.step), $0.loss) }
        let validation = metrics.compactMap { m in m.validationLoss.map { (Double(m.step), $0) } }
        let all = (train + validation).map(\.1).filter(\.isFinite)
        let xMax = max(1, Double(metrics.last?.step ?? 1))
        var yMin = all.min() ?? -1, yMax = all.max() ?? 0
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        let pad = 0.05 * (yMax - yMin)
        yMin -= pad; yMax += pad
        func x(_ v: Double) -> Double { left + (width - left - right) * v / xMax }
        func y(_ v: Double) -> Double { top + (height - top - bottom) * (yMax - v) / (yMax - yMin) }
        func path(_ points: [(Double, Double)]) -> String {
            points.filter { $0.1.isFinite }.enumerated()
                .map { "\($0.offset == 0 ? "M" : "L")\(String(format: "%.1f", x($0.element.0))),\(String(format: "%.1f", y($0.element.1)))" }
                .joined(separator: " ")
        }
        let window = max(1, train.count / 50)
        let smoothed = train.indices.map { i -> (Double, Double) in
            let lo = max(0, i - window + 1)
            let slice = train[lo...i].map(\.1)
            return (train[i].0, slice.reduce(0, +) / Double(slice.count))
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(title)</text>\n"
        for k in 0...5 {
            let v = yMin + (yMax - yMin) * Double(k) / 5
            s += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y(v))\" y2=\"\(y(v))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>\n"
            let xv = xMax * Double(k) / 5
            s += "<text x=\"\(x(xv))\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(Int(xv))</text>\n"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - right)\" height=\"\(height - top - bottom)\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">outer step</text>\n"
        s += "<text transform=\"translate(16,\((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">meta-loss (log10 of f − f* relative to the start, mean over steps)</text>\n"
        s += "<path d=\"\(path(train))\" fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1\"/>\n"
        s += "<path d=\"\(path(smoothed))\" fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\"/>\n"
        s += "<path d=\"\(path(validation))\" fill=\"none\" stroke=\"#d94801\" stroke-width=\"2\"/>\n"
        for (vx, vy) in validation where vy.isFinite {
            s += "<circle cx=\"\(x(vx))\" cy=\"\(y(vy))\" r=\"3\" fill=\"#d94801\"/>"
        }
        s += "\n<g transform=\"translate(\(width - right - 220),\(top + 10))\"><rect width=\"210\" height=\"52\" fill=\"white\" stroke=\"#999\"/>"
        s += "<line x1=\"8\" x2=\"30\" y1=\"16\" y2=\"16\" stroke=\"#08519c\" stroke-width=\"2\"/><text x=\"36\" y=\"20\">training (moving average)</text>"
        s += "<line x1=\"8\" x2=\"30\" y1=\"38\" y2=\"38\" stroke=\"#d94801\" stroke-width=\"2\"/><text x=\"36\" y=\"42\">validation (held-out tasks)</text></g>\n"
        return s + "</svg>\n"
    }
}

extension TrainingCurve {
    /// Validation meta-loss of several runs against CPU hours (the paper's Fig. 6 left), one line per run.
    public static func validationAgainstCPU(_ runs: [(name: String, metrics: [TrainingMetrics])], title: String) -> String {
        let width = 720.0, height = 440.0, left = 70.0, right = 20.0, top = 40.0, bottom = 50.0
        let series = runs.map { run in
            (run.name, run.metrics.compactMap { m in m.validationLoss.map { (m.cpuSeconds / 3600, $0) } }.filter { $0.1.isFinite })
        }
        let xs = series.flatMap { $0.1.map(\.0) }, ys = series.flatMap { $0.1.map(\.1) }
        let xMax = max(xs.max() ?? 1, 1e-6)
        var yMin = ys.min() ?? -1, yMax = ys.max() ?? 0
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        let pad = 0.05 * (yMax - yMin)
        yMin -= pad; yMax += pad
        func x(_ v: Double) -> Double { left + (width - left - right) * v / xMax }
        func y(_ v: Double) -> Double { top + (height - top - bottom) * (yMax - v) / (yMax - yMin) }
        let colors = ["#08519c", "#d94801", "#238b45", "#6a51a3", "#737373"]
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(title)</text>\n"
        for k in 0...5 {
            let v = yMin + (yMax - yMin) * Double(k) / 5
            s += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y(v))\" y2=\"\(y(v))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>\n"
            let xv = xMax * Double(k) / 5
            s += "<text x=\"\(x(xv))\" y=\"\(height - bottom + 18)\" text-anchor=\"middle\">\(String(format: "%.2g", xv))</text>\n"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - right)\" height=\"\(height - top - bottom)\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">CPU hours</text>\n"
        s += "<text transform=\"translate(16,\((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">validation meta-loss (held-out tasks; lower is better)</text>\n"
        for (i, (name, points)) in series.enumerated() {
            let c = colors[i % colors.count]
            let d = points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(String(format: "%.1f", x($0.element.0))),\(String(format: "%.1f", y($0.element.1)))" }.joined(separator: " ")
            s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\"/>\n"
            s += "<line x1=\"\(width - right - 200)\" x2=\"\(width - right - 178)\" y1=\"\(top + 20 + 20 * Double(i))\" y2=\"\(top + 20 + 20 * Double(i))\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(width - right - 172)\" y=\"\(top + 24 + 20 * Double(i))\">\(name)</text>\n"
        }
        return s + "</svg>\n"
    }

    /// Reads a run folder's metrics.
    public static func metrics(inRun folder: String) throws -> [TrainingMetrics] {
        try MetaTrainingRun.readMetrics(URL(fileURLWithPath: folder).appendingPathComponent("metrics.jsonl"))
    }
}
