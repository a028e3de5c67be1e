/// One optimizer step as the recipe does it: clip the global gradient norm at 1.0, take
/// the scheduled learning rate, AdamW; then the gradients are cleared for the next step.
final class Optimizer {
    let parameters: ParameterSet
    let hyper: AdamW
    let schedule: LinearSchedule
    let learningRate: Double
    let maxGradientNorm: Double
    /// Steps taken so far (the schedule's k; AdamW's t is step + 1).
    var step: Int

    init(_ parameters: ParameterSet, learningRate: Double, schedule: LinearSchedule,
         hyper: AdamW = AdamW(), maxGradientNorm: Double = 1.0, step: Int = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.schedule = schedule
        self.hyper = hyper
        self.maxGradientNorm = maxGradientNorm
        self.step = step
    }

    /// Applies the accumulated gradients; returns the gradient norm before clipping.
    @discardableResult
    func apply() -> Double {
        let norm = parameters.clipGradients(maxNorm: maxGradientNorm)
        let lr = Float(learningRate * schedule.factor(atStep: step))
        step += 1
        parameters.adamW(hyper, learningRate: lr, step: step)
        parameters.zeroGradients()
        return norm
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
