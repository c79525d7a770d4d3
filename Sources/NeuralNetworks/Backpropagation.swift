import OptimusNumerics

// MARK: - Backward passes
//
// Conventions: `gradient` is the flat ∂L/∂θ buffer (same layout as the parameters), always accumulated into (+=);
// input adjoints are written (=) unless the function says it accumulates. Records hold what the backward pass needs
// from the forward pass; they are filled by the `forward(…, record:)` variants, which compute exactly what the plain
// forward passes compute.

extension Dense {
    /// Given dy = ∂L/∂y for y = x·W + b: ∂L/∂W += xᵀ·dy, ∂L/∂b += Σ_rows dy, and dx = dy·Wᵀ (written into `dx`, or
    /// added to it when `accumulate`). FLOPs: 4·rows·inputs·outputs.
    @inlinable
    public func backward<T: NetworkScalar>(
        _ x: UnsafePointer<T>, ldx: Int? = nil, rows: Int, dy: UnsafePointer<T>, ldy: Int? = nil,
        parameters: UnsafePointer<T>, gradient: UnsafeMutablePointer<T>,
        dx: UnsafeMutablePointer<T>?, lddx: Int? = nil, accumulate: Bool = false
    ) {
        let ldyValue = ldy ?? outputs
        T._gemm(true, false, inputs, outputs, rows, 1, x, ldx ?? inputs, dy, ldyValue, 1, gradient + weight.offset,
                outputs)
        if let b = bias {
            let gb = gradient + b.offset
            for r in 0..<rows {
                let row = dy + r * ldyValue
                for j in 0..<outputs { gb[j] += row[j] }
            }
        }
        if let dx {
            T._gemm(false, true, rows, inputs, outputs, 1, dy, ldyValue, parameters + weight.offset, outputs,
                    accumulate ? 1 : 0, dx, lddx ?? inputs)
        }
    }
}

extension LayerNorm {
    /// Given dy for y = x̂·γ + β with x̂ = (x − μ)/√(σ² + ε) per row: ∂L/∂γ += Σ dy·x̂, ∂L/∂β += Σ dy, and
    /// dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))/√(σ² + ε) with dx̂ = dy·γ (added to `dx` when `accumulate`). μ and σ² are
    /// recomputed from x, in the forward pass's order.
    @inlinable
    public func backward<T: NetworkScalar>(
        _ x: UnsafePointer<T>, rows: Int, dy: UnsafePointer<T>, parameters: UnsafePointer<T>,
        gradient: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>, accumulate: Bool = false
    ) {
        T.networkLayerNormBackward(x, rows: rows, width: width, dy: dy, gain: parameters + gain.offset,
                                   epsilon: T(epsilon), gainGradient: gradient + gain.offset,
                                   biasGradient: gradient + bias.offset, dx: dx, accumulate: accumulate)
    }
}

/// ``LayerNorm``'s backward pass with sequential sums (the `Double` path).
@inlinable
public func layerNormRowsBackward<T: NetworkScalar>(
    _ x: UnsafePointer<T>, rows: Int, width: Int, dy: UnsafePointer<T>, gain g: UnsafePointer<T>, epsilon: T,
    gainGradient gg: UnsafeMutablePointer<T>, biasGradient gb: UnsafeMutablePointer<T>, dx: UnsafeMutablePointer<T>,
    accumulate: Bool
) {
    let w = T(width)
    var xhat = [T](repeating: 0, count: width)
    var dxhat = [T](repeating: 0, count: width)
    for r in 0..<rows {
        let row = x + r * width, d = dy + r * width, out = dx + r * width
        let (mean, inv) = layerNormStatistics(row, width: width, epsilon: epsilon)
        var meanD: T = 0, meanDX: T = 0
        for j in 0..<width {
            xhat[j] = (row[j] - mean) * inv
            gg[j] += d[j] * xhat[j]
            gb[j] += d[j]
            dxhat[j] = d[j] * g[j]
            meanD += dxhat[j]
            meanDX += dxhat[j] * xhat[j]
        }
        meanD /= w
        meanDX /= w
        for j in 0..<width {
            let v = (dxhat[j] - meanD - xhat[j] * meanDX) * inv
            out[j] = accumulate ? out[j] + v : v
        }
    }
}

