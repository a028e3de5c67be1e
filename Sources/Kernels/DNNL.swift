import CDNNL
import Foundation

/// oneDNN (Debian's libdnnl, 2.6), the engine of the bf16 and int8 weight products: its
/// matmul with the weight reordered once into the blocked layout its brgemm kernels read
/// (avx512_core_bf16, avx512_core_vnni), on the calling thread only. Measured against
/// OpenBLAS in tools/benchmarks/gemm_engines.txt.
public enum DNNL {
    /// "2.6.3".
    public static var version: String { String(validatingCString: cdnnl_version()) ?? "?" }
    /// Whether oneDNN's kernels here reach avx512_core_bf16 / avx512_core_vnni.
    public static var hasBF16: Bool { cdnnl_has_bf16() != 0 }
    public static var hasVNNI: Bool { cdnnl_has_vnni() != 0 }
    /// Whether this CPU (and its OS) runs AVX-512 (avx512_core: F, CD, BW, DQ, VL) / AVX2.
    public static var hasAVX512Core: Bool { cdnnl_has_avx512_core() != 0 }
    public static var hasAVX2: Bool { cdnnl_has_avx2() != 0 }

    /// The text of a NUL-terminated C buffer.
    static func message(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A oneDNN call that failed, in one line.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}

/// A weight w (n, k) prepacked for oneDNN products of one arithmetic.
///
///     let p = try PackedWeight(.bf16, w16, rows: n, cols: k, ldc: n)
///     p.multiply(x16, rows: m, into: y, accumulate: true)     // y (m, n) += x · wᵀ
public final class PackedWeight: @unchecked Sendable {
    public enum Kind: Int32, Sendable {
        case f32 = 0   // x f32, w f32, y f32
        case bf16 = 1  // x, w bf16 bit patterns; y f32
        case u8s8 = 2  // x UInt8, w Int8; y Int32 (dense, never accumulated)
    }

    public let kind: Kind
    public let rows: Int, cols: Int
    private let handle: OpaquePointer

    /// Packs `rows` rows of w (row j at w + j·ldw, in the kind's weight type); products write
    /// rows of `ldc`.
    public init(_ kind: Kind, _ w: UnsafeRawPointer, rows: Int, cols: Int, ldw: Int? = nil, ldc: Int? = nil) throws(DNNL.Failure) {
        (self.kind, self.rows, self.cols) = (kind, rows, cols)
        var error = [CChar](repeating: 0, count: 256)
        guard let h = cdnnl_weight_create(kind.rawValue, Int64(rows), Int64(cols), w, Int64(ldw ?? cols),
                                          Int64(ldc ?? rows), &error, error.count) else {
            throw DNNL.Failure(description: DNNL.message(error) + " (\(kind), \(rows)×\(cols))")
        }
        handle = h
    }

    deinit { cdnnl_weight_destroy(handle) }

    /// Bytes of the packed copy.
    public var bytes: Int { cdnnl_weight_bytes(handle) }
    /// The kernel oneDNN runs ("brg:avx512_core_vnni").
    public var implementation: String { String(validatingCString: cdnnl_weight_implementation(handle)) ?? "?" }

    /// y (m, rows) = x (m, cols) · wᵀ, or y += it when `accumulate` (not for u8s8); x dense.
    /// With `bias` (rows floats) the product is x · wᵀ + bias; with `activation`, that (plus the
    /// old y when accumulating) goes through it; with `bf16Output`, y holds bf16 bit patterns,
    /// rounded to nearest even. Those three are oneDNN's post-ops, inside its kernel, for the
    /// f32 and bf16 kinds. A failure here (out of memory) is not recoverable in the middle of a
    /// forward pass.
    public func multiply(_ x: UnsafeRawPointer, rows m: Int, into y: UnsafeMutableRawPointer, accumulate: Bool,
                         bias: UnsafePointer<Float>? = nil, activation: Activation? = nil, bf16Output: Bool = false) {
        guard m > 0 else { return }
        precondition(kind != .u8s8 || (bias == nil && activation == nil && !bf16Output), "PackedWeight: u8s8 takes no post-ops")
        var flags: Int32 = accumulate && kind != .u8s8 ? Int32(CDNNL_ACCUMULATE) : 0
        if bias != nil { flags |= Int32(CDNNL_BIAS) }
        switch activation {
        case .gelu: flags |= Int32(CDNNL_GELU_ERF)
        case .geluTanh: flags |= Int32(CDNNL_GELU_TANH)
        case .relu: flags |= Int32(CDNNL_RELU)
        case nil: break
        }
        if bf16Output { flags |= Int32(CDNNL_BF16_OUTPUT) }
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { error in
            error[0] = 0
            if cdnnl_multiply_with(handle, Int64(m), x, y, flags, bias, error.baseAddress, error.count) != 0 {
                fatalError(DNNL.message(Array(error)))
            }
        }
    }
}

extension PackedWeight {
    /// The ThreadScratch slot of a product's dense output (no other kernel uses it).
    static let denseSlot = 12

