import Foundation
import Kernels

/// SplitMix64: the seeded generator of training (data split, epoch order, classifier
/// init, dropout). Its whole state is one UInt64, saved for --resume.
/// tools/finetune_reference.py has the same generator, so PyTorch starts from the same
/// classifier weights and sees the same data order.
public struct SplitMix64: Codable, Sendable, Equatable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The mixing function and step are Kernels', which dropout's masks draw with eight at a time.
    public mutating func next() -> UInt64 {
        state &+= TrainingKernels.splitMixGamma
        return TrainingKernels.splitMix(state)
    }

    /// Uniform in [0, 1), 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in 0..<n (modulo; the bias is below 2⁻⁵⁰ for our sizes).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Standard normal by Box-Muller (the cosine half only).
    public mutating func normal() -> Double {
        let u1 = 1 - uniform(), u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Fisher-Yates, from the last element down.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}
