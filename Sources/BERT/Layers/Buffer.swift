/// Float storage: zeroed memory a training step owns (activations, gradients, moments),
/// or a view of a tensor that something else keeps alive (a memory-mapped checkpoint).
final class Buffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    /// What keeps a view's memory alive; nil when this buffer owns its memory.
    private let owner: AnyObject?

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
        owner = nil
    }

    /// Owned memory left as it is, for a buffer its user writes whole before reading any of it
    /// (a training step's activations: zeroing them first was a tenth of its memsets).
    init(uninitialized count: Int) {
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        owner = nil
    }

    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(count)
        pointer.update(from: source, count: count)
    }

    /// A view of `tensor`'s values, which must never be written (a mapping is read-only).
    init(viewing tensor: Tensor) {
        count = tensor.count
        pointer = UnsafeMutablePointer(mutating: tensor.pointer)
        owner = tensor.storage
    }

    /// A view of `count` floats of `parent` from `offset` (a row block of a fused weight, its
    /// gradient or its moments), kept alive by the parent.
    init(slicing parent: Buffer, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= parent.count)
        self.count = count
        pointer = parent.pointer + offset
        owner = parent
    }

    /// The mapped file a view reads from, for `copyRow`.
    private var mappedFile: MappedFile? { (owner as? TensorStorage)?.mappedFile ?? (owner as? Buffer)?.mappedFile }

    subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    func zero() { zero(0..<count) }

    /// Zeroes elements `range` (a thread's share of a gradient).
    func zero(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        (pointer + range.lowerBound).update(repeating: 0, count: range.count)
    }

    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Copies row `r` of this buffer seen as rows of `cols` into `destination`. A mapped
    /// checkpoint's rows are read from the file, not through the mapping (`MappedFile.read`).
    func copyRow(_ r: Int, cols: Int, into destination: UnsafeMutablePointer<Float>) {
        let source = pointer + r * cols
        if let file = mappedFile {
            file.read(source, count: cols * MemoryLayout<Float>.stride, into: destination)
        } else {
            destination.update(from: source, count: cols)
        }
    }

    deinit { if owner == nil { pointer.deallocate() } }
}
