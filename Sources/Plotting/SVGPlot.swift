import Foundation

/// A small SVG plot writer: line, step and marker series on linear or log₁₀ axes, with a title, axis labels, a legend,
/// reference lines and optional named ticks. Used by every figure of the evaluation report.
public struct SVGPlot: Sendable {
    public enum Scale: Sendable { case linear, log10 }
    public enum Style: Sendable { case line, step, markers, lineAndMarkers }

    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var style: Style
        public var color: String
        public var dashed: Bool
        /// Points drawn as hollow markers at the bottom of the plot with this note in the legend (e.g. "not reached").
        public var floorPoints: [Double]
        public init(name: String, points: [(x: Double, y: Double)], style: Style = .line, color: String,
                    dashed: Bool = false, floorPoints: [Double] = []) {
            self.name = name
            self.points = points
            self.style = style
            self.color = color
            self.dashed = dashed
            self.floorPoints = floorPoints
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: Scale = .linear
    public var yScale: Scale = .linear
    public var series: [Series] = []
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Horizontal reference lines (y, label).
    public var horizontalLines: [(y: Double, label: String)] = []
    /// Extra tick labels on the x axis, written vertically under the axis (for problem names).
    public var namedXTicks: [(x: Double, label: String)] = []
    public var width = 760.0
    public var height = 480.0
    public var legendAtBottomRight = false

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Colour-blind-safe palette (Okabe–Ito).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// The plot as a complete SVG document.
    public func svg() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
            + "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body() + "</svg>\n"
    }

