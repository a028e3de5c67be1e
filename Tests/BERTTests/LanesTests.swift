import Testing
@testable import BERT

/// The two-thread split of a lone batch: every part runs once per split, and a split returns
/// only when all its parts are done.
struct LanesTests {
    @Test func everyPartRunsOncePerSplit() throws {
        let lanes = try #require(Lanes().acquire())
        defer { lanes.release() }
        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: 7)
        defer { slots.deallocate() }
        for parts in [2, 3, 7] {
            slots.initialize(repeating: 0)
            for round in 1...2000 {
                lanes.split(parts) { part, lane in
                    precondition(lane == 0 || lane == 1)
                    slots[part] += 1
                }
                // all parts of this split are done when it returns
                #expect(slots.prefix(parts).allSatisfy { $0 == round })
            }
        }
        #expect(lanes.acquire() == nil, "one forward pass at a time")
    }

    @Test func columnsCoverTheRangeInBlocksOf16() {
        for n in [16, 100, 384, 1536] {
            let halves = (0..<2).map { Lanes.columns(n, part: $0, of: 2) }
            #expect(halves[0].lowerBound == 0 && halves[0].upperBound == halves[1].lowerBound && halves[1].upperBound == n)
            #expect(halves[0].count % 16 == 0)
        }
    }
}
