import Testing
import Tokenizers

@Suite struct WindowsTests {
    func encoding(content: Int) -> Encoding {
        let ids = [101] + (0..<content).map { 1000 + $0 } + [102]
        return Encoding(ids: ids, tokens: ids.map(String.init), typeIds: ids.map { _ in 0 },
                        attentionMask: ids.map { _ in 1 }, offsets: ids.indices.map { $0..<$0 + 1 })
    }

    @Test func aShortEncodingIsItsOwnWindow() {
        let e = encoding(content: 5)
        #expect(e.windows(maxLength: 7, overlap: 2) == [e])
    }

    @Test func windowsOverlapAndCoverEverything() {
        let e = encoding(content: 10)
        let w = e.windows(maxLength: 6, overlap: 1)  // 4 content tokens a window, step 3
        #expect(w.map(\.ids) == [
            [101, 1000, 1001, 1002, 1003, 102],
            [101, 1003, 1004, 1005, 1006, 102],
            [101, 1006, 1007, 1008, 1009, 102],
        ])
        #expect(w.allSatisfy { $0.count <= 6 })
        #expect(w[1].offsets[1] == 4..<5)
    }

    @Test func noOverlap() {
        let w = encoding(content: 5).windows(maxLength: 4, overlap: 0)
        #expect(w.map { $0.ids.dropFirst().dropLast() }.flatMap { $0 } == (0..<5).map { 1000 + $0 })
    }
}
