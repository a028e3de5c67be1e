import Foundation

/// A read-only memory mapping of a whole file. Tensors point into it; it lives as long
/// as any of them does.
final class MappedFile: @unchecked Sendable {
    let path: String
    let base: UnsafeRawPointer
    let size: Int
    /// Kept open for `read(_:count:into:)`.
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ModelError.missingFile(path: path) }
        var ok = false
        defer { if !ok { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ModelError.missingFile(path: path) }
        size = Int(info.st_size)
        guard size > 0 else {
            throw ModelError.malformedCheckpoint(path: path, reason: "the file is empty")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelError.malformedCheckpoint(path: path, reason: "cannot map the file (\(String(cString: strerror(errno))))")
        }
        base = UnsafeRawPointer(p)
        self.fd = fd
        ok = true
    }

    /// Copies `count` bytes at `source` (inside the mapping) to `destination` with pread,
    /// without mapping the pages they sit on. For scattered small reads from a big table:
    /// a read through the mapping maps the 64 KB around it into our RSS (fault-around),
    /// so gathering 3,000 embedding rows mapped nearly all of MiniLM's 47 MB table.
    func read(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutableRawPointer) {
        var done = 0
        while done < count {
            let n = pread(fd, destination + done, count - done, off_t(source - base + done))
            if n <= 0 {
                if n < 0, errno == EINTR { continue }
                // unreadable now (should not happen for a file we mapped): go through the mapping
                (destination + done).copyMemory(from: source + done, byteCount: count - done)
                return
            }
            done += n
        }
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), size)
        close(fd)
    }
}
