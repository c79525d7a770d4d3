import _Differentiation
import Foundation
import HumanoidSimulation

/// An SVG filmstrip of a reconstruction: evenly spaced frames, the reconstructed skeleton drawn over the ground truth
/// (and, faintly, the noisy kinematic observation), from the side (x forward, y up) and through the camera.
public enum Filmstrip {
    /// Bones as keypoint index pairs (``HumanoidSimulation/Humanoid/keypointNames``).
    public static let bones: [(Int, Int)] = [
        (0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
        (0, 11), (11, 12), (12, 13), (13, 14), (1, 15), (15, 16), (16, 17),
    ]

    public static func svg(truth: [[Vec3]], reconstruction: [[Vec3]], observation: [[Vec3]], times: [Double],
                           camera: PinholeCamera, title: String, frames count: Int = 8) -> String {
        let n = truth.count
        let picks = (0..<count).map { min(n - 1, Int((Double($0) * Double(n - 1) / Double(max(1, count - 1))).rounded())) }
        let panel = 150.0, gap = 10.0, top = 46.0, label = 18.0
        let width = Double(count) * (panel + gap) + gap, height = top + 2 * (panel + label + gap) + 40
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        s += "<text x=\"\(width / 2)\" y=\"38\" text-anchor=\"middle\" fill=\"#444\">grey: ground truth · orange: reconstruction · "
            + "blue dashed: noisy kinematic observation</text>\n"
        // Side view: a fixed scale (1.2 px per cm) centred on each frame's ground-truth pelvis; ground line at y = 0.
        let scale = panel / 2.0
        for (c, f) in picks.enumerated() {
            let x0 = gap + Double(c) * (panel + gap), y0 = top
            let cx = truth[f][0].x
            func side(_ p: Vec3) -> (Double, Double) { (x0 + panel / 2 + (p.x - cx) * scale, y0 + panel - 8 - p.y * scale) }
            s += "<rect x=\"\(f1(x0))\" y=\"\(f1(y0))\" width=\"\(panel)\" height=\"\(panel)\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
            s += "<line x1=\"\(f1(x0))\" x2=\"\(f1(x0 + panel))\" y1=\"\(f1(y0 + panel - 8))\" y2=\"\(f1(y0 + panel - 8))\" stroke=\"#8c6d46\" stroke-width=\"1.5\"/>"
            s += skeleton(observation[f].map(side), color: "#4a90d9", width: 1, dashed: true)
            s += skeleton(truth[f].map(side), color: "#999999", width: 3.5)
            s += skeleton(reconstruction[f].map(side), color: "#D55E00", width: 1.8)
            s += "<text x=\"\(f1(x0 + panel / 2))\" y=\"\(f1(y0 + panel + 13))\" text-anchor=\"middle\">side, t = \(String(format: "%.2f", times[f])) s</text>\n"
        }
        // Camera view: pixels scaled into the panel around the truth's projected pelvis.
        let cameraScale = panel / 600
        for (c, f) in picks.enumerated() {
            let x0 = gap + Double(c) * (panel + gap), y0 = top + panel + label + gap
            let centre = camera.project(truth[f][0]) ?? SIMD2(camera.width / 2, camera.height / 2)
            func view(_ p: Vec3) -> (Double, Double) {
                let u = camera.project(p) ?? centre
                return (x0 + panel / 2 + (u.x - centre.x) * cameraScale, y0 + panel / 2 + (u.y - centre.y) * cameraScale)
            }
            s += "<rect x=\"\(f1(x0))\" y=\"\(f1(y0))\" width=\"\(panel)\" height=\"\(panel)\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
            s += skeleton(observation[f].map(view), color: "#4a90d9", width: 1, dashed: true)
            s += skeleton(truth[f].map(view), color: "#999999", width: 3.5)
            s += skeleton(reconstruction[f].map(view), color: "#D55E00", width: 1.8)
            s += "<text x=\"\(f1(x0 + panel / 2))\" y=\"\(f1(y0 + panel + 13))\" text-anchor=\"middle\">camera view</text>\n"
        }
        return s + "</svg>\n"
    }

    static func skeleton(_ points: [(Double, Double)], color: String, width: Double, dashed: Bool = false) -> String {
        var d = ""
        for (a, b) in bones where a < points.count && b < points.count {
            d += "M\(f1(points[a].0)),\(f1(points[a].1)) L\(f1(points[b].0)),\(f1(points[b].1)) "
        }
        return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\" stroke-linecap=\"round\"\(dashed ? " stroke-dasharray=\"3,2\"" : "")/>\n"
    }

    static func f1(_ v: Double) -> String { String(format: "%.1f", v) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