extension MLP {
    /// The activations of one forward pass.
    public struct Record<T: NetworkScalar>: Sendable {
        /// The input of each layer (layer 0: the MLP's input; layer l > 0: the activated output of layer l − 1).
        public var inputs: [[T]] = []
        /// The output of each hidden layer before its activation.
        public var preActivations: [[T]] = []
        public init() {}
    }

    /// The forward pass, keeping what ``backward(_:rows:dy:parameters:gradient:)`` needs.
    @inlinable
    public func forward<T: NetworkScalar>(
        _ x: [T], rows: Int, parameters: UnsafePointer<T>, record: inout Record<T>
    ) -> [T] {
        record.inputs = []
        record.preActivations = []
        var current = x
        for (l, layer) in layers.enumerated() {
            record.inputs.append(current)
            var next = uninitializedBuffer(T.self, count: rows * layer.outputs)
            current.withUnsafeBufferPointer { c in
                next.withUnsafeMutableBufferPointer { n in
                    layer.forward(c.baseAddress!, rows: rows, parameters: parameters, into: n.baseAddress!)
                }
            }
            if l < layers.count - 1 {
                record.preActivations.append(next)
                next.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
            }
            current = next
        }
        return current
    }

    /// Returns dx for dy = ∂L/∂(output); accumulates ∂L/∂θ.
    @inlinable
    public func backward<T: NetworkScalar>(
        _ record: Record<T>, rows: Int, dy: [T], parameters: UnsafePointer<T>, gradient: UnsafeMutablePointer<T>
    ) -> [T] {
        var delta = dy
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            var dx = uninitializedBuffer(T.self, count: rows * layer.inputs)
            record.inputs[l].withUnsafeBufferPointer { x in
                delta.withUnsafeBufferPointer { d in
                    dx.withUnsafeMutableBufferPointer { o in
                        layer.backward(x.baseAddress!, rows: rows, dy: d.baseAddress!, parameters: parameters,
                                       gradient: gradient, dx: o.baseAddress!)
                    }
                }
            }
            if l > 0 {
                record.preActivations[l - 1].withUnsafeBufferPointer { pre in
                    dx.withUnsafeMutableBufferPointer { activation.backward(pre.baseAddress!, $0.baseAddress!, count: $0.count) }
                }
            }
            delta = dx
        }
        return delta
    }
}

extension MultiHeadSelfAttention {
    /// The activations of one forward pass: Q, K, V, every head's attention probabilities P_h and the concatenated
    /// head outputs.
    public struct Record<T: NetworkScalar>: Sendable {
        public var input: [T] = []
        /// [n × 3d]: Q | K | V.
        public var projected: [T] = []
        /// [heads × n × n], row-stochastic.
        public var probabilities: [T] = []
        /// [n × d].
        public var attended: [T] = []
        public init() {}
    }

