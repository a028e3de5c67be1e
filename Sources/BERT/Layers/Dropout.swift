/// torch.nn.Dropout's masks: each entry 0 with probability p, else 1/(1−p).
struct Dropout {
    let p: Float

    /// A mask of `count` entries, or nil when dropout is off (p = 0, or no generator:
    /// inference and evaluation).
    func mask(_ count: Int, _ rng: inout SplitMix64?) -> Buffer? {
        guard p > 0, rng != nil else { return nil }
        let mask = Buffer(count)
        let keep = 1 / (1 - p)
        let threshold = UInt64(Double(p) * 0x1p64)
        for i in 0..<count { mask[i] = rng!.next() < threshold ? 0 : keep }
        return mask
    }
}
