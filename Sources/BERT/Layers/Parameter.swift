import Foundation
import Kernels

/// One tensor of a model under its canonical name. For inference its values are a view of
/// the memory-mapped checkpoint and it has no gradient; for training it owns its values,
/// a gradient and AdamW's two moments.
final class Parameter {
    let name: String
    let shape: [Int]
    let value: Buffer
    /// Empty (count 0) for inference parameters.
    let grad: Buffer
    let m: Buffer
    let v: Buffer
    /// AdamW's weight decay applies: not to biases nor to LayerNorm weights.
    let decays: Bool

    var count: Int { value.count }
    var pointer: UnsafeMutablePointer<Float> { value.pointer }
    /// Whether a backward pass may accumulate into `grad`.
    var trainable: Bool { grad.count == value.count }

    private init(name: String, shape: [Int], value: Buffer, grad: Buffer, m: Buffer, v: Buffer) {
        self.name = name
        self.shape = shape
        self.value = value
        self.grad = grad
        self.m = m
        self.v = v
        decays = !(name.hasSuffix("bias") || name.contains("LayerNorm"))
    }

    /// A view for inference: no copy, no gradient.
    convenience init(name: String, viewing tensor: Tensor) {
        let empty = Buffer(0)
        self.init(name: name, shape: tensor.shape, value: Buffer(viewing: tensor), grad: empty, m: empty, v: empty)
    }

    /// An owned copy with a gradient and moments, for training.
    convenience init(name: String, copying tensor: Tensor) {
        let n = tensor.count
        self.init(name: name, shape: tensor.shape, value: Buffer(copying: tensor.pointer, count: n),
                  grad: Buffer(n), m: Buffer(n), v: Buffer(n))
    }

    /// The same values with a gradient of its own (and no moments): what a second
    /// training worker accumulates into before its gradient joins the owner's.
    convenience init(sharingValuesOf owner: Parameter) {
        let empty = Buffer(0)
        self.init(name: owner.name, shape: owner.shape, value: owner.value, grad: Buffer(owner.count), m: empty, v: empty)
    }

    /// Rows `rows` of `fused` (a fused projection's query, key or value block): views of its
    /// values, gradient and moments, so a backward through the slice accumulates into the
    /// fused parameter's gradient. The slice is not in any `ParameterSet`; `fused` is.
    convenience init(rows: Range<Int>, of fused: Parameter) {
        let width = fused.shape.dropFirst().reduce(1, *)
        let (offset, n) = (rows.lowerBound * width, rows.count * width)
        func slice(_ b: Buffer) -> Buffer { b.count == 0 ? b : Buffer(slicing: b, offset: offset, count: n) }
        self.init(name: "\(fused.name)[\(rows.lowerBound)..<\(rows.upperBound)]", shape: [rows.count] + fused.shape.dropFirst(),
                  value: slice(fused.value), grad: slice(fused.grad), m: slice(fused.m), v: slice(fused.v))
    }

    var tensor: Tensor { Tensor(shape: shape, values: value.values) }
}

/// Every tensor of a model, in the order the layers took them. How a tensor becomes a
/// `Parameter` is the set's mode: views (inference), owned copies (training), or shared
/// values with gradients of their own (a training worker's replica).
final class ParameterSet {
    enum Mode {
        case inference
        case training
        /// The replica of `owner`: every parameter must have its twin there.
        case replica(of: ParameterSet)
    }

    let mode: Mode
    private(set) var all: [Parameter] = []
    private var byName: [String: Parameter] = [:]

    init(_ mode: Mode = .training) { self.mode = mode }

    var isTraining: Bool {
        if case .inference = mode { return false }
        return true
    }

    /// The parameter for `name` made from `tensor`; a name taken again (ALBERT's shared
    /// layers are loaded once, then reused) is a programmer error.
    func add(_ name: String, _ tensor: Tensor) -> Parameter {
        precondition(byName[name] == nil, "parameter \(name) added twice")
        let p: Parameter
        switch mode {
        case .inference:
            p = Parameter(name: name, viewing: tensor)
        case .training:
            p = Parameter(name: name, copying: tensor)
        case .replica(let owner):
            guard let shared = owner[name], shared.shape == tensor.shape else {
                preconditionFailure("replica parameter \(name) \(tensor.shape) has no twin in the owner")
            }
            p = Parameter(sharingValuesOf: shared)
        }
        all.append(p)
        byName[name] = p
        return p
    }

    subscript(name: String) -> Parameter? { byName[name] }

    /// Runs `body(half, i, range)` for every parameter `i` in the set's order, half 0 of each
    /// gradient's elements on one thread and half 1 on the other: the element-wise passes of a
    /// step (a fixed split, so the same values every time). A parameter without a gradient
    /// (count 0) gets empty ranges.
    private func forEachHalf(_ body: (_ half: Int, _ i: Int, _ range: Range<Int>) -> Void) {
        let counts = all.map(\.grad.count)
        Halves.run { half in
            for (i, count) in counts.enumerated() { body(half, i, Halves.range(half, of: count)) }
        }
    }

    /// Clears every gradient.
    func zeroGradients() {
        let parameters = all
        forEachHalf { _, i, range in parameters[i].grad.zero(range) }
    }

    /// The global L2 norm of all gradients, as torch.nn.utils.clip_grad_norm_ computes it.
    func gradientNorm() -> Double {
        let parameters = all
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        sums.initialize(repeating: 0, count: 2)
        defer { sums.deallocate() }
        let out = UncheckedSendable(sums)
        forEachHalf { half, i, range in
            out.value[half] += TrainingKernels.sumOfSquares(parameters[i].grad.pointer + range.lowerBound, count: range.count)
        }
        return (sums[0] + sums[1]).squareRoot()
    }

    /// Scales gradients so their global norm is at most `maxNorm` (torch's clip_grad_norm_:
    /// coefficient maxNorm/(norm + 1e-6), clamped at 1). Returns the norm before clipping.
    @discardableResult
    func clipGradients(maxNorm: Double) -> Double {
        let norm = gradientNorm()
        let coefficient = Float(min(maxNorm / (norm + 1e-6), 1))
        if coefficient < 1 {
            for p in all { TrainingKernels.scale(p.grad.pointer, by: coefficient, count: p.grad.count) }
        }
        return norm
    }

    /// One AdamW step over every parameter (element-wise, so the split changes no value).
    func adamW(_ h: AdamW, learningRate: Float, step: Int) {
        let parameters = all
        forEachHalf { _, i, range in
            let (p, o) = (parameters[i], range.lowerBound)
            TrainingKernels.adamW(p.pointer + o, grad: p.grad.pointer + o, m: p.m.pointer + o, v: p.v.pointer + o,
                                  count: range.count, learningRate: learningRate, beta1: h.beta1, beta2: h.beta2,
                                  eps: h.eps, weightDecay: p.decays ? h.weightDecay : 0, step: step)
        }
    }

    /// Adds a replica's gradients to these and clears the replica's.
    func absorbGradients(of replica: ParameterSet) {
        let (parameters, twins) = (all, replica.all)
        precondition(parameters.count == twins.count, "a replica has every parameter of its owner")
        forEachHalf { _, i, range in
            let o = range.lowerBound
            Elementwise.add(twins[i].grad.pointer + o, to: parameters[i].grad.pointer + o, count: range.count)
            twins[i].grad.zero(range)
        }
    }

    /// Values as tensors by name, for a checkpoint.
    func tensors() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.tensor) })
    }
}
