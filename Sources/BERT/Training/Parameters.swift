import Foundation
import Kernels

/// One trainable tensor under its canonical name: its values, gradient and AdamW
/// moments, owned and mutable (the checkpoint's mapping stays read-only).
final class Parameter {
    let name: String
    let shape: [Int]
    let value: Buffer
    let grad: Buffer
    let m: Buffer
    let v: Buffer
    /// AdamW's weight decay applies: not to biases nor to LayerNorm weights.
    let decays: Bool

    var count: Int { value.count }
    var pointer: UnsafeMutablePointer<Float> { value.pointer }

    init(name: String, shape: [Int], values: UnsafePointer<Float>) {
        self.name = name
        self.shape = shape
        let n = shape.reduce(1, *)
        value = Buffer(copying: values, count: n)
        grad = Buffer(n)
        m = Buffer(n)
        v = Buffer(n)
        decays = !(name.hasSuffix("bias") || name.contains("LayerNorm"))
    }

    /// The same values with a gradient of its own (and no moments): what a second
    /// training worker accumulates into before its gradient joins the owner's.
    init(sharingValuesOf owner: Parameter) {
        name = owner.name
        shape = owner.shape
        value = owner.value
        grad = Buffer(owner.count)
        m = Buffer(0)
        v = Buffer(0)
        decays = owner.decays
    }

    var tensor: Tensor { Tensor(shape: shape, values: value.values) }
}

/// Every trainable tensor of a model, in a fixed order (the order of the checkpoint's names).
final class ParameterSet {
    private(set) var all: [Parameter] = []
    private var byName: [String: Parameter] = [:]
    /// Set for a worker's replica: `add` then shares the owner's values instead of copying.
    let owner: ParameterSet?

    init(sharingValuesOf owner: ParameterSet? = nil) { self.owner = owner }

    func add(_ name: String, _ tensor: Tensor) -> Parameter {
        precondition(byName[name] == nil, "parameter \(name) added twice")
        let p: Parameter
        if let owner {
            guard let shared = owner[name], shared.shape == tensor.shape else {
                preconditionFailure("replica parameter \(name) \(tensor.shape) has no twin in the owner")
            }
            p = Parameter(sharingValuesOf: shared)
        } else {
            p = Parameter(name: name, shape: tensor.shape, values: tensor.pointer)
        }
        all.append(p)
        byName[name] = p
        return p
    }

    subscript(name: String) -> Parameter? { byName[name] }

    func zeroGradients() { for p in all { p.grad.zero() } }

    /// The global L2 norm of all gradients, as torch.nn.utils.clip_grad_norm_ computes it.
    func gradientNorm() -> Double {
        all.reduce(0.0) { $0 + TrainingKernels.sumOfSquares($1.grad.pointer, count: $1.count) }.squareRoot()
    }

    /// Scales gradients so their global norm is at most `maxNorm` (torch's clip_grad_norm_:
    /// coefficient maxNorm/(norm + 1e-6), clamped at 1). Returns the norm before clipping.
    @discardableResult
    func clipGradients(maxNorm: Double) -> Double {
        let norm = gradientNorm()
        let coefficient = Float(min(maxNorm / (norm + 1e-6), 1))
        if coefficient < 1 {
            for p in all { TrainingKernels.scale(p.grad.pointer, by: coefficient, count: p.count) }
        }
        return norm
    }

    /// One AdamW step over every parameter, each tensor's two halves on two threads
    /// (the update is element-wise, so the split changes no value).
    func adamW(_ h: AdamW, learningRate: Float, step: Int) {
        let parameters = all
        Halves.run { half in
            for p in parameters {
                let range = Halves.range(half, of: p.count)
                TrainingKernels.adamW(p.pointer + range.lowerBound, grad: p.grad.pointer + range.lowerBound,
                                      m: p.m.pointer + range.lowerBound, v: p.v.pointer + range.lowerBound,
                                      count: range.count, learningRate: learningRate, beta1: h.beta1, beta2: h.beta2,
                                      eps: h.eps, weightDecay: p.decays ? h.weightDecay : 0, step: step)
            }
        }
    }

    /// Adds a replica's gradients to these and clears the replica's.
    func absorbGradients(of replica: ParameterSet) {
        let pairs = Array(zip(all, replica.all))
        Halves.run { half in
            for (p, q) in pairs {
                let range = Halves.range(half, of: p.count)
                Elementwise.add(q.grad.pointer + range.lowerBound, to: p.grad.pointer + range.lowerBound, count: range.count)
                (q.grad.pointer + range.lowerBound).update(repeating: 0, count: range.count)
            }
        }
    }

    /// Values as tensors by name, for a checkpoint.
    func tensors() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0.tensor) })
    }
}

/// AdamW's hyper-parameters (torch.optim.AdamW's, with the weight decay Hugging Face uses).
public struct AdamW: Codable, Sendable, Equatable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0.01
    public init() {}
}

/// Hugging Face's get_linear_schedule_with_warmup: the factor grows linearly from 0 over
/// the warmup steps, then falls linearly to 0 at the last step. Step k counts from 0.
public struct LinearSchedule: Codable, Sendable, Equatable {
    public let totalSteps: Int
    public let warmupSteps: Int

    /// Warmup over ceil(fraction · total) steps, as transformers' warmup_ratio.
    public init(totalSteps: Int, warmupFraction: Double = 0.1) {
        self.totalSteps = totalSteps
        warmupSteps = Int((warmupFraction * Double(totalSteps)).rounded(.up))
    }

    public func factor(atStep k: Int) -> Double {
        if k < warmupSteps { return Double(k) / Double(max(1, warmupSteps)) }
        return max(0, Double(totalSteps - k) / Double(max(1, totalSteps - warmupSteps)))
    }
}
