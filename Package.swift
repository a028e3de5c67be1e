// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "BERT",
    products: [
        .library(name: "BERT", targets: ["BERT"]),
        .executable(name: "bert", targets: ["BertCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "Kernels", dependencies: ["COpenBLAS"]),
        // libsentencepiece (C++) behind extern "C" functions: no other target needs C++ interop.
        .target(
            name: "CSentencePiece",
            linkerSettings: [.linkedLibrary("sentencepiece")]
        ),
        .target(name: "Tokenizers", dependencies: ["CSentencePiece"]),
        .target(name: "BERT", dependencies: ["Kernels", "Tokenizers"]),
        .executableTarget(
            name: "BertCLI",
            dependencies: [
                "BERT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], exclude: ["Resources"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], exclude: ["Resources"]),
        .testTarget(name: "BERTTests", dependencies: ["BERT"], exclude: ["Resources"]),
        // Runs the built `bert` executable (a dependency, so `swift test` builds it first).
        .testTarget(name: "BertCLITests", dependencies: ["BertCLI"]),
    ],
    cxxLanguageStandard: .cxx17
)
