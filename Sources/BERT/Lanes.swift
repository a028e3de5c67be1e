import Foundation
import Synchronization

/// Two threads for one lone batch (a single sentence, say): the caller and one persistent
/// helper. OpenBLAS's own threads on products of ~20 rows spent about 15% of the samples
/// in sched_yield, and left the other core idle through attention and the element-wise
/// steps; here each core takes whole parts (half the heads, half a product's output
/// columns) with one OpenBLAS thread.
///
/// `split(parts) { part, lane in … }` runs every part once, on whichever thread takes it first,
/// and returns when all are done. The caller never waits for a helper that has not started
/// a part (a descheduled helper only costs the parallelism), and waits for one that has.
final class Lanes: @unchecked Sendable {
    /// How long the idle helper keeps polling for the next part before it blocks.
    static let spinSeconds = 0.0005

    /// Parts each product or head loop is cut into: one per thread (4 measured no better).
    static let parts = 2

    private let owner = NSLock()
    /// generation (32 bits) | parts (16 bits) | next part to take (16 bits)
    private let state = Atomic<UInt64>(0)
    /// Parts the helper finished in the current generation.
    private let helped = Atomic<Int>(0)
    private let sleeping = Atomic<Bool>(false)
    /// Set once by `stop()`: the helper leaves its loop.
    private let stopping = Atomic<Bool>(false)
    private let wake = NSCondition()
    private var generation: UInt64 = 0
    private var body: ((_ part: Int, _ lane: Int) -> Void)?
    private var started = false

    /// The lanes if no other forward pass holds them; `release()` when done.
    func acquire() -> Lanes? {
        guard owner.try() else { return nil }
        if !started {
            started = true
            // The helper serves these lanes (and keeps them alive) until `stop()`.
            let thread = Thread { self.serve() }
            thread.name = "bert-lane"
            thread.start()
        }
        return self
    }

    func release() { owner.unlock() }

    /// Ends the helper thread (its owner, an `ExecutionContext`, is going away).
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// Runs `body(part, lane)` for parts 0..<parts across the two threads (lane 0 is the
    /// caller, 1 the helper); returns when all are done.
    func split(_ parts: Int, _ body: (_ part: Int, _ lane: Int) -> Void) {
        precondition(parts > 0 && parts < 1 << 16)
        guard parts > 1 else { return body(0, 0) }
        withoutActuallyEscaping(body) { body in
            self.body = body
            helped.store(0, ordering: .relaxed)
            generation = generation % 0xFFFF_FFFF + 1  // never 0, the helper's first `seen`
            let g = generation
            state.store(g << 32 | UInt64(parts) << 16, ordering: .sequentiallyConsistent)
            if sleeping.load(ordering: .sequentiallyConsistent) {
                wake.lock()
                wake.signal()
                wake.unlock()
            }
            var mine = 0
            while let part = take(g) {
                body(part, 0)
                mine += 1
            }
            // The helper is inside a part: poll a moment, then let whatever else wants
            // this core run meanwhile.
            var polls = 0
            let patience = Self.polls
            while helped.load(ordering: .acquiring) + mine < parts {
                polls += 1
                if polls > patience { sched_yield() }
            }
            self.body = nil
        }
    }

    /// The next part of generation `g`, if any is left.
    private func take(_ g: UInt64) -> Int? {
        var s = state.load(ordering: .acquiring)
        while true {
            let parts = (s >> 16) & 0xFFFF, next = s & 0xFFFF
            guard s >> 32 == g, next < parts else { return nil }
            let (exchanged, now) = state.compareExchange(
                expected: s, desired: s + 1, ordering: .acquiringAndReleasing)
            if exchanged { return Int(next) }
            s = now
        }
    }

    private func serve() {
        var seen: UInt64 = 0
        let (patience, spinSeconds) = (Self.polls, Self.spinSeconds)
        while true {
            var s = state.load(ordering: .acquiring)
            if s >> 32 == seen {
                let start = Self.now()
                var polls = 0
                while s >> 32 == seen {
                    if stopping.load(ordering: .relaxed) { return }
                    polls += 1
                    if polls > patience { sched_yield() }
                    if polls & 255 == 0, Self.now() - start > spinSeconds {
                        wake.lock()
                        sleeping.store(true, ordering: .sequentiallyConsistent)
                        while state.load(ordering: .sequentiallyConsistent) >> 32 == seen,
                              !stopping.load(ordering: .sequentiallyConsistent) { wake.wait() }
                        sleeping.store(false, ordering: .relaxed)
                        wake.unlock()
                    }
                    s = state.load(ordering: .acquiring)
                }
            }
            seen = s >> 32
            var done = 0
            // A successful take means the caller is still inside this generation's split,
            // so `body` is this generation's.
            while let part = take(seen) {
                body!(part, 1)
                done += 1
            }
            if done > 0 { helped.add(done, ordering: .releasing) }
        }
    }

    /// Polls of a waiting thread before it starts yielding its core at each poll (a few µs):
    /// polling without yielding doubled the latency when other processes wanted the cores.
    static let polls = 5000

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Part `part` of `parts` of 0..<n, cut at multiples of 16 columns (OpenBLAS's
    /// AVX-512 kernels work in blocks of 16).
    static func columns(_ n: Int, part: Int, of parts: Int) -> Range<Int> {
        let per = ((n + parts - 1) / parts + 15) / 16 * 16
        let lo = min(n, part * per)
        return lo..<min(n, lo + per)
    }
}
