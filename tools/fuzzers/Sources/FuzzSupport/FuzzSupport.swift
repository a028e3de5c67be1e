import CFuzzer
import Foundation

/// A property a fuzz target checks on every input: when it fails, the input is a bug even
/// if nothing crashed. Aborts, so libFuzzer saves the input as a crash.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        FileHandle.standardError.write(Data("fuzz property violated at \(file):\(line): \(message())\n".utf8))
        abort()
    }
}

/// The parsers under test read files, so each input is written to one file per process
/// (in /dev/shm when it exists: no disk traffic) named with the extension the parser keys on.
public enum FuzzFile {
    private static let directory: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = "\(base)/bert-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// Writes `bytes` to `<dir>/<name>` and returns its URL.
    public static func write(_ bytes: UnsafeRawBufferPointer, name: String) -> URL {
        let url = URL(fileURLWithPath: "\(directory)/\(name)")
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot write the fuzz input file \(url.path)")
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            precondition(n > 0, "cannot write the fuzz input file \(url.path)")
            done += n
        }
        close(fd)
        return url
    }

    /// A directory for targets that need several files (a model directory).
    public static func subdirectory(_ name: String) -> URL {
        let url = URL(fileURLWithPath: "\(directory)/\(name)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The repository root: tools/fuzz runs the targets from there, and sets BERT_REPO.
public let repositoryRoot: URL = {
    if let root = ProcessInfo.processInfo.environment["BERT_REPO"] { return URL(fileURLWithPath: root) }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()

/// The fuzzer's bytes as a buffer (empty inputs have no base address).
public func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
}

/// Hands the process to libFuzzer with `target` as the function it calls on each input.
/// SwiftPM points each executable.s `main` at the module.s entry point, so libFuzzer.s own
/// `main` may not be the one that runs; both end in the same driver.
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}
