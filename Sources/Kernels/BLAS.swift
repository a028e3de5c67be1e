import COpenBLAS
import Foundation

/// The OpenBLAS library the kernels run on: which core kernel it picked and how many
/// threads it uses. Benchmarks print both.
public enum BLAS {
    /// The kernel family OpenBLAS runs (`Haswell`, `SkylakeX`, `Zen`, ...), after `selection`.
    /// An inherited `OPENBLAS_CORETYPE` overrides the detection.
    public static var coreName: String {
        prepare()
        return currentCore
    }

    /// Threads OpenBLAS uses for one product.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Makes sure `selection` has run; every product calls it first (setting the thread
    /// count does not need it: the re-initialization leaves that alone).
    @inlinable public static func prepare() { _ = selection }

    /// OpenBLAS's choice of kernels, corrected once, before the first product.
    ///
    /// Debian's OpenBLAS 0.3.21 picks its kernels by CPU model when it loads. It does not
    /// know CPUs newer than itself: on Intel's Emerald Rapids (family 6, model 207), for one,
    /// it falls back, silently, to its Prescott (SSE3) kernels. There a 1536³ sgemm runs at
    /// 21–26 GFLOP/s on one core, against 108–148 with the SkylakeX kernels, and an embedding
    /// pass is 3.1–4.3× slower. When that happened and `OPENBLAS_CORETYPE` is unset (the user did not
    /// choose), OpenBLAS is initialized again with `OPENBLAS_CORETYPE` set to the newest
    /// family this CPU runs: SkylakeX with AVX-512, Haswell with AVX2. The re-initialization
    /// is OpenBLAS's own: `gotoblas_dynamic_quit` and `gotoblas_dynamic_init` (exported by its
    /// DYNAMIC_ARCH builds, Debian's; looked up at run time, so another OpenBLAS only skips
    /// this). The variable is unset again afterwards.
    public static let selection: Selection = select()

    /// What `selection` found and did.
    public struct Selection: Sendable {
        /// The family OpenBLAS picked by itself.
        public let detected: String
        /// The family it runs now; differs from `detected` only when re-selected.
        public let running: String
        public var reselected: Bool { detected != running }
    }

    /// The newest OpenBLAS kernel family this CPU (and its OS) runs, by oneDNN's detection:
    /// SkylakeX (AVX-512), Haswell (AVX2), or nil.
    public static var cpuFamily: String? {
        DNNL.hasAVX512Core ? "SkylakeX" : DNNL.hasAVX2 ? "Haswell" : nil
    }

    private static var currentCore: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    private static func select() -> Selection {
        let detected = currentCore
        guard detected == "Prescott", getenv("OPENBLAS_CORETYPE") == nil,
              let family = cpuFamily,
              let quit = dlsym(nil, "gotoblas_dynamic_quit"),
              let initialize = dlsym(nil, "gotoblas_dynamic_init")
        else { return Selection(detected: detected, running: detected) }
        typealias Entry = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", family, 1)
        unsafeBitCast(quit, to: Entry.self)()
        unsafeBitCast(initialize, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return Selection(detected: detected, running: currentCore)
    }
}
