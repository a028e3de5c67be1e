import Foundation
import Kernels

/// The arithmetic of the encoder layers' weight products (query, key, value, attention
/// output, intermediate, output). Everything else (embeddings, attention scores, softmax,
/// LayerNorm, pooling, heads) is fp32 either way.
///
///     let embedder = try SentenceEmbedder(model: "all-MiniLM-L6-v2", precision: .bf16)
///
/// - `fp32`: the default; matches PyTorch within 1e-5 on embeddings.
/// - `bf16`: weights rounded once to bfloat16 at load, activations before each product,
///   fp32 accumulation (oneDNN matmul, avx512_bf16): about twice the product rate,
///   embeddings within cosine 0.9999 of fp32 (see `BF16` in Kernels).
/// - `int8`: weights quantized once at load per output channel (Int8, symmetric),
///   activations per row before each product (UInt8 with a zero point), Int32 sums on VNNI
///   (oneDNN, avx512_vnni), dequantized to fp32 (see `Int8Products` in Kernels).
public enum Precision: String, Codable, Sendable, CaseIterable {
    case fp32, bf16, int8

    /// `BERT_PRECISION` when set (fp32, bf16 or int8), else fp32.
    public static func fromEnvironment() throws -> Precision {
        guard let value = ProcessInfo.processInfo.environment["BERT_PRECISION"], !value.isEmpty else { return .fp32 }
        guard let precision = Precision(rawValue: value.lowercased()) else {
            throw ModelError.invalidOption(name: "BERT_PRECISION", reason: "is '\(value)'; use fp32, bf16 or int8")
        }
        return precision
    }

    /// Throws, saying what to do, when this precision cannot run on this machine.
    public func check() throws {
        do {
            switch self {
            case .fp32: return
            case .bf16: try BF16.check()
            case .int8: try Int8Products.check()
            }
        } catch { throw ModelError.precisionUnavailable(precision: rawValue, reason: error.description) }
    }
}

extension Precision {
    /// Throws, saying why, when training cannot run in this precision here: fine-tuning runs
    /// in fp32 or bf16 (never int8), and bf16 needs its CPU support.
    func checkForTraining() throws {
        guard self != .int8 else { throw FinetuneError.invalidOption("--precision int8: fine-tuning runs in fp32 or bf16") }
        do { try check() } catch { throw FinetuneError.invalidOption("\(error)") }
    }
}
