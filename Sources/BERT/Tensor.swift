/// A float32 tensor: a shape and contiguous row-major storage, either a view into a
/// memory-mapped checkpoint or a buffer of its own.
///
///     let w = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
///     w.shape          // [2, 3]
///     w.values[4]      // 5
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    let storage: TensorStorage

    public var count: Int { shape.reduce(1, *) }
    public var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
    /// For buffers the runtime made itself; never for views into a read-only mapping.
    var mutablePointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Copies row `r` of this (rows, cols) tensor into `destination`. Rows of a mapped
    /// checkpoint are read from the file, not through the mapping (see `MappedFile.read`).
    func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
        let cols = shape.count > 1 ? shape[1...].reduce(1, *) : 1
        let source = pointer + r * cols
        if let file = storage.mappedFile {
            file.read(source, count: cols * MemoryLayout<Float>.stride, into: destination)
        } else {
            destination.update(from: source, count: cols)
        }
    }

    /// A new tensor that owns a copy of `values`.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        storage = TensorStorage(count: values.count)
        storage.pointer.update(from: values, count: values.count)
    }

    /// A new zero-filled tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// A view into memory that `owner` keeps alive (a mapped checkpoint).
    init(shape: [Int], viewing pointer: UnsafePointer<Float>, owner: AnyObject) {
        self.shape = shape
        storage = TensorStorage(viewing: pointer, owner: owner)
    }

    /// Storage this tensor owns, for code that writes into it (training).
    init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }
}

/// Float storage: owned (allocated and freed here) or borrowed from an owner object.
final class TensorStorage {
    let pointer: UnsafeMutablePointer<Float>
    private let owner: AnyObject?

    init(count: Int) {
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        owner = nil
    }

    init(viewing pointer: UnsafePointer<Float>, owner: AnyObject) {
        self.pointer = UnsafeMutablePointer(mutating: pointer)
        self.owner = owner
    }

    var mappedFile: MappedFile? { owner as? MappedFile }

    deinit { if owner == nil { pointer.deallocate() } }
}
