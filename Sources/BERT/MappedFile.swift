import Foundation

/// A read-only memory mapping of a whole file. Tensors point into it; it lives as long
/// as any of them does.
final class MappedFile: @unchecked Sendable {
    let path: String
    let base: UnsafeRawPointer
    let size: Int

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelError.missingFile(path: path) }
        defer { close(fd) }
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
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}
