/// XXH64 (Yann Collet's xxHash, 64-bit), the checksum safetensors files written here carry:
/// about as fast as memory can be read, so verifying an 87 MB model at load costs a few ms
/// of hashing. Streaming: feed the bytes in any pieces, then take the digest.
///
///     var h = XXH64()
///     h.update(UnsafeRawBufferPointer(...)); h.update(...)
///     h.digest()   // == XXH64.naive(allBytes)
public struct XXH64: Sendable {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private let seed: UInt64
    private var v1, v2, v3, v4: UInt64
    private var length = 0
    /// The bytes of an unfinished 32-byte stripe.
    private var pending: [UInt8] = []

    public init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ Self.p1 &+ Self.p2
        v2 = seed &+ Self.p2
        v3 = seed
        v4 = seed &- Self.p1
        pending.reserveCapacity(32)
    }

    @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always) static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* p2, 31) &* p1
    }

    @inline(__always) static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
        (acc ^ round(0, v)) &* p1 &+ p4
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, !bytes.isEmpty else { return }
        var n = bytes.count
        length += n
        if !pending.isEmpty {
            let take = min(32 - pending.count, n)
            pending.append(contentsOf: UnsafeRawBufferPointer(start: p, count: take))
            p += take
            n -= take
            guard pending.count == 32 else { return }
            pending.withUnsafeBytes { stripes($0.baseAddress!, 1) }
            pending.removeAll(keepingCapacity: true)
        }
        let whole = n / 32
        if whole > 0 { stripes(p, whole) }
        pending.append(contentsOf: UnsafeRawBufferPointer(start: p + 32 * whole, count: n - 32 * whole))
    }

    /// Folds `count` 32-byte stripes at `p` into the four lanes (the hot loop).
    private mutating func stripes(_ p: UnsafeRawPointer, _ count: Int) {
        var (a, b, c, d) = (v1, v2, v3, v4)
        for s in 0..<count {
            let q = p + 32 * s
            a = Self.round(a, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
            b = Self.round(b, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            c = Self.round(c, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            d = Self.round(d, UInt64(littleEndian: q.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
        (v1, v2, v3, v4) = (a, b, c, d)
    }

    /// The hash of every byte given so far.
    public func digest() -> UInt64 {
        var h: UInt64
        if length >= 32 {
            h = Self.rotl(v1, 1) &+ Self.rotl(v2, 7) &+ Self.rotl(v3, 12) &+ Self.rotl(v4, 18)
            h = Self.merge(Self.merge(Self.merge(Self.merge(h, v1), v2), v3), v4)
        } else {
            h = seed &+ Self.p5
        }
        h &+= UInt64(length)
        return Self.finish(h, pending)
    }

    /// The last 0–31 bytes, then the avalanche.
    static func finish(_ start: UInt64, _ tail: [UInt8]) -> UInt64 {
        var h = start
        var i = 0
        func le(_ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(tail[i + $1]) << (8 * UInt64($1)) } }
        while i + 8 <= tail.count {
            h = rotl(h ^ round(0, le(8)), 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= tail.count {
            h = rotl(h ^ (le(4) &* p1), 23) &* p2 &+ p3
            i += 4
        }
        while i < tail.count {
            h = rotl(h ^ (UInt64(tail[i]) &* p5), 11) &* p1
            i += 1
        }
        h ^= h >> 33; h &*= p2
        h ^= h >> 29; h &*= p3
        h ^= h >> 32
        return h
    }

    /// The naive twin: the specification, one call over all the bytes, every word assembled
    /// byte by byte. Tests check `update`/`digest` against it.
    public static func naive(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        func word(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        var i = 0
        var h: UInt64
        if bytes.count >= 32 {
            var v = [seed &+ p1 &+ p2, seed &+ p2, seed, seed &- p1]
            while i + 32 <= bytes.count {
                for lane in 0..<4 { v[lane] = round(v[lane], word(i + 8 * lane)) }
                i += 32
            }
            h = rotl(v[0], 1) &+ rotl(v[1], 7) &+ rotl(v[2], 12) &+ rotl(v[3], 18)
            for lane in 0..<4 { h = merge(h, v[lane]) }
        } else {
            h = seed &+ p5
        }
        h &+= UInt64(bytes.count)
        return finish(h, Array(bytes[i...]))
    }
}

extension XXH64 {
    /// The digest as the 16 lowercase hex digits files record.
    public static func hex(_ digest: UInt64) -> String {
        let s = String(digest, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
