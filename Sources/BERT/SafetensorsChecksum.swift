import Foundation
import Kernels
import Tokenizers

/// The checksum SafetensorsWriter records in a file's `__metadata__` and SafetensorsFile
/// verifies on opening: XXH64 of every byte of the file, with the 16 digits of the checksum
/// itself read as "0". It covers the header too, so a flipped digit in a shape, an offset
/// or the fine-tuner's saved state is caught, not only damage to the tensors.
///
///     "__metadata__":{"checksum":"xxh64:3c5a…","finetune_state":…}
enum SafetensorsChecksum {
    static let key = "checksum"
    static let kind = "xxh64:"
    static let placeholder = String(repeating: "0", count: 16)
    /// How the writer serializes the entry (JSONSerialization, no spaces); the reader finds
    /// the digits by this prefix, so a file that spells it otherwise cannot be verified.
    static let marker = Array("\"\(key)\":\"\(kind)".utf8)

    /// Where the 16 digits sit in `header` (the JSON bytes), found by `marker`.
    static func digitsRange(in header: UnsafeRawBufferPointer) -> Range<Int>? {
        guard header.count >= marker.count + 16 else { return nil }
        var i = 0
        outer: while i + marker.count + 16 <= header.count {
            for (k, byte) in marker.enumerated() where header[i + k] != byte {
                i += 1
                continue outer
            }
            let start = i + marker.count
            return start..<start + 16
        }
        return nil
    }

    /// Puts the checksum into `file` (the whole file, written with the placeholder digits).
    static func seal(_ file: inout Data, headerLength: Int) {
        let digits: Range<Int> = file.withUnsafeBytes { all in
            digitsRange(in: UnsafeRawBufferPointer(rebasing: all[8..<8 + headerLength]))!
        }
        var h = XXH64()
        file.withUnsafeBytes { h.update($0) }
        let hex = Array(XXH64.hex(h.digest()).utf8)
        file.replaceSubrange(8 + digits.lowerBound..<8 + digits.upperBound, with: hex)
    }

    /// Checks the recorded checksum against the file's bytes, read with pread in 1 MB pieces:
    /// through the mapping, verifying would bring every page of a model into our RSS.
    static func verify(_ file: MappedFile, headerLength: Int, recorded: String) throws {
        func fail(_ reason: String) -> ModelError { .malformedCheckpoint(path: file.path, reason: reason) }
        guard recorded.hasPrefix(kind), recorded.utf8.count == kind.utf8.count + 16,
              let expected = UInt64(recorded.dropFirst(kind.count), radix: 16) else {
            throw fail("its checksum '\(recorded.oneLine)' is not xxh64:<16 hex digits>")
        }
        var header = [UInt8](repeating: 0, count: 8 + headerLength)
        header.withUnsafeMutableBytes { file.read(file.base, count: $0.count, into: $0.baseAddress!) }
        let digits = header.withUnsafeBytes { digitsRange(in: UnsafeRawBufferPointer(rebasing: $0[8...])) }
        guard let digits, Array(header[8 + digits.lowerBound..<8 + digits.upperBound]) == Array(recorded.utf8.suffix(16)) else {
            throw fail("its checksum is not where SafetensorsWriter puts it (edited by hand?)")
        }
        header.replaceSubrange(8 + digits.lowerBound..<8 + digits.upperBound, with: Array(placeholder.utf8))
        var h = XXH64()
        header.withUnsafeBytes { h.update($0) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var at = header.count
        while at < file.size {
            let n = min(chunk.count, file.size - at)
            chunk.withUnsafeMutableBytes { buffer in
                file.read(file.base + at, count: n, into: buffer.baseAddress!)
                h.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            at += n
        }
        let actual = h.digest()
        guard actual == expected else {
            throw fail("checksum mismatch (recorded \(XXH64.hex(expected)), the bytes give \(XXH64.hex(actual))): the file is corrupted or was changed after it was written")
        }
    }
}
