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
