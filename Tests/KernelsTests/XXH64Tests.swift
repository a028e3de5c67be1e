import Foundation
import Kernels
import Testing

/// XXH64 against the reference C library (tools/golden/xxh64.py), and the streaming hash
/// against its naive twin on the same bytes cut into pieces of every size.
struct XXH64Tests {
    struct Case: Decodable { let length: Int; let k: Int; let seed: String; let digest: String }
    struct Golden: Decodable { let cases: [Case] }

    static func message(length n: Int, k: Int) -> [UInt8] {
        (0..<n).map { UInt8((($0 * 131) + n * 7 + k) % 256) }
    }

    @Test func matchesTheReferenceLibrary() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Resources/xxh64_golden.json")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        #expect(golden.cases.count == 212)
        for c in golden.cases {
            let bytes = Self.message(length: c.length, k: c.k)
            let seed = UInt64(c.seed)!
            var h = XXH64(seed: seed)
            bytes.withUnsafeBytes { h.update($0) }
            #expect(XXH64.hex(h.digest()) == c.digest, "length \(c.length) seed \(seed)")
            #expect(XXH64.hex(XXH64.naive(bytes, seed: seed)) == c.digest, "naive, length \(c.length)")
        }
    }

    @Test func streamingInPiecesEqualsTheNaiveTwin() {
        var rng = SystemRandomNumberGenerator()
        for n in [0, 1, 31, 32, 33, 63, 64, 65, 200, 1031] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let expected = XXH64.naive(bytes)
            for piece in [1, 3, 7, 8, 31, 32, 33, 100] {
                var h = XXH64()
                bytes.withUnsafeBytes { all in
                    var at = 0
                    while at < n {
                        let m = min(piece, n - at)
                        h.update(UnsafeRawBufferPointer(rebasing: all[at..<at + m]))
                        at += m
                    }
                }
                #expect(h.digest() == expected, "length \(n) in pieces of \(piece)")
            }
        }
    }
}
