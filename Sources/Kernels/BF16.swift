import Foundation

/// bfloat16 weight products, the opt-in `bf16` precision: inputs rounded to bf16 (8 bits of
/// mantissa), products accumulated in fp32 by OpenBLAS's `cblas_sbgemm` (avx512_bf16), about
/// twice sgemm's rate here. Debian's OpenBLAS has no sbgemm, so the library that
/// `tools/build_openblas_bf16` builds is opened at run time, privately (RTLD_LOCAL and
/// RTLD_DEEPBIND: it exports the same names as the system OpenBLAS, which keeps serving
/// everything else).
///
///     try BF16.check()                        // or BF16.available
///     let w = BF16Matrix(converting: weight, rows: out, cols: inFeatures)
///     BF16.multiply(x, weight: w, into: y, rows: n, beta: 1)    // y += x · wᵀ
///
/// The library: $BERT_BF16_BLAS when set, else `.local/openblas-bf16/libopenblas_bf16.so`
/// under the current directory or under the checkout that holds the running executable.
public enum BF16 {
    /// Whether bf16 products can run here (library found and loaded, CPU has avx512_bf16).
    public static var available: Bool { (try? loaded.get()) != nil }

    /// Throws, saying what to do, when bf16 products cannot run here.
    public static func check() throws(Unavailable) { _ = try loaded.get() }

    /// The library's path and the core its kernels are for (benchmarks print both).
    public static var library: (path: String, core: String)? {
        (try? loaded.get()).map { ($0.path, $0.core) }
    }

    /// c (m, n) = a (m, k) · wᵀ + beta · c, with w stored (n, k) like a PyTorch Linear weight;
    /// a and w are bf16 bit patterns, accumulation is fp32. Requires `available`.
    public static func multiply(
        _ a: UnsafePointer<UInt16>, _ w: UnsafePointer<UInt16>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, beta: Float = 0, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        let lib = try! loaded.get()
        lib.sbgemm(101, 111, 112, Int32(m), Int32(n), Int32(k), 1,  // RowMajor, NoTrans, Trans
                   a, Int32(k), w, Int32(k), beta, c, Int32(ldc ?? n))
    }

