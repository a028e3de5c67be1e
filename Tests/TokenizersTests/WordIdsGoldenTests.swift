import Foundation
import Testing
@testable import Tokenizers

/// What tools/golden/word_ids.py wrote from the tokenizers library.
struct WordIdsRecord: Decodable {
    let tokenizer: String
    let text: String
    let offsets: [[Int]]
    let wordIds: [Int]
}

@Suite struct WordIdsGoldenTests {
    /// Every committed tokenizer.json on six texts: our tokens' offsets as tokenizers', and
    /// `wordIndices(offsets:in:)` tokenizers' word ids, exactly.
    @Test func wordIdsMatchTokenizers() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let records = try decoder.decode([WordIdsRecord].self, from: Data(contentsOf: TokenizerJSONTests.resources
            .appending(path: "tokenizer_json_word_ids_golden.json")))
        #expect(records.count >= 40)
        var tokenizers: [String: TokenizerJSON] = [:]
        for r in records {
            let tokenizer = try tokenizers[r.tokenizer] ?? TokenizerJSONTests.load(r.tokenizer)
            tokenizers[r.tokenizer] = tokenizer
            let e = try tokenizer.encode(r.text, pair: nil, maxLength: Int.max, truncation: .longestFirst)
            let content = e.offsets.indices.filter { e.specialTokensMask[$0] == 0 }.map { e.offsets[$0] }
            #expect(content.map { [$0.lowerBound, $0.upperBound] } == r.offsets, "\(r.tokenizer) \(r.text.debugDescription)")
            #expect(tokenizer.wordIndices(offsets: content, in: r.text) == r.wordIds, "\(r.tokenizer) \(r.text.debugDescription)")
        }
    }
}
