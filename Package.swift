// swift-tools-version: 6.0
import PackageDescription

// x86-64-v3 (AVX2, FMA: Haswell and Zen 1 onward): without it, every SIMD `addingProduct` in the
// kernels (exp, erf, GELU, LayerNorm) is a call to libm's fmaf per lane, 30% of a training step.
// No errno from math functions: with it, every square root keeps a call to libm's sqrtf for
// negative inputs, and a vector's square root is sixteen scalar ones (AdamW was 5% of a step).
#if arch(x86_64)
let codegen: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3", "-Xcc", "-fno-math-errno"])]
#else
let codegen: [SwiftSetting] = []
#endif

let package = Package(
    name: "BERT",
    products: [
        .library(name: "BERT", targets: ["BERT"]),
        .executable(name: "bert", targets: ["BertCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The server's (BertServer only: the BERT library depends on none of these).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // oneDNN (Debian's libdnnl-dev, built on OpenMP) behind C functions: the bf16 and int8
        // weight products, weights prepacked once.
        .target(
            name: "CDNNL",
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]
        ),
        // The kernels are optimized in debug builds too: their SIMD16 code unoptimized is a call
        // per vector operation, which made the test suite's fine-tuning runs minutes longer.
        .target(name: "Kernels", dependencies: ["COpenBLAS", "CDNNL"],
                swiftSettings: codegen + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // libsentencepiece (C++) behind extern "C" functions: no other target needs C++ interop.
        .target(
            name: "CSentencePiece",
            linkerSettings: [.linkedLibrary("sentencepiece")]
        ),
        .target(name: "Tokenizers", dependencies: ["CSentencePiece"], swiftSettings: codegen),
        .target(name: "BERT", dependencies: ["Kernels", "Tokenizers"], swiftSettings: codegen),
        .target(
            name: "BertServer",
            dependencies: [
                "BERT",
                "Kernels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: codegen
        ),
        .executableTarget(
            name: "BertCLI",
            dependencies: [
                "BERT",
                "BertServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: codegen
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], exclude: ["Resources"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], exclude: ["Resources"]),
        .testTarget(name: "BERTTests", dependencies: ["BERT"], exclude: ["Resources"]),
        // Runs the built `bert` executable (a dependency, so `swift test` builds it first).
        .testTarget(name: "BertCLITests", dependencies: ["BertCLI"]),
        // Starts the built `bert serve` on a loopback port and talks HTTP to it.
        .testTarget(name: "BertServerTests", dependencies: ["BertCLI", "BERT"], exclude: ["Resources"]),
    ],
    cxxLanguageStandard: .cxx17
)