    /// y (m, rows) = x · wᵀ (+ bias) in fp32 rows of `ldc` (≥ rows), or y += it when `accumulate`.
    ///
    /// oneDNN 2.6 runs its brgemm kernels only on dense output rows: into wider ones (a lone
    /// batch's lane, which writes part of a product's columns) it falls back to gemm:jit, which
    /// copies both operands on every call (45% of a lone sentence's bf16 call time in perf). So a
    /// product into wider rows is computed densely in this thread's scratch, then copied in, or
    /// added: the same sums, rounded the same way, plus the one add of the old y.
    public func multiply(_ x: UnsafeRawPointer, rows m: Int, into y: UnsafeMutablePointer<Float>, ldc: Int,
                         accumulate: Bool, bias: UnsafePointer<Float>? = nil) {
        let n = rows
        if ldc == n { return multiply(x, rows: m, into: y, accumulate: accumulate, bias: bias) }
        let dense = ThreadScratch.current.reserve(Self.denseSlot, bytes: m * n * 4).assumingMemoryBound(to: Float.self)
        multiply(x, rows: m, into: dense, accumulate: false, bias: bias)
        for r in 0..<m {
            if accumulate {
                Elementwise.add(dense + r * n, to: y + r * ldc, count: n)
            } else {
                (y + r * ldc).update(from: dense + r * n, count: n)
            }
        }
    }

    /// y (m, rows) = bf16(act(x · wᵀ + bias)), bit patterns in rows of `ldc` (≥ rows); wider
    /// rows than the product as in `multiply(_:rows:into:ldc:accumulate:bias:)`.
    public func multiply(_ x: UnsafeRawPointer, rows m: Int, into y: UnsafeMutablePointer<UInt16>, ldc: Int,
                         bias: UnsafePointer<Float>?, activation: Activation) {
        let n = rows
        let dense = ldc == n ? y
            : ThreadScratch.current.reserve(Self.denseSlot, bytes: m * n * 2).assumingMemoryBound(to: UInt16.self)
        multiply(x, rows: m, into: dense, accumulate: false, bias: bias, activation: activation, bf16Output: true)
        if ldc != n {
            for r in 0..<m { (y + r * ldc).update(from: dense + r * n, count: n) }
        }
    }
}

/// The packed parts of one weight, by the range of its rows (output columns) a product uses
/// and the row length of its output: a lone batch's lanes each take half the columns. Made on
/// first use, kept with the weight.
final class PackedParts: @unchecked Sendable {
    struct Key: Hashable { let rows: Range<Int>, ldc: Int }
    typealias Make = @Sendable (Range<Int>, Int) throws(DNNL.Failure) -> PackedWeight
    private let parts = Locked<[Key: PackedWeight]>([:])
    private let make: Make

    init(_ make: @escaping Make) { self.make = make }

    /// Packs a part now (at load), so that a failure is an error there and not in a forward pass.
    func prepare(_ rows: Range<Int>, ldc: Int) throws(DNNL.Failure) {
        let p = try make(rows, ldc)
        parts.withLock { $0[Key(rows: rows, ldc: ldc)] = p }
    }

    /// The part for these rows, packed on first use; a weight that packed at load packs its
    /// parts alike, so a failure here (out of memory) ends the process with oneDNN's reason.
    func part(_ rows: Range<Int>, ldc: Int) -> PackedWeight {
        let key = Key(rows: rows, ldc: ldc)
        return parts.withLock { parts in
            if let p = parts[key] { return p }
            do {
                let p = try make(rows, ldc)
                parts[key] = p
                return p
            } catch {
                fatalError("\(error)")
            }
        }
    }

    var bytes: Int { parts.withLock { $0.values.reduce(0) { $0 + $1.bytes } } }
    /// The kernels of every part made so far (for tests: brgemm everywhere, not gemm:jit).
    var implementations: Set<String> { parts.withLock { Set($0.values.map(\.implementation)) } }
}

/// Per-thread memory for a product's converted inputs and integer results: each batch worker
/// reuses its own, grown to the largest product it has seen, freed when the thread ends.
final class ThreadScratch {
    private var buffers: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

    /// Buffer `slot` with room for at least `bytes`, 64-byte aligned; its old contents are not kept.
    func reserve(_ slot: Int, bytes: Int) -> UnsafeMutableRawPointer {
        while buffers.count <= slot { buffers.append((.allocate(byteCount: 64, alignment: 64), 64)) }
        if bytes > buffers[slot].bytes {
            buffers[slot].pointer.deallocate()
            buffers[slot] = (.allocate(byteCount: bytes, alignment: 64), bytes)
        }
        return buffers[slot].pointer
    }

    deinit { for b in buffers { b.pointer.deallocate() } }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { p in
            if let p { Unmanaged<ThreadScratch>.fromOpaque(p).release() }
        }
        return key
    }()

    static var current: ThreadScratch {
        if let p = pthread_getspecific(key) { return Unmanaged<ThreadScratch>.fromOpaque(p).takeUnretainedValue() }
        let scratch = ThreadScratch()
        pthread_setspecific(key, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }
}
