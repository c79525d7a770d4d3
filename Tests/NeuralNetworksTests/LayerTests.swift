import Foundation
import Testing
@testable import NeuralNetworks
import OptimusNumerics

func randomParameters(_ layout: ParameterLayout, seed: UInt64) -> [Float] {
    var g = Xoshiro256StarStar(seed: seed)
    return (0..<layout.count).map { _ in Float(g.uniform(-0.5, 0.5)) }
}

/// Reference attention in Double with plain loops, straight from the definition.
func naiveAttention(_ x: [Float], rows n: Int, _ layer: MultiHeadSelfAttention, _ p: [Float]) -> [Double] {
    let d = layer.width, dh = d / layer.heads
    func w(_ t: TensorSpec, _ i: Int, _ j: Int) -> Double { Double(p[t.offset + i * t.shape[1] + j]) }
    func b(_ t: TensorSpec?, _ j: Int) -> Double { Double(p[t!.offset + j]) }
    var qkv = [[Double]](repeating: [Double](repeating: 0, count: 3 * d), count: n)
    for r in 0..<n { for j in 0..<(3 * d) {
        var s = b(layer.qkv.bias, j)
        for i in 0..<d { s += Double(x[r * d + i]) * w(layer.qkv.weight, i, j) }
        qkv[r][j] = s
    } }
    var attended = [[Double]](repeating: [Double](repeating: 0, count: d), count: n)
    for h in 0..<layer.heads {
        for r in 0..<n {
            var scores = (0..<n).map { c in
                (0..<dh).reduce(0.0) { $0 + qkv[r][h * dh + $1] * qkv[c][d + h * dh + $1] } / Double(dh).squareRoot()
            }
            let m = scores.max()!
            scores = scores.map { exp($0 - m) }
            let z = scores.reduce(0, +)
            for j in 0..<dh {
                attended[r][h * dh + j] = (0..<n).reduce(0.0) { $0 + scores[$1] / z * qkv[$1][2 * d + h * dh + j] }
            }
        }
    }
    var y = [Double](repeating: 0, count: n * d)
    for r in 0..<n { for j in 0..<d {
        var s = b(layer.output.bias, j)
        for i in 0..<d { s += attended[r][i] * w(layer.output.weight, i, j) }
        y[r * d + j] = s
    } }
    return y
}

@Suite struct LayerTests {
    @Test func fastExpIsAccurate() {
        var worst: Float = 0
        var x: Float = -80
        while x < 80 {
            let e = Float(exp(Double(x)))
            worst = max(worst, abs(Float.expApprox(x) - e) / e)
            x += 0.0137
        }
        #expect(worst < 4e-7, "largest relative error \(worst)")
        #expect(Float.expApprox(0) == 1)
        #expect(Float.expApprox(-1000) > 0 && Float.expApprox(1000).isFinite)
    }

    @Test func attentionMatchesTheDefinition() {
        var layout = ParameterLayout()
        let layer = MultiHeadSelfAttention("a", width: 8, heads: 2, layout: &layout)
        let p = randomParameters(layout, seed: 1)
        var g = Xoshiro256StarStar(seed: 2)
        let n = 5
        let x = (0..<(n * 8)).map { _ in Float(g.uniform(-1, 1)) }
        var y = [Float](repeating: 0, count: n * 8)
        p.withUnsafeBufferPointer { pb in
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    layer.forward(xb.baseAddress!, rows: n, parameters: pb.baseAddress!, into: yb.baseAddress!)
                }
            }
        }
        let reference = naiveAttention(x, rows: n, layer, p)
        for i in 0..<(n * 8) { #expect(abs(Double(y[i]) - reference[i]) < 1e-5, "element \(i)") }
    }

    @Test func layerNormHasZeroMeanUnitVariance() {
        var layout = ParameterLayout()
        let norm = LayerNorm("n", width: 16, layout: &layout)
        var p = [Float](repeating: 0, count: layout.count)
        for j in 0..<16 { p[norm.gain.offset + j] = 1 }
        var g = Xoshiro256StarStar(seed: 3)
        let x = (0..<48).map { _ in Float(g.uniform(-5, 20)) }
        var y = [Float](repeating: 0, count: 48)
        p.withUnsafeBufferPointer { pb in
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    norm.forward(xb.baseAddress!, rows: 3, parameters: pb.baseAddress!, into: yb.baseAddress!)
                }
            }
        }
        for r in 0..<3 {
            let row = y[(r * 16)..<((r + 1) * 16)].map(Double.init)
            #expect(abs(Statistics.mean(row)) < 1e-5)
            #expect(abs(row.map { $0 * $0 }.reduce(0, +) / 16 - 1) < 1e-3)
        }
    }

    @Test func encoderIsPermutationEquivariant() {
        var layout = ParameterLayout()
        let layer = TransformerEncoderLayer("e", width: 8, heads: 2, feedForwardWidth: 16, layout: &layout)
        let p = randomParameters(layout, seed: 4)
        var g = Xoshiro256StarStar(seed: 5)
        let n = 7
        let x = (0..<(n * 8)).map { _ in Float(g.uniform(-1, 1)) }
        let perm = Array((0..<n).reversed())
        var a = x
        var b = perm.flatMap { Array(x[($0 * 8)..<($0 * 8 + 8)]) }
        p.withUnsafeBufferPointer { pb in
            layer.forward(&a, rows: n, parameters: pb.baseAddress!)
            layer.forward(&b, rows: n, parameters: pb.baseAddress!)
        }
        for r in 0..<n { for j in 0..<8 { #expect(abs(a[perm[r] * 8 + j] - b[r * 8 + j]) < 1e-5) } }
    }

    @Test func layoutOffsetsAreContiguous() {
        var layout = ParameterLayout()
        let mlp = MLP("m", sizes: [3, 5, 2], layout: &layout)
        #expect(layout.count == 3 * 5 + 5 + 5 * 2 + 2)
        #expect(layout["m.1.weight"]?.offset == 20 && layout["m.1.weight"]?.shape == [5, 2])
        #expect(mlp.flopsPerRow == 2 * (15 + 10))
    }
}
