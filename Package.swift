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
        .target(name: "Tokenizers"),
        .target(name: "BERT", dependencies: ["Kernels", "Tokenizers"]),
        .executableTarget(
            name: "BertCLI",
            dependencies: [
                "BERT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], exclude: ["Resources"]),
        .testTarget(name: "BERTTests", dependencies: ["BERT"], exclude: ["Resources"]),
    ]
)