    /// The naive twin of `multiply`: three loops, Double accumulation of the same bf16 inputs.
    public static func naiveMultiply(
        _ a: UnsafePointer<UInt16>, _ w: UnsafePointer<UInt16>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, beta: Float = 0, ldc: Int? = nil
    ) {
        let ldc = ldc ?? n
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(float(a[i * k + p])) * Double(float(w[j * k + p])) }
                c[i * ldc + j] = Float(sum) + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }

    /// y (rows, out) = x (rows, in) · wᵀ + beta · y for fp32 x: x is rounded to bf16 in this
    /// thread's buffer first (rows·in work against the product's rows·in·out). With
    /// `weightRows`, only those rows of w: y (rows, weightRows.count) in rows of `ldc`.
    public static func multiply(_ x: UnsafePointer<Float>, weight w: BF16Matrix, weightRows: Range<Int>? = nil,
                                into y: UnsafeMutablePointer<Float>, rows: Int, beta: Float = 0, ldc: Int? = nil) {
        let part = weightRows ?? 0..<w.rows
        let a = ThreadBuffer.current.reserve(rows * w.cols)
        convert(x, into: a, count: rows * w.cols)
        multiply(a, w.pointer + part.lowerBound * w.cols, into: y, m: rows, n: part.count, k: w.cols, beta: beta, ldc: ldc)
    }

    /// fp32 → bf16, rounding to nearest, ties to even; NaN stays a (quiet) NaN.
    public static func convert(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<UInt16>, count: Int) {
        var i = 0
        let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(y)
        while i + 16 <= count {
            let u = src.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self)
            let rounded = (u &+ 0x7fff &+ ((u &>> 16) & 1)) &>> 16
            let quietNaN = (u &>> 16) | 0x40
            // All ones where |x| is NaN (above the infinity's bits), by arithmetic: a SIMD
            // comparison compiles to a scalar loop over the lanes here (13% of a bf16 pass).
            let nan = SIMD16<UInt32>.zero &- ((SIMD16<UInt32>(repeating: 0x7f80_0000) &- (u & 0x7fff_ffff)) &>> 31)
            let r = (rounded & ~nan) | (quietNaN & nan)
            dst.storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: r), toByteOffset: i * 2, as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < count {
            let u = x[i].bitPattern
            y[i] = (u & 0x7fff_ffff) > 0x7f80_0000 ? UInt16(u >> 16) | 0x40 : UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
            i += 1
        }
    }

    /// The naive twin of `convert`: of the two bf16 values around x (x truncated, and the next
    /// one away from zero), the nearer, or on a tie the one with an even last bit.
    public static func naiveConvert(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<UInt16>, count: Int) {
        // As IEEE rounds: the exponent unbounded, then overflow to infinity (value ±2¹²⁸ here).
        func value(_ b: UInt16) -> Double {
            b & 0x7fff == 0x7f80 ? (b & 0x8000 == 0 ? 0x1p128 : -0x1p128) : Double(float(b))
        }
        for i in 0..<count {
            let v = x[i], low = UInt16(v.bitPattern >> 16), high = low &+ 1
            if v.isNaN { y[i] = low | 0x40; continue }
            if v.isInfinite { y[i] = low; continue }
            let dLow = abs(Double(v) - value(low)), dHigh = abs(value(high) - Double(v))
            y[i] = dLow < dHigh || (dLow == dHigh && low & 1 == 0) ? low : high
        }
    }

    /// The value of a bf16 bit pattern.
    @inline(__always) public static func float(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// The bf16 library runs one thread per caller, always: batch workers call it from both
    /// cores at once, and with 2 threads of its own a pass took 8× the CPU time (loaded machine).
    static let threads: Int32 = 1

    // MARK: loading

    typealias Sbgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<UInt16>?, Int32,
                                       UnsafePointer<UInt16>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias CoreName = @convention(c) () -> UnsafeMutablePointer<CChar>?

    struct Library: @unchecked Sendable {
        let path: String, core: String
        let sbgemm: Sbgemm
        let setThreads: SetThreads
    }

    /// Why bf16 products cannot run here, and what to do.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    static let loaded = Result<Library, Unavailable> { () throws(Unavailable) in try load() }

    private static func load() throws(Unavailable) -> Library {
        guard cpuHasBF16 else {
            throw Unavailable(description: "bf16 precision needs a CPU with avx512_bf16 (/proc/cpuinfo lacks it); use fp32")
        }
        let candidates = libraryCandidates()
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw Unavailable(description: "bf16 precision needs OpenBLAS with cblas_sbgemm: run tools/build_openblas_bf16 "
                              + "(looked for \(candidates.joined(separator: ", ")); or set BERT_BF16_BLAS to a library)")
        }
        // DEEPBIND: the library's calls to its own exported names (gotoblas_init, sgemv_thread_n, ...)
        // must reach its own code; by default they bind to the system OpenBLAS, loaded first.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) else {
            throw Unavailable(description: "\(path): cannot load: \(String(cString: dlerror())); re-run tools/build_openblas_bf16 --force")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(Unavailable) -> T {
            guard let p = dlsym(handle, name) else {
                throw Unavailable(description: "\(path) has no \(name); re-run tools/build_openblas_bf16 --force")
            }
            return unsafeBitCast(p, to: type)
        }
        let lib = Library(path: path,
                          core: try symbol("openblas_get_corename", as: CoreName.self)().map { String(cString: $0) } ?? "unknown",
                          sbgemm: try symbol("cblas_sbgemm", as: Sbgemm.self),
                          setThreads: try symbol("openblas_set_num_threads", as: SetThreads.self))
        lib.setThreads(threads)
        return lib
    }

    static func libraryCandidates() -> [String] {
        if let env = ProcessInfo.processInfo.environment["BERT_BF16_BLAS"], !env.isEmpty { return [env] }
        let relative = ".local/openblas-bf16/libopenblas_bf16.so"
        var roots = [FileManager.default.currentDirectoryPath]
        // .build/<triple>/release/bert (or the test bundle) → the checkout
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            dir = dir.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                roots.append(dir.path)
                break
            }
        }
        var seen = Set<String>()
        return roots.map { URL(fileURLWithPath: $0).appendingPathComponent(relative).standardizedFileURL.path }
            .filter { seen.insert($0).inserted }
    }

    public static var cpuHasBF16Flag: Bool { cpuHasBF16 }

    static let cpuHasBF16: Bool = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512_bf16") }
    }()
}

/// A weight matrix (rows, cols) rounded once to bf16, in memory the matrix owns.
public final class BF16Matrix: @unchecked Sendable {
    public let rows: Int, cols: Int
    public let pointer: UnsafeMutablePointer<UInt16>

    public init(converting x: UnsafePointer<Float>, rows: Int, cols: Int) {
        (self.rows, self.cols) = (rows, cols)
        pointer = .allocate(capacity: rows * cols)
        BF16.convert(x, into: pointer, count: rows * cols)
    }

    deinit { pointer.deallocate() }
}

/// Per-thread memory for activations rounded to bf16: each batch worker reuses its own,
/// grown to the largest product it has seen, freed when the thread ends.
private final class ThreadBuffer {
    private var pointer: UnsafeMutablePointer<UInt16>?
    private var capacity = 0

    func reserve(_ count: Int) -> UnsafeMutablePointer<UInt16> {
        if count > capacity {
            pointer?.deallocate()
            pointer = .allocate(capacity: count)
            capacity = count
        }
        return pointer!
    }

    deinit { pointer?.deallocate() }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { p in
            if let p { Unmanaged<ThreadBuffer>.fromOpaque(p).release() }
        }
        return key
    }()

    static var current: ThreadBuffer {
        if let p = pthread_getspecific(key) { return Unmanaged<ThreadBuffer>.fromOpaque(p).takeUnretainedValue() }
        let buffer = ThreadBuffer()
        pthread_setspecific(key, Unmanaged.passRetained(buffer).toOpaque())
        return buffer
    }
}