    /// Several plots side by side in one SVG document.
    public static func row(_ plots: [SVGPlot], title: String? = nil) -> String {
        let top = title == nil ? 0.0 : 30
        let w = plots.reduce(0) { $0 + $1.width }, h = (plots.map(\.height).max() ?? 0) + top
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" "
            + "viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
            + "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        if let title {
            s += "<text x=\"\(f(w / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(escape(title))</text>\n"
        }
        var x = 0.0
        for p in plots {
            s += "<g transform=\"translate(\(f(x)),\(f(top)))\">\n" + p.body() + "</g>\n"
            x += p.width
        }
        return s + "</svg>\n"
    }

    // MARK: Drawing

    private var margins: (left: Double, right: Double, top: Double, bottom: Double) {
        (78, 20, 42, namedXTicks.isEmpty ? 52 : 40 + 5.2 * Double(namedXTicks.map(\.label.count).max() ?? 0))
    }

    private func body() -> String {
        let m = margins
        let plotW = width - m.left - m.right, plotH = height - m.top - m.bottom
        let (xr, yr) = ranges()
        func tx(_ v: Double) -> Double { transform(v, xScale) }
        func px(_ v: Double) -> Double { m.left + plotW * (tx(v) - tx(xr.lowerBound)) / (tx(xr.upperBound) - tx(xr.lowerBound)) }
        func py(_ v: Double) -> Double {
            let t = transform(v, yScale), lo = transform(yr.lowerBound, yScale), hi = transform(yr.upperBound, yScale)
            return m.top + plotH * (hi - t) / (hi - lo)
        }
        var s = "<text x=\"\(f(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(Self.escape(title))</text>\n"
        // Grid and ticks.
        for t in ticks(yr, yScale) {
            let y = py(t)
            s += "<line x1=\"\(f(m.left))\" x2=\"\(f(width - m.right))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#e3e3e3\"/>"
            s += "<text x=\"\(f(m.left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label(t, yScale))</text>\n"
        }
        for t in ticks(xr, xScale) {
            let x = px(t)
            s += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(m.top))\" y2=\"\(f(height - m.bottom))\" stroke=\"#efefef\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(height - m.bottom + 16))\" text-anchor=\"middle\">\(label(t, xScale))</text>\n"
        }
        for (x, text) in namedXTicks where xr.contains(x) {
            let X = px(x), Y = height - m.bottom + 24
            s += "<text transform=\"translate(\(f(X + 3)),\(f(Y))) rotate(-90)\" text-anchor=\"end\" font-size=\"8\">\(Self.escape(text))</text>\n"
        }
        s += "<rect x=\"\(f(m.left))\" y=\"\(f(m.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        let xLabelY = namedXTicks.isEmpty ? height - 14 : height - 6
        s += "<text x=\"\(f(m.left + plotW / 2))\" y=\"\(f(xLabelY))\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18,\(f(m.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(yLabel))</text>\n"
        for (y, text) in horizontalLines where yr.contains(y) {
            s += "<line x1=\"\(f(m.left))\" x2=\"\(f(width - m.right))\" y1=\"\(f(py(y)))\" y2=\"\(f(py(y)))\" stroke=\"#222\" stroke-dasharray=\"2,3\"/>"
            s += "<text x=\"\(f(width - m.right - 4))\" y=\"\(f(py(y) - 4))\" text-anchor=\"end\" fill=\"#222\">\(Self.escape(text))</text>\n"
        }
        // Series, clipped to the plot area.
        // A stable id (FNV-1a of the title; Swift's hashValue is seeded per process), so a figure regenerates
        // byte for byte.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in title.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let clipID = "clip\(hash % 100_000)"
        s += "<clipPath id=\"\(clipID)\"><rect x=\"\(f(m.left))\" y=\"\(f(m.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath>\n"
        s += "<g clip-path=\"url(#\(clipID))\">\n"
        for (seriesIndex, series) in self.series.enumerated() {
            let pts = series.points.filter { usable($0.x, xScale) && usable($0.y, yScale) }
            let dash = series.dashed ? " stroke-dasharray=\"6,4\"" : ""
            if series.style != .markers, !pts.isEmpty {
                var d = ""
                for (i, p) in pts.enumerated() {
                    if i == 0 {
                        d += "M\(f(px(p.x))),\(f(py(p.y)))"
                    } else if series.style == .step {
                        d += " H\(f(px(p.x))) V\(f(py(p.y)))"
                    } else {
                        d += " L\(f(px(p.x))),\(f(py(p.y)))"
                    }
                }
                s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\"\(dash)/>\n"
            }
            if series.style == .markers || series.style == .lineAndMarkers {
                for p in pts {
                    s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.2\" fill=\"\(series.color)\"/>"
                }
                s += "\n"
            }
            for x in series.floorPoints where xr.contains(x) {
                s += "<circle cx=\"\(f(px(x)))\" cy=\"\(f(m.top + plotH - 5 - 7 * Double(seriesIndex)))\" r=\"3.2\" fill=\"white\" stroke=\"\(series.color)\" stroke-width=\"1.5\"/>"
            }
        }
        s += "</g>\n"
        // Legend.
        let entries = series.map { ($0.name, $0.color, $0.dashed, $0.style) }
        let hasFloor = series.contains { !$0.floorPoints.isEmpty }
        let longest = max(entries.map(\.0.count).max() ?? 0, hasFloor ? 24 : 0)
        let legendW = 56 + 7.6 * Double(longest), legendH = 8 + 18 * Double(entries.count + (hasFloor ? 1 : 0))
        let lx = width - m.right - legendW - 8
        let ly = legendAtBottomRight ? height - m.bottom - legendH - 8 : m.top + 8
        s += "<g transform=\"translate(\(f(lx)),\(f(ly)))\"><rect width=\"\(f(legendW))\" height=\"\(f(legendH))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>"
        for (i, e) in entries.enumerated() {
            let y = 16 + 18 * Double(i)
            if e.3 == .markers {
                s += "<circle cx=\"20\" cy=\"\(f(y - 4))\" r=\"3.5\" fill=\"\(e.1)\"/>"
            } else {
                s += "<line x1=\"8\" x2=\"34\" y1=\"\(f(y - 4))\" y2=\"\(f(y - 4))\" stroke=\"\(e.1)\" stroke-width=\"2.5\"\(e.2 ? " stroke-dasharray=\"6,4\"" : "")/>"
            }
            s += "<text x=\"40\" y=\"\(f(y))\">\(Self.escape(e.0))</text>"
        }
        if hasFloor {
            let y = 16 + 18 * Double(entries.count)
            s += "<circle cx=\"20\" cy=\"\(f(y - 4))\" r=\"3.5\" fill=\"white\" stroke=\"#333\" stroke-width=\"1.5\"/>"
            s += "<text x=\"40\" y=\"\(f(y))\">not reached within budget</text>"
        }
        s += "</g>\n"
        return s
    }

    private func usable(_ v: Double, _ scale: Scale) -> Bool { v.isFinite && (scale == .linear || v > 0) }

    private func transform(_ v: Double, _ scale: Scale) -> Double { scale == .log10 ? Foundation.log10(v) : v }

    private func ranges() -> (ClosedRange<Double>, ClosedRange<Double>) {
        let pts = series.flatMap(\.points)
        func span(_ values: [Double], _ scale: Scale, _ given: ClosedRange<Double>?) -> ClosedRange<Double> {
            if let given { return given }
            let v = values.filter { usable($0, scale) }
            guard var lo = v.min(), var hi = v.max() else { return scale == .log10 ? 1...10 : 0...1 }
            if scale == .log10 {
                lo = pow(10, floor(Foundation.log10(lo)))
                hi = pow(10, ceil(Foundation.log10(hi)))
                if hi <= lo { hi = lo * 10 }
            } else {
                if hi - lo < 1e-12 * max(1, abs(hi)) { lo -= 0.5; hi += 0.5 }
                let pad = 0.04 * (hi - lo)
                lo -= pad
                hi += pad
            }
            return lo...hi
        }
        return (span(pts.map(\.x), xScale, xRange), span(pts.map(\.y) + horizontalLines.map(\.y), yScale, yRange))
    }

    private func ticks(_ r: ClosedRange<Double>, _ scale: Scale) -> [Double] {
        if scale == .log10 {
            let lo = Int(ceil(Foundation.log10(r.lowerBound) - 1e-9)), hi = Int(floor(Foundation.log10(r.upperBound) + 1e-9))
            guard hi >= lo else { return [] }
            let step = max(1, (hi - lo + 7) / 8)
            var out = stride(from: lo, through: hi, by: step).map { pow(10, Double($0)) }
            if hi == lo {  // less than a decade: add 2 and 5
                out += [2, 5].map { $0 * pow(10, Double(lo)) }.filter { r.contains($0) }
            }
            return out.sorted()
        }
        let raw = (r.upperBound - r.lowerBound) / 6
        let magnitude = pow(10, floor(Foundation.log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = ceil(r.lowerBound / step) * step
        var out: [Double] = []
        while t <= r.upperBound + 1e-9 * step {
            out.append(abs(t) < 1e-12 * step ? 0 : t)
            t += step
        }
        return out
    }

    private func label(_ v: Double, _ scale: Scale) -> String {
        if scale == .log10 {
            let e = Foundation.log10(v)
            if abs(e - e.rounded()) < 1e-9 {
                let k = Int(e.rounded())
                return (0...3).contains(k) ? String(Int(pow(10, Double(k)))) : "10<tspan dy=\"-6\" font-size=\"9\">\(k)</tspan>"
            }
            return String(format: "%g", v)
        }
        return String(format: "%g", v)
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// The `rsvg-convert` executable that ``convertToPNG(_:width:)`` uses, or nil when it is not installed (then figures
/// are written as SVG only; `apt-get install librsvg2-bin` adds the PNGs).
public var pngConverter: String? {
    ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// The notice to print once when PNGs are skipped.
public let pngConverterMissingNotice = "PNG figures skipped: rsvg-convert is not installed (apt-get install librsvg2-bin); the SVGs are written"

/// Converts an SVG file to PNG with `rsvg-convert` (Debian `librsvg2-bin`) when it is installed; returns whether it
/// wrote the PNG.
@discardableResult
public func convertToPNG(_ svg: URL, width: Int? = nil) -> Bool {
    guard let tool = pngConverter else { return false }
    let png = svg.deletingPathExtension().appendingPathExtension("png")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = (width.map { ["-w", String($0)] } ?? []) + ["-o", png.path, svg.path]
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}
