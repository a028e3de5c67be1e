/// Errors are one line, but they quote what they found (a JSON key, a CSV header, a label),
/// and input can hold line breaks: these are escaped where an error shows them.
/// (`package`: BERT uses it too.)
extension String {
    /// The string with control characters and line or paragraph separators written as
    /// `\n`, `\r`, `\t` or `\u{…}`.
    package var oneLine: String {
        guard unicodeScalars.contains(where: Self.breaksLine) else { return self }
        var out = ""
        for u in unicodeScalars {
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Self.breaksLine(u): out += "\\u{\(String(u.value, radix: 16))}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    private static func breaksLine(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }
}
