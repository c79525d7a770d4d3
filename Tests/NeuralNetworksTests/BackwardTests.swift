import Foundation
import OptimusNumerics
import Testing
@testable import NeuralNetworks

/// Every layer's backward pass against central finite differences, in Double.
///
/// L = Σ_i c_i·y_i for fixed random c, so ∂L/∂y = c. Central differences with h = 1e−6 have truncation error
/// O(h²·|L'''|) ≈ 1e−12 and rounding error O(1e−16·|L|/h) ≈ 1e−10 here, so the tolerance 1e−6 (relative to the
/// largest gradient entry) leaves four orders of magnitude of margin while a wrong term (a missing transpose, a sign,
/// a dropped path) shows up at order 1.
@Suite struct BackwardTests {
    struct Case {
        var parameters: Int
        var inputs: Int
        var outputs: Int
        /// y for (θ, x).
        var forward: ([Double], [Double]) -> [Double]
        /// (dθ, dx) for (θ, x, dy).
        var backward: ([Double], [Double], [Double]) -> (theta: [Double], x: [Double])
    }

    func check(_ c: Case, seed: UInt64, label: String) {
        var g = Xoshiro256StarStar(seed: seed)
        let theta = (0..<c.parameters).map { _ in g.uniform(-0.6, 0.6) }
        let x = (0..<c.inputs).map { _ in g.uniform(-1.5, 1.5) }
        let weights = (0..<c.outputs).map { _ in g.uniform(-1, 1) }
        func loss(_ t: [Double], _ x: [Double]) -> Double { zip(c.forward(t, x), weights).reduce(0) { $0 + $1.0 * $1.1 } }
        let (dTheta, dx) = c.backward(theta, x, weights)
        let h = 1e-6
        func fd(_ v: [Double], _ i: Int, _ f: ([Double]) -> Double) -> Double {
            var p = v, m = v
            p[i] += h
            m[i] -= h
            return (f(p) - f(m)) / (2 * h)
        }
        let fdTheta = (0..<c.parameters).map { i in fd(theta, i) { loss($0, x) } }
        let fdX = (0..<c.inputs).map { i in fd(x, i) { loss(theta, $0) } }
        let scaleT = max(1, fdTheta.map(abs).max() ?? 0), scaleX = max(1, fdX.map(abs).max() ?? 0)
        let errT = zip(dTheta, fdTheta).map { abs($0 - $1) }.max() ?? 0
        let errX = zip(dx, fdX).map { abs($0 - $1) }.max() ?? 0
        #expect(errT / scaleT < 1e-6, "\(label): ∂L/∂θ off by \(errT) (scale \(scaleT))")
        #expect(errX / scaleX < 1e-6, "\(label): ∂L/∂x off by \(errX) (scale \(scaleX))")
        #expect(dTheta.contains { $0 != 0 } && dx.contains { $0 != 0 }, "\(label): zero gradient")
    }

    @Test func denseLayer() {
        var layout = ParameterLayout()
        let layer = Dense("d", inputs: 5, outputs: 3, layout: &layout)
        let rows = 4
        check(Case(parameters: layout.count, inputs: rows * 5, outputs: rows * 3, forward: { t, x in
            t.withUnsafeBufferPointer { layer.forward(x, rows: rows, parameters: $0.baseAddress!) }
        }, backward: { t, x, dy in
            var gt = [Double](repeating: 0, count: t.count), dx = [Double](repeating: 0, count: x.count)
            t.withUnsafeBufferPointer { tb in gt.withUnsafeMutableBufferPointer { gb in dx.withUnsafeMutableBufferPointer { db in
                layer.backward(x, rows: rows, dy: dy, parameters: tb.baseAddress!, gradient: gb.baseAddress!,
                               dx: db.baseAddress!)
            } } }
            return (gt, dx)
        }), seed: 1, label: "Dense")
    }

    @Test func layerNorm() {
        var layout = ParameterLayout()
        let layer = LayerNorm("n", width: 6, layout: &layout)
        let rows = 3
        check(Case(parameters: layout.count, inputs: rows * 6, outputs: rows * 6, forward: { t, x in
            var y = [Double](repeating: 0, count: x.count)
            t.withUnsafeBufferPointer { tb in y.withUnsafeMutableBufferPointer {
                layer.forward(x, rows: rows, parameters: tb.baseAddress!, into: $0.baseAddress!)
            } }
            return y
        }, backward: { t, x, dy in
            var gt = [Double](repeating: 0, count: t.count), dx = [Double](repeating: 0, count: x.count)
            t.withUnsafeBufferPointer { tb in gt.withUnsafeMutableBufferPointer { gb in dx.withUnsafeMutableBufferPointer { db in
                layer.backward(x, rows: rows, dy: dy, parameters: tb.baseAddress!, gradient: gb.baseAddress!,
                               dx: db.baseAddress!)
            } } }
            return (gt, dx)
        }), seed: 2, label: "LayerNorm")
    }

