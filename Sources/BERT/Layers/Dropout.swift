import Kernels

/// torch.nn.Dropout's masks: each entry 0 with probability p, else 1/(1−p).
struct Dropout {
    let p: Float

    /// A mask of `count` entries, or nil when dropout is off (p = 0, or no generator:
    /// inference and evaluation).
    func mask(_ count: Int, _ rng: inout SplitMix64?) -> Buffer? {
        guard p > 0, rng != nil else { return nil }
        let mask = Buffer(count)
        // The same draws as count calls of rng.next(), eight at a time.
        rng!.state = TrainingKernels.dropoutMask(mask.pointer, count: count, state: rng!.state,
                                                 threshold: UInt64(Double(p) * 0x1p64), keep: 1 / (1 - p))
        return mask
    }
}
