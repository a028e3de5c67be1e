import Foundation
import Testing
@testable import BERT

/// Paths of the checkout, found from this file, so tests run from any directory.
enum Checkout {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let resources = root.appendingPathComponent("Tests/BERTTests/Resources")

    /// A converted model under models/; a missing one fails the test with what to run.
    static func model(_ name: String) throws -> ModelDirectory {
        let url = root.appendingPathComponent("models/\(name)")
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) else {
            throw SetupMissing(description: "models/\(name) is missing: run tools/setup first")
        }
        return try ModelDirectory(url: url)
    }
}

struct SetupMissing: Error, CustomStringConvertible { let description: String }

/// What tools/golden/encoder.py wrote from sentence-transformers and transformers.
struct MiniLMGolden: Decodable {
    let sentences: [String]
    let ids: [[Int]]
    let cosinePair: Double
    let maxLength: Int

    static func load() throws -> (MiniLMGolden, SafetensorsFile) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let json = try decoder.decode(Self.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("minilm_golden.json")))
        let tensors = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("minilm_golden.safetensors").path)
        return (json, tensors)
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
