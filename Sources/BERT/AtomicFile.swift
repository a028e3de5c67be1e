import Foundation

/// Writes a file so that a reader, or a run killed at any instant, sees either the old file
/// or the whole new one: the bytes go to `.NAME.partial` beside it, are flushed to disk, and
/// the file is renamed into place. The temporary name is fixed, so a write killed halfway
/// leaves one stale file that the next write replaces, not one per kill. On failure (a full
/// disk) the partial file is removed and the old file is untouched.
enum AtomicFile {
    struct WriteError: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }

    static func partialURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    }

    static func write(_ data: Data, to url: URL) throws {
        let partial = partialURL(for: url)
        func fail(_ what: String) -> WriteError {
            let reason = "\(what): \(String(cString: strerror(errno)))"
            unlink(partial.path)
            return WriteError(path: url.path, reason: reason)
        }
        let fd = open(partial.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create \(partial.lastPathComponent)") }
        var ok = false
        defer { if !ok { close(fd) } }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var done = 0
            while done < bytes.count {
                let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw fail("cannot write") }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw fail("cannot flush to disk") }
        ok = true
        guard close(fd) == 0 else { throw fail("cannot close") }
        guard rename(partial.path, url.path) == 0 else { throw fail("cannot rename into place") }
    }
}
