/// SIMD helpers the element-wise kernels share: 16 floats (one AVX-512 register) at a time.
@usableFromInline
enum Vector {
    @inline(__always) @usableFromInline
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) @usableFromInline
    static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
        load(UnsafePointer(p))
    }

    @inline(__always) @usableFromInline
    static func store(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// The greatest lane, by halves (four maxima deep). SIMD's own `max()` compiles to a loop
    /// over the lanes with a branch and a spill per lane (160 instructions).
    @inline(__always) @usableFromInline
    static func greatest(_ v: SIMD16<Float>) -> Float {
        var a = SIMD8<Float>(), b = SIMD4<Float>()
        for l in 0..<8 { a[l] = v[l + 8] > v[l] ? v[l + 8] : v[l] }
        for l in 0..<4 { b[l] = a[l + 4] > a[l] ? a[l + 4] : a[l] }
        let c = SIMD2<Float>(b[2] > b[0] ? b[2] : b[0], b[3] > b[1] ? b[3] : b[1])
        return c[1] > c[0] ? c[1] : c[0]
    }

    /// The least lane, as `greatest`.
    @inline(__always) @usableFromInline
    static func least(_ v: SIMD16<Float>) -> Float {
        var a = SIMD8<Float>(), b = SIMD4<Float>()
        for l in 0..<8 { a[l] = v[l + 8] < v[l] ? v[l + 8] : v[l] }
        for l in 0..<4 { b[l] = a[l + 4] < a[l] ? a[l + 4] : a[l] }
        let c = SIMD2<Float>(b[2] < b[0] ? b[2] : b[0], b[3] < b[1] ? b[3] : b[1])
        return c[1] < c[0] ? c[1] : c[0]
    }

    /// Whether any lane is nonzero: one OR across the lanes (`!=` on the vector compares lane by lane).
    @inline(__always) @usableFromInline
    static func anyNonzero(_ v: SIMD16<Int32>) -> Bool {
        var o: Int32 = 0
        for l in 0..<16 { o |= v[l] }
        return o != 0
    }

    /// Float(v) lane by lane, exactly as the scalar conversion rounds. Written as a loop over
    /// the lanes, which LLVM makes one vcvtdq2ps: the generic `SIMD16<Float>(v)` stays a call
    /// that passes the vector in four pieces (a third of int8's dequantization).
    @inline(__always) @usableFromInline
    static func float(_ v: SIMD16<Int32>) -> SIMD16<Float> {
        var f = SIMD16<Float>()
        for l in 0..<16 { f[l] = Float(v[l]) }
        return f
    }

    /// Calls `body` at every multiple of 16 below the last whole chunk, then `tail` for the rest.
    @inline(__always) @usableFromInline
    static func forEachChunk(count: Int, _ body: (Int) -> Void, tail: (Int) -> Void) {
        var i = 0
        while i + 16 <= count { body(i); i += 16 }
        while i < count { tail(i); i += 1 }
    }

    @inline(__always) @usableFromInline
    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var rest: Float = 0
        forEachChunk(count: count) { acc += load(p + $0) } tail: { rest += p[$0] }
        return acc.sum() + rest
    }

    @inline(__always) @usableFromInline
    static func sum(_ p: UnsafeMutablePointer<Float>, count: Int) -> Float {
        sum(UnsafePointer(p), count: count)
    }

    /// Lane-wise minimum and maximum, one compare and one blend each: a's lane wherever either
    /// lane is NaN, so a NaN in a stays and a NaN in b is dropped (the stdlib's pointwiseMin/Max
    /// follow IEEE 754 minimum's rules for NaN lane by lane, which compiles to a scalar loop).
    @inline(__always) @usableFromInline
    static func minimum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .< a) }

    @inline(__always) @usableFromInline
    static func maximum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .> a) }

    @inline(__always) @usableFromInline
    static func max(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>(repeating: -.infinity)
        var rest = -Float.infinity
        forEachChunk(count: count) { acc = maximum(acc, load(p + $0)) } tail: { rest = Swift.max(rest, p[$0]) }
        return Swift.max(greatest(acc), rest)
    }

    /// Applies `f` to every 16-float chunk of x[0..<count] in place; the last partial chunk
    /// goes through `f` too, padded with `pad`, and the padding is never stored.
    @inline(__always) @usableFromInline
    static func map(_ x: UnsafeMutablePointer<Float>, count: Int, pad: Float = 0, _ f: (SIMD16<Float>) -> SIMD16<Float>) {
        var i = 0
        while i + 16 <= count { store(f(load(x + i)), to: x + i); i += 16 }
        if i < count {
            var v = SIMD16<Float>(repeating: pad)
            for j in 0..<(count - i) { v[j] = x[i + j] }
            v = f(v)
            for j in 0..<(count - i) { x[i + j] = v[j] }
        }
    }

    /// g[i] = f(x-chunk, g-chunk) for every 16-float chunk, in place on g; the last partial
    /// chunk is padded with zeros (in both) and the padding is never stored.
    @inline(__always) @usableFromInline
    static func update(_ g: UnsafeMutablePointer<Float>, with x: UnsafePointer<Float>, count: Int,
                       _ f: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>) {
        var i = 0
        while i + 16 <= count { store(f(load(x + i), load(g + i)), to: g + i); i += 16 }
        if i < count {
            var (xv, gv) = (SIMD16<Float>(), SIMD16<Float>())
            for j in 0..<(count - i) { (xv[j], gv[j]) = (x[i + j], g[i + j]) }
            gv = f(xv, gv)
            for j in 0..<(count - i) { g[i + j] = gv[j] }
        }
    }
}
