import Foundation
import Tokenizers

/// A safetensors checkpoint, memory-mapped: an 8-byte little-endian header length, a
/// JSON header `{name: {dtype, shape, data_offsets}}`, then the tensor bytes.
/// Every header entry is validated before any tensor is handed out; F32 tensors are
/// views into the mapping, F16 and BF16 are widened to F32 copies. A file that records a
/// checksum (SafetensorsWriter's files: fine-tuned models, training checkpoints) is verified
/// when opened; a truncated or damaged one is a `ModelError.malformedCheckpoint` saying so.
///
///     let file = try SafetensorsFile(path: "models/all-MiniLM-L6-v2/model.safetensors")
///     let w = try file.tensor("embeddings.word_embeddings.weight")   // (30522, 384)
public final class SafetensorsFile: @unchecked Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
        var size: Int { self == .f32 ? 4 : 2 }
    }

    struct Entry {
        let dtype: DType
        let shape: [Int]
        let byteOffset: Int   // from the start of the file
        let byteCount: Int
    }

    public let path: String
    private let file: MappedFile
    private let entries: [String: Entry]
    public let metadata: [String: String]

    public var names: [String] { entries.keys.sorted() }

    /// Whether the file records a checksum (verified by `init` unless told not to).
    public var hasChecksum: Bool { metadata[SafetensorsChecksum.key] != nil }

    /// Opens and validates the file; `verifyChecksum: false` skips hashing its bytes.
    public init(path: String, verifyChecksum: Bool = true) throws {
        self.path = path
        file = try MappedFile(path: path)
        let headerLength: Int
        (entries, metadata, headerLength) = try Self.parseHeader(file)
        if verifyChecksum, let recorded = metadata[SafetensorsChecksum.key] {
            try SafetensorsChecksum.verify(file, headerLength: headerLength, recorded: recorded)
        } else if verifyChecksum, metadata.contains(where: { $0.value.hasPrefix(SafetensorsChecksum.kind) }) {
            // a damaged key name must not turn verification off
            throw ModelError.malformedCheckpoint(path: path, reason: "its checksum entry is damaged (a checksum under another name)")
        }
    }

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    public func shape(of name: String) -> [Int]? { entries[name]?.shape }

    /// The tensor called `name`, as float32.
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entries[name] else { throw ModelError.missingTensor(path: path, name: name) }
        let raw = file.base + e.byteOffset
        let count = e.shape.reduce(1, *)
        switch e.dtype {
        case .f32 where Int(bitPattern: raw) % MemoryLayout<Float>.alignment == 0:
            return Tensor(shape: e.shape, viewing: raw.assumingMemoryBound(to: Float.self), owner: file)
        case .f32:
            let storage = TensorStorage(count: count)
            UnsafeMutableRawPointer(storage.pointer).copyMemory(from: raw, byteCount: e.byteCount)
            return Tensor(shape: e.shape, storage: storage)
        case .f16, .bf16:
            let storage = TensorStorage(count: count)
            for i in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                storage.pointer[i] = e.dtype == .bf16
                    ? Float(bitPattern: UInt32(bits) << 16)
                    : Float(Float16(bitPattern: bits))
            }
            return Tensor(shape: e.shape, storage: storage)
        }
    }

    private static func parseHeader(_ file: MappedFile) throws -> ([String: Entry], [String: String], Int) {
        func fail(_ reason: String) -> ModelError { .malformedCheckpoint(path: file.path, reason: reason) }
        guard file.size >= 8 else { throw fail("shorter than its 8-byte header length (truncated?)") }
        let headerLength = file.base.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(file.size - 8) else {
            throw fail("header claims \(headerLength) bytes but the file has \(file.size) (truncated?)")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = Data(bytes: file.base + 8, count: Int(headerLength))
        guard let header = (try? JSONSerialization.jsonObject(with: headerBytes)) as? [String: Any] else {
            throw fail("the header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                // strings only, as the format says; and a damaged one must not hide the checksum
                guard let strings = value as? [String: String] else { throw fail("__metadata__ is not an object of strings") }
                metadata = strings
                continue
            }
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shape = integers(info["shape"]),
                  let offsets = integers(info["data_offsets"]), offsets.count == 2
            else { throw fail("entry '\(name.oneLine)' lacks a valid dtype, shape or data_offsets (integers)") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw ModelError.unsupportedDType(path: file.path, tensor: name.oneLine, dtype: dtypeName.oneLine)
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name.oneLine)' has a negative dimension") }
            let (begin, end) = (offsets[0], offsets[1])
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, begin >= 0, begin <= end, end <= file.size - dataStart else {
                throw fail("tensor '\(name.oneLine)' lies outside the file (offsets \(begin)..<\(end), data section \(file.size - dataStart) bytes; truncated?)")
            }
            let (bytes, tooMany) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !tooMany, end - begin == bytes else {
                throw fail("tensor '\(name.oneLine)' has \(end - begin) bytes but shape \(shape) in \(dtypeName) needs \(tooMany ? "more than 2^63" : String(bytes))")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, byteOffset: dataStart + begin, byteCount: end - begin)
        }
        return (entries, metadata, Int(headerLength))
    }

    /// A JSON array of integers, each exact: NSNumber.intValue would read 1.5 as 1 and 1e300
    /// as Int.min. Beyond 2^53 a double cannot hold every integer, and no file is that large.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        out.reserveCapacity(array.count)
        for element in array {
            guard let n = element as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) <= 9_007_199_254_740_992, let i = Int(exactly: d) else { return nil }
            out.append(i)
        }
        return out
    }
}

/// Writes float32 tensors as a safetensors file, atomically (AtomicFile): a temporary file
/// in the same directory, then a rename, so a failure never leaves a half-written checkpoint.
/// The file records its checksum (SafetensorsChecksum), which SafetensorsFile verifies.
///
///     try SafetensorsWriter.write(["w": Tensor(shape: [2], values: [1, 2])], to: url)
public enum SafetensorsWriter {
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        precondition(metadata[SafetensorsChecksum.key] == nil, "the checksum entry is the writer's own")
        var header: [String: Any] = [:]
        var sealed = metadata
        sealed[SafetensorsChecksum.key] = SafetensorsChecksum.kind + SafetensorsChecksum.placeholder
        header["__metadata__"] = sealed
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            let t = tensors[name]!
            data.append(UnsafeBufferPointer(start: t.pointer, count: t.count))
        }
        SafetensorsChecksum.seal(&data, headerLength: json.count)
        try AtomicFile.write(data, to: url)
    }
}
