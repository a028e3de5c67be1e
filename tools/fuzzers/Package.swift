// swift-tools-version: 6.0
// libFuzzer targets for the runtime's parsers, built by tools/fuzz with -sanitize=fuzzer,address
// (a package of their own, so the root package's `swift build` never sees them).
// Each target is one executable; FuzzSupport holds what they share.
import PackageDescription

let targets = ["safetensors", "config", "vocabulary", "sentencepiece-model",
               "wordpiece-encode", "sentencepiece-encode", "dataset", "tokenizer-json"]

let package = Package(
    name: "BERTFuzzers",
    dependencies: [.package(name: "BERT", path: "../..")],
    targets: [
        .target(name: "CFuzzer", path: "Sources/CFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzer", .product(name: "BERT", package: "BERT")],
                path: "Sources/FuzzSupport"),
    ] + targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["FuzzSupport", .product(name: "BERT", package: "BERT")],
            path: "Sources/\(name)"
        )
    }
)
