import COpenBLAS

/// The OpenBLAS library the kernels run on: which core kernel it picked and how many
/// threads it uses. Benchmarks print both.
public enum BLAS {
    /// The kernel family OpenBLAS selected (`Haswell`, `SkylakeX`, `Zen`, ...).
    /// An inherited `OPENBLAS_CORETYPE` overrides the detection.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Threads OpenBLAS uses for one product.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
