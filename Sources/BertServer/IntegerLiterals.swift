import Foundation

/// JSON integers as JSON Schema (OpenAPI 3.0) and TEI's serde read them: `5` is one, `5.0` and
/// `5e0` are not, though Foundation's JSONDecoder turns all three into the Int 5. The body's
/// parse by JSONSerialization keeps the difference (an integer literal is an integer NSNumber,
/// any other a double); `JSONResponse.decode` hands it to the decoder in its userInfo, and the
/// integer fields check their own values in it.
enum IntegerLiterals {
    /// The request body as JSONSerialization parsed it.
    final class Tree: @unchecked Sendable {  // read-only after init
        let root: Any
        init(_ root: Any) { self.root = root }
    }
    static let key = CodingUserInfoKey(rawValue: "bert.requestTree")!

    /// Throws unless every number in the value at `decoder`'s coding path was written as an
    /// integer (no fraction, no exponent). Without a tree (a decoder not made by
    /// `JSONResponse.decode`) it checks nothing.
    static func check(_ decoder: any Decoder) throws {
        guard let tree = decoder.userInfo[key] as? Tree else { return }
        var node: Any? = tree.root
        for key in decoder.codingPath {
            if let i = key.intValue {
                node = (node as? [Any]).flatMap { $0.indices.contains(i) ? $0[i] : nil }
            } else {
                node = (node as? [String: Any])?[key.stringValue]
            }
        }
        guard let node, integers(node) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "expected integers, written without a fraction or an exponent"))
        }
    }

    private static func integers(_ value: Any) -> Bool {
        if let list = value as? [Any] { return list.allSatisfy(integers) }
        if let number = value as? NSNumber {  // (not `is Bool`, which 0.0 and 1.0 also pass)
            let type = number.objCType.pointee  // "d" or "f" for a literal with a fraction or exponent
            return type != UInt8(ascii: "d") && type != UInt8(ascii: "f")
        }
        return true
    }
}

/// An integer field of a request (`dimensions`, `top_n`): refused when written as `5.0`.
struct JSONInteger: Decodable, Sendable {
    var value: Int
    init(from decoder: any Decoder) throws {
        try IntegerLiterals.check(decoder)
        value = try decoder.singleValueContainer().decode(Int.self)
    }
}

/// Token ids: `[Int]` whose every element was written as an integer.
struct TokenIDs: Decodable, Sendable {
    var ids: [Int]
    init(from decoder: any Decoder) throws {
        ids = try decoder.singleValueContainer().decode([Int].self)
        try IntegerLiterals.check(decoder)
    }
}
