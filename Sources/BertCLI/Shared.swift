import ArgumentParser
import BERT
import Foundation

/// `--model`, shared by every verb.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A model directory, or the name of one under models/.")
    var model: String?

    func directory(default name: String) throws -> ModelDirectory {
        try ModelDirectory(resolving: model ?? name)
    }
}

/// `--precision`, for the verbs that run the encoder forward (finetune has its own: fp32 or bf16).
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Arithmetic of the encoder's weight products: fp32, bf16 (cosine ≥ 0.9999 to fp32) or int8 (fastest, cosine ≥ 0.999).",
        discussion: "Default: $BERT_PRECISION, else fp32. bf16 needs a CPU with avx512_bf16, int8 one with avx512_vnni (both run on oneDNN). "
            + "bf16 is faster than fp32 where the CPU's bf16 dot products outrun its fp32 ones (AMD Zen 4 and 5), "
            + "not on Intel's Emerald Rapids without AMX, where it measured slower. The cosines are the least over the test sentences."))
    var precision: Precision?
}

extension Precision: ExpressibleByArgument {}

/// The texts to work on: the arguments, or one per line from standard input.
struct InputOptions: ParsableArguments {
    @Argument(help: "Texts to process. Without any, one text per line is read from standard input.")
    var texts: [String] = []

    /// Calls `body` with the inputs in order, in chunks of at most `chunk`, so that long
    /// standard input streams through in bounded memory.
    func forEachChunk(of chunk: Int, _ body: ([String]) throws -> Void) throws {
        if !texts.isEmpty { return try body(texts) }
        var lines: [String] = []
        while let line = readLine(strippingNewline: true) {
            lines.append(line)
            if lines.count == chunk { try body(lines); lines.removeAll(keepingCapacity: true) }
        }
        if !lines.isEmpty { try body(lines) }
    }
}

/// Runs `body`, turning any error into one line on stderr and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("bert: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// One line of output: written and flushed at once, so pipes see results as they come.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

enum JSON {
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func array<T>(_ values: [T], _ item: (T) -> String) -> String {
        "[" + values.map(item).joined(separator: ",") + "]"
    }
}