    /// The forward pass (the same operations as ``forward(_:rows:parameters:into:)``), keeping its activations.
    @inlinable
    public func forward<T: NetworkScalar>(
        _ x: [T], rows n: Int, parameters: UnsafePointer<T>, record r: inout Record<T>
    ) -> [T] {
        let d = width, dh = width / heads
        r.input = x
        r.projected = uninitializedBuffer(T.self, count: n * 3 * d)
        r.probabilities = uninitializedBuffer(T.self, count: heads * n * n)
        r.attended = uninitializedBuffer(T.self, count: n * d)
        var y = uninitializedBuffer(T.self, count: n * d)
        let scale = 1 / T(dh).squareRoot()
        x.withUnsafeBufferPointer { xb in
            r.projected.withUnsafeMutableBufferPointer { pb in
                let projected = pb.baseAddress!
                qkv.forward(xb.baseAddress!, rows: n, parameters: parameters, into: projected)
                r.probabilities.withUnsafeMutableBufferPointer { sb in
                    r.attended.withUnsafeMutableBufferPointer { ab in
                        for h in 0..<heads {
                            let q = projected + h * dh, k = projected + d + h * dh, v = projected + 2 * d + h * dh
                            let scores = sb.baseAddress! + h * n * n
                            T._gemm(false, true, n, n, dh, scale, q, 3 * d, k, 3 * d, 0, scores, n)
                            T.networkSoftmaxRows(scores, rows: n, columns: n)
                            T._gemm(false, false, n, dh, n, 1, scores, n, v, 3 * d, 0, ab.baseAddress! + h * dh, d)
                        }
                        y.withUnsafeMutableBufferPointer {
                            output.forward(ab.baseAddress!, rows: n, parameters: parameters, into: $0.baseAddress!)
                        }
                    }
                }
            }
        }
        return y
    }

    /// Returns dx for dy; accumulates ∂L/∂θ. Per head, with dO_h the head's slice of dy·W_oᵀ:
    /// dP = dO_h·V_hᵀ, dV_h = Pᵀ·dO_h, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ_h = dS·K_h/√d_h, dK_h = dSᵀ·Q_h/√d_h.
    @inlinable
    public func backward<T: NetworkScalar>(
        _ r: Record<T>, rows n: Int, dy: [T], parameters: UnsafePointer<T>, gradient: UnsafeMutablePointer<T>
    ) -> [T] {
        let d = width, dh = width / heads
        let scale = 1 / T(dh).squareRoot()
        var dAttended = uninitializedBuffer(T.self, count: n * d)
        var dProjected = uninitializedBuffer(T.self, count: n * 3 * d)
        var dScores = uninitializedBuffer(T.self, count: n * n)
        var dx = uninitializedBuffer(T.self, count: n * d)
        r.attended.withUnsafeBufferPointer { ab in
            dy.withUnsafeBufferPointer { db in
                dAttended.withUnsafeMutableBufferPointer {
                    output.backward(ab.baseAddress!, rows: n, dy: db.baseAddress!, parameters: parameters,
                                    gradient: gradient, dx: $0.baseAddress!)
                }
            }
        }
        r.projected.withUnsafeBufferPointer { pb in
            let projected = pb.baseAddress!
            r.probabilities.withUnsafeBufferPointer { probs in
                dAttended.withUnsafeBufferPointer { dab in
                    dProjected.withUnsafeMutableBufferPointer { dpb in
                        dScores.withUnsafeMutableBufferPointer { dsb in
                            let dS = dsb.baseAddress!
                            for h in 0..<heads {
                                let p = probs.baseAddress! + h * n * n
                                let q = projected + h * dh, k = projected + d + h * dh, v = projected + 2 * d + h * dh
                                let dO = dab.baseAddress! + h * dh
                                let dQ = dpb.baseAddress! + h * dh, dK = dpb.baseAddress! + d + h * dh
                                let dV = dpb.baseAddress! + 2 * d + h * dh
                                // dP = dO·Vᵀ  [n × n]
                                T._gemm(false, true, n, n, dh, 1, dO, d, v, 3 * d, 0, dS, n)
                                // dV = Pᵀ·dO  [n × dh]
                                T._gemm(true, false, n, dh, n, 1, p, n, dO, d, 0, dV, 3 * d)
                                // dS = P ⊙ (dP − rowsum(dP ⊙ P))
                                T.networkSoftmaxBackward(p, dS, rows: n, columns: n)
                                // dQ = dS·K·scale, dK = dSᵀ·Q·scale
                                T._gemm(false, false, n, dh, n, scale, dS, n, k, 3 * d, 0, dQ, 3 * d)
                                T._gemm(true, false, n, dh, n, scale, dS, n, q, 3 * d, 0, dK, 3 * d)
                            }
                        }
                    }
                }
            }
        }
        r.input.withUnsafeBufferPointer { xb in
            dProjected.withUnsafeBufferPointer { dpb in
                dx.withUnsafeMutableBufferPointer {
                    qkv.backward(xb.baseAddress!, rows: n, dy: dpb.baseAddress!, parameters: parameters,
                                 gradient: gradient, dx: $0.baseAddress!)
                }
            }
        }
        return dx
    }
}