    @Test(arguments: [Activation.relu, .gelu])
    func multilayerPerceptron(_ activation: Activation) {
        var layout = ParameterLayout()
        let mlp = MLP("m", sizes: [4, 7, 5, 2], activation: activation, layout: &layout)
        let rows = 5
        check(Case(parameters: layout.count, inputs: rows * 4, outputs: rows * 2, forward: { t, x in
            t.withUnsafeBufferPointer { mlp.forward(x, rows: rows, parameters: $0.baseAddress!) }
        }, backward: { t, x, dy in
            var gt = [Double](repeating: 0, count: t.count)
            var record = MLP.Record<Double>()
            let dx = t.withUnsafeBufferPointer { tb in gt.withUnsafeMutableBufferPointer { gb in
                _ = mlp.forward(x, rows: rows, parameters: tb.baseAddress!, record: &record)
                return mlp.backward(record, rows: rows, dy: dy, parameters: tb.baseAddress!, gradient: gb.baseAddress!)
            } }
            return (gt, dx)
        }), seed: 3, label: "MLP \(activation)")
    }

    @Test func multiHeadSelfAttention() {
        var layout = ParameterLayout()
        let layer = MultiHeadSelfAttention("a", width: 6, heads: 2, layout: &layout)
        let rows = 5
        check(Case(parameters: layout.count, inputs: rows * 6, outputs: rows * 6, forward: { t, x in
            var y = [Double](repeating: 0, count: x.count)
            t.withUnsafeBufferPointer { tb in x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer {
                layer.forward(xb.baseAddress!, rows: rows, parameters: tb.baseAddress!, into: $0.baseAddress!)
            } } }
            return y
        }, backward: { t, x, dy in
            var gt = [Double](repeating: 0, count: t.count)
            var record = MultiHeadSelfAttention.Record<Double>()
            let dx = t.withUnsafeBufferPointer { tb in gt.withUnsafeMutableBufferPointer { gb in
                _ = layer.forward(x, rows: rows, parameters: tb.baseAddress!, record: &record)
                return layer.backward(record, rows: rows, dy: dy, parameters: tb.baseAddress!, gradient: gb.baseAddress!)
            } }
            return (gt, dx)
        }), seed: 4, label: "MHSA")
    }

    @Test func encoderLayer() {
        var layout = ParameterLayout()
        let layer = TransformerEncoderLayer("e", width: 4, heads: 2, feedForwardWidth: 8, layout: &layout)
        let rows = 4
        check(Case(parameters: layout.count, inputs: rows * 4, outputs: rows * 4, forward: { t, x in
            var y = x
            t.withUnsafeBufferPointer { layer.forward(&y, rows: rows, parameters: $0.baseAddress!) }
            return y
        }, backward: { t, x, dy in
            var gt = [Double](repeating: 0, count: t.count)
            var record = TransformerEncoderLayer.Record<Double>()
            let dx = t.withUnsafeBufferPointer { tb in gt.withUnsafeMutableBufferPointer { gb in
                var y = x
                layer.forward(&y, rows: rows, parameters: tb.baseAddress!, record: &record)
                return layer.backward(record, rows: rows, dy: dy, parameters: tb.baseAddress!, gradient: gb.baseAddress!)
            } }
            return (gt, dx)
        }), seed: 5, label: "Encoder")
    }

    /// The recording forward passes compute exactly what the plain ones compute (Float, bit for bit).
    @Test func recordingForwardIsTheForward() {
        var layout = ParameterLayout()
        let layer = TransformerEncoderLayer("e", width: 8, heads: 2, feedForwardWidth: 16, layout: &layout)
        var g = Xoshiro256StarStar(seed: 9)
        let theta = (0..<layout.count).map { _ in Float(g.uniform(-0.5, 0.5)) }
        let x = (0..<(7 * 8)).map { _ in Float(g.uniform(-1, 1)) }
        var plain = x, recorded = x
        var record = TransformerEncoderLayer.Record<Float>()
        theta.withUnsafeBufferPointer {
            layer.forward(&plain, rows: 7, parameters: $0.baseAddress!)
            layer.forward(&recorded, rows: 7, parameters: $0.baseAddress!, record: &record)
        }
        #expect(plain.map(\.bitPattern) == recorded.map(\.bitPattern))
    }
}
