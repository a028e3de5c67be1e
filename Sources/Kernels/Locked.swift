import Foundation

/// A value behind an NSLock (a pthread mutex), with Synchronization.Mutex's `withLock`.
///
///     let count = Locked(0)
///     count.withLock { $0 += 1 }
///
/// Not Mutex itself: on Linux a contended Mutex waits on a futex inside the standard library,
/// where ThreadSanitizer does not see it, and TSan reported the accesses it guards as races
/// (the first packing of a oneDNN weight, the server's permits). TSan knows pthread mutexes.
public final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