extension TransformerEncoderLayer {
    /// The activations of one forward pass.
    public struct Record<T: NetworkScalar>: Sendable {
        public var input: [T] = []
        public var normed1: [T] = []
        public var attention = MultiHeadSelfAttention.Record<T>()
        /// h = x + MHSA(LN₁(x)).
        public var middle: [T] = []
        public var normed2: [T] = []
        public var feedForward = MLP.Record<T>()
        public init() {}
    }

    /// x ← layer(x), keeping the activations (the same operations as ``forward(_:rows:parameters:)``).
    @inlinable
    public func forward<T: NetworkScalar>(
        _ x: inout [T], rows n: Int, parameters: UnsafePointer<T>, record r: inout Record<T>
    ) {
        r.input = x
        r.normed1 = uninitializedBuffer(T.self, count: n * width)
        x.withUnsafeBufferPointer { xb in
            r.normed1.withUnsafeMutableBufferPointer {
                norm1.forward(xb.baseAddress!, rows: n, parameters: parameters, into: $0.baseAddress!)
            }
        }
        let attended = attention.forward(r.normed1, rows: n, parameters: parameters, record: &r.attention)
        for i in 0..<x.count { x[i] += attended[i] }
        r.middle = x
        r.normed2 = uninitializedBuffer(T.self, count: n * width)
        x.withUnsafeBufferPointer { xb in
            r.normed2.withUnsafeMutableBufferPointer {
                norm2.forward(xb.baseAddress!, rows: n, parameters: parameters, into: $0.baseAddress!)
            }
        }
        let ff = feedForward.forward(r.normed2, rows: n, parameters: parameters, record: &r.feedForward)
        for i in 0..<x.count { x[i] += ff[i] }
    }

    /// Returns dx for dy = ∂L/∂(layer output); accumulates ∂L/∂θ.
    @inlinable
    public func backward<T: NetworkScalar>(
        _ r: Record<T>, rows n: Int, dy: [T], parameters: UnsafePointer<T>, gradient: UnsafeMutablePointer<T>
    ) -> [T] {
        // y = h + FFN(LN₂(h)): dh = dy + LN₂ᵀ(FFNᵀ(dy)).
        let dNormed2 = feedForward.backward(r.feedForward, rows: n, dy: dy, parameters: parameters, gradient: gradient)
        var dh = dy
        r.middle.withUnsafeBufferPointer { hb in
            dNormed2.withUnsafeBufferPointer { db in
                dh.withUnsafeMutableBufferPointer {
                    norm2.backward(hb.baseAddress!, rows: n, dy: db.baseAddress!, parameters: parameters,
                                   gradient: gradient, dx: $0.baseAddress!, accumulate: true)
                }
            }
        }
        // h = x + MHSA(LN₁(x)): dx = dh + LN₁ᵀ(MHSAᵀ(dh)).
        let dNormed1 = attention.backward(r.attention, rows: n, dy: dh, parameters: parameters, gradient: gradient)
        var dx = dh
        r.input.withUnsafeBufferPointer { xb in
            dNormed1.withUnsafeBufferPointer { db in
                dx.withUnsafeMutableBufferPointer {
                    norm1.backward(xb.baseAddress!, rows: n, dy: db.baseAddress!, parameters: parameters,
                                   gradient: gradient, dx: $0.baseAddress!, accumulate: true)
                }
            }
        }
        return dx
    }
}
