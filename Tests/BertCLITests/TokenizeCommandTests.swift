import Foundation
import Testing

/// `bert tokenize` as a user runs it, against the WordPiece golden records (Hugging Face's
/// BertTokenizerFast): pairs, type ids, [SEP] placement, truncation strategies, offsets.
struct TokenizeCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    struct Record: Decodable {
        let config: String
        let text: String
        let pair: String?
        let maxLength: Int?
        let strategy: String
        let ids: [Int]?
        let typeIds: [Int]?
        let offsets: [[Int]]?
    }

    struct Output: Decodable, Equatable {
        let ids: [Int]
        let tokens: [String]
        let typeIds: [Int]
        let offsets: [[Int]]
    }

    /// The `bert` executable built beside this test bundle.
    static func bert() throws -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("bert")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "bert beside \(CommandLine.arguments[0]): run swift build"])
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = try bert()
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    static func records() throws -> [Record] {
        struct File: Decodable { let records: [Record] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let url = root.appendingPathComponent("Tests/TokenizersTests/Resources/wordpiece_golden.json")
        return try decoder.decode(File.self, from: Data(contentsOf: url)).records
    }

    @Test func pairsAndTruncationMatchHuggingFace() throws {
        let pairs = try Self.records().filter { $0.config == "uncased" && $0.pair?.isEmpty == false && $0.ids != nil }
        let chosen = [pairs.first { $0.maxLength == nil }, pairs.first { $0.maxLength == 11 && $0.strategy == "longest_first" },
                      pairs.first { $0.maxLength == 16 && $0.strategy == "only_first" },
                      pairs.first { $0.maxLength == 16 && $0.strategy == "only_second" }].compactMap { $0 }
        #expect(chosen.count == 4)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        for r in chosen {
            var arguments = ["tokenize", "--model", "all-MiniLM-L6-v2", "--pair", r.pair!, "--truncation", r.strategy]
            if let m = r.maxLength { arguments += ["--max-length", String(m)] }
            let result = try Self.run(arguments + [r.text])
            #expect(result.status == 0, "\(result.stderr)")
            let output = try decoder.decode(Output.self, from: Data(result.stdout.utf8))
            #expect(output.ids == r.ids && output.typeIds == r.typeIds && output.offsets == r.offsets,
                    "\(r.text) + \(r.pair!) \(r.maxLength.map(String.init) ?? "") \(r.strategy)")
            #expect(output.tokens.filter { $0 == "[SEP]" }.count == 2)
        }
    }

    @Test func emptyLineFromStandardInputIsClsSep() throws {
        let process = Process()
        process.executableURL = try Self.bert()
        process.arguments = ["tokenize", "--model", "all-MiniLM-L6-v2"]
        process.currentDirectoryURL = Self.root
        let input = Pipe(), out = Pipe()
        process.standardInput = input
        process.standardOutput = out
        try process.run()
        input.fileHandleForWriting.write(Data("\nhello\n".utf8))
        try input.fileHandleForWriting.close()
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        process.waitUntilExit()
        #expect(lines.count == 2)
        #expect(lines.first == #"{"ids":[101,102],"tokens":["[CLS]","[SEP]"],"type_ids":[0,0],"offsets":[[0,0],[0,0]]}"#)
    }

    @Test func onlySecondWithoutPairIsAOneLineError() throws {
        let result = try Self.run(["tokenize", "--model", "all-MiniLM-L6-v2", "--max-length", "4", "--truncation", "only_second",
                                   "a sentence far too long for four tokens"])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("only_second"), "\(result.stderr)")
    }
}
