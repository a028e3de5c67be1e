/// Zeroed float storage that a training step owns: activations, caches, gradients.
final class Buffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(count)
        pointer.update(from: source, count: count)
    }

    subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    func zero() { pointer.update(repeating: 0, count: count) }

    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    deinit { pointer.deallocate() }
}
