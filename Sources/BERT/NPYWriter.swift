import Foundation

/// Writes rows of floats as they come into a float32 NumPy array file (.npy, format 1.0) of
/// shape (rows, width), holding one row in memory at a time. The header is written first with
/// room for any row count, as numpy.save leaves it (the first axis padded to 21 digits), and
/// rewritten by `finish()` with the final count; the bytes are those numpy.save writes for the
/// same array. Like `AtomicFile`, the rows go to `.NAME.partial` beside the file, renamed into
/// place by `finish()`; a writer dropped unfinished removes it.
///
///     let out = try NPYWriter(url: URL(fileURLWithPath: "vectors.npy"), width: embedder.dimension)
///     for v in try embedder.embed(texts) { try out.append(v) }
///     try out.finish()   // numpy.load("vectors.npy").shape == (texts.count, 384)
public final class NPYWriter {
    public let url: URL
    public let width: Int
    public private(set) var rows = 0
    private let partial: URL
    private var fd: Int32
    private var buffer: [UInt8] = []

    public init(url: URL, width: Int) throws {
        precondition(width > 0, "an .npy row of \(width) floats")
        self.url = url
        self.width = width
        partial = AtomicFile.partialURL(for: url)
        fd = open(partial.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error(url, "cannot create \(partial.lastPathComponent)") }
        try write(Self.header(rows: 0, width: width))
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(partial.path)
        }
    }

    /// numpy's header for a C-order float32 array of shape (rows, width): magic, version 1.0,
    /// the length, then the dict padded with spaces (21 digits' room for the row count) to a
    /// multiple of 64 bytes, ending in a line break.
    static func header(rows: Int, width: Int) -> [UInt8] {
        let shape = "\(rows)"
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape), \(width)), }"
        dict += String(repeating: " ", count: max(0, 21 - shape.count))
        let length = dict.utf8.count + 1
        let padding = 64 - (10 + length) % 64
        let total = length + padding  // below 2^16 for any width an Int prints
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(total & 0xFF), UInt8(total >> 8)]
            + Array(dict.utf8) + [UInt8](repeating: 0x20, count: padding) + [0x0A]
    }

    /// Appends one row of `width` floats.
    public func append(_ row: [Float]) throws {
        precondition(row.count == width, "a row of \(row.count) floats in an .npy of width \(width)")
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(width * 4)
        for x in row {
            let bits = x.bitPattern.littleEndian
            buffer += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
        }
        try write(buffer)
        rows += 1
    }

    /// Writes the header with the row count, flushes the file to disk and renames it into place.
    public func finish() throws {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw fail("cannot seek") }
        try write(Self.header(rows: rows, width: width))
        guard fsync(fd) == 0 else { throw fail("cannot flush to disk") }
        let closing = fd
        fd = -1
        guard close(closing) == 0 else { throw fail("cannot close") }
        guard rename(partial.path, url.path) == 0 else { throw fail("cannot rename into place") }
    }

    private func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = Foundation.write(fd, b.baseAddress! + done, b.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw fail("cannot write") }
                done += n
            }
        }
    }

    private func fail(_ what: String) -> AtomicFile.WriteError {
        let error = Self.error(url, what)
        if fd >= 0 { close(fd); fd = -1 }
        unlink(partial.path)
        return error
    }

    private static func error(_ url: URL, _ what: String) -> AtomicFile.WriteError {
        AtomicFile.WriteError(path: url.path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
