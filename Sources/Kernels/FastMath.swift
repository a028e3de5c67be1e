/// exp, erf and tanh on 16 floats at a time, for softmax and GELU: libm's scalar expf and
/// erff were a fifth of the encoder's time. Each is within a few 1e-7 of the Double
/// function (KernelsTests checks it over a dense grid).
public enum FastMath {
    public typealias V = SIMD16<Float>
    typealias Bits = SIMD16<UInt32>

    /// e^x, relative error ≲ 2e-7; inputs below −87.3 give ≈ 0, above 88.3 are clamped.
    @inline(__always)
    public static func exp(_ x: V) -> V {
        let x = Vector.minimum(Vector.maximum(x, V(repeating: -87.3)), V(repeating: 88.3))
        // n = round(x / ln 2) through the 1.5·2²³ trick: n lands in the low mantissa bits.
        let magic = V(repeating: 12_582_912)
        let shifted = magic.addingProduct(x, V(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = x.addingProduct(n, V(repeating: -0.693_359_375))
        r = r.addingProduct(n, V(repeating: 2.121_944_4e-4))
        var p = V(repeating: 1.987_569_15e-4)
        p = V(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = V(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = V(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = V(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = V(repeating: 5.000_000_1e-1).addingProduct(p, r)
        p = (r + 1).addingProduct(p, r * r)
        let scale = (unsafeBitCast(shifted, to: Bits.self) &+ 127) &<< 23
        return p * unsafeBitCast(scale, to: V.self)
    }

    /// erf(x), absolute error ≲ 2e-7: x·P(x²) below 1.25, 1 − Q(|x| − 2.625) up to 4, ±1 past it.
    @inline(__always)
    public static func erf(_ x: V) -> V {
        let bits = unsafeBitCast(x, to: Bits.self)
        let sign = bits & Bits(repeating: 0x8000_0000)
        let a = unsafeBitCast(bits & Bits(repeating: 0x7FFF_FFFF), to: V.self)
        let t = a * a
        var p = V(repeating: 6.245_975_964_702_666e-05)
        p = V(repeating: -0.000_744_052_347_727_119_9).addingProduct(p, t)
        p = V(repeating: 0.005_111_240_781_843_662).addingProduct(p, t)
        p = V(repeating: -0.026_804_530_993_103_98).addingProduct(p, t)
        p = V(repeating: 0.112_821_020_185_947_42).addingProduct(p, t)
        p = V(repeating: -0.376_124_471_426_010_13).addingProduct(p, t)
        p = V(repeating: 1.128_379_106_521_606_4).addingProduct(p, t)
        let small = a * p
        let u = Vector.minimum(a, V(repeating: 4)) - 2.625
        var q = V(repeating: -1.988_481_699_299_882_2e-07)
        q = V(repeating: -2.027_950_131_378_02e-06).addingProduct(q, u)
        q = V(repeating: 8.926_959_708_333_015e-06).addingProduct(q, u)
        q = V(repeating: 4.457_369_414_012_646e-06).addingProduct(q, u)
        q = V(repeating: -7.713_430_386_502_296e-05).addingProduct(q, u)
        q = V(repeating: 0.000_160_718_656_843_528_15).addingProduct(q, u)
        q = V(repeating: -3.207_716_508_768_499e-05).addingProduct(q, u)
        q = V(repeating: -0.000_686_850_515_194_237_2).addingProduct(q, u)
        q = V(repeating: 0.002_245_693_234_726_786_6).addingProduct(q, u)
        q = V(repeating: -0.004_215_626_977_384_09).addingProduct(q, u)
        q = V(repeating: 0.005_414_544_139_057_398).addingProduct(q, u)
        q = V(repeating: -0.004_890_799_056_738_615).addingProduct(q, u)
        q = V(repeating: 0.003_013_151_232_153_177_3).addingProduct(q, u)
        q = V(repeating: -0.001_147_857_401_520_013_8).addingProduct(q, u)
        q = V(repeating: 0.000_205_376_025_405_712_43).addingProduct(q, u)
        let large = 1 - q
        let magnitude = small.replacing(with: large, where: a .>= 1.25)
        return unsafeBitCast(unsafeBitCast(magnitude, to: Bits.self) | sign, to: V.self)
    }

    /// tanh(x) = sign(x)·(1 − 2 / (e^{2|x|} + 1)), absolute error ≲ 3e-7.
    @inline(__always)
    public static func tanh(_ x: V) -> V {
        let bits = unsafeBitCast(x, to: Bits.self)
        let sign = bits & Bits(repeating: 0x8000_0000)
        let a = unsafeBitCast(bits & Bits(repeating: 0x7FFF_FFFF), to: V.self)
        let e = exp(Vector.minimum(a + a, V(repeating: 40)))
        let magnitude = 1 - 2 / (e + 1)
        return unsafeBitCast(unsafeBitCast(magnitude, to: Bits.self) | sign, to: V.self)
    }
}
