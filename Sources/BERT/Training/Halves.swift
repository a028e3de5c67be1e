import Foundation

/// Training's use of the two cores: the same work on two halves at once (a batch's
/// halves, or each tensor's two halves of elements).
enum Halves {
    /// Runs `body(0)` and `body(1)` on two threads and returns when both are done.
    static func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: 2) { work.value($0) }
        }
    }

    /// Half `k` (0 or 1) of 0..<count.
    static func range(_ k: Int, of count: Int) -> Range<Int> {
        let cut = count / 2
        return k == 0 ? 0..<cut : cut..<count
    }
}

/// A value handed to worker threads that take care themselves not to race on it.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
