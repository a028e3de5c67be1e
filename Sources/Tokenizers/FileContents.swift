import Foundation

/// Whole-file reads for vocab.txt, and (`package`: BERT uses it too) config.json and datasets.
/// Not `FileManager.contents(atPath:)`: on Linux it leaks a 4 KB buffer for every empty file it
/// reads (found by tools/fuzz).
package enum FileContents {
    /// The file's bytes; nil when it cannot be opened or read (missing, a directory, no permission).
    package static func read(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { return nil }
        var data = Data(capacity: max(Int(info.st_size), 0))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return data }
            data.append(contentsOf: chunk[0..<n])
        }
    }
}
