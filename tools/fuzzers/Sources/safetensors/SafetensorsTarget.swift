import BERT
import FuzzSupport

/// A safetensors file of arbitrary bytes: either a ModelError, or a table whose every tensor
/// can be read, with as many floats as its shape says, inside the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let url = FuzzFile.write(bytes(data, size), name: "model.safetensors")
    let file: SafetensorsFile
    do {
        file = try SafetensorsFile(path: url.path)
    } catch let error as ModelError {
        require(!error.description.contains("\n"), "a multi-line error: \(error)")
        return 0
    } catch {
        require(false, "an untyped error: \(error)")
        return 0
    }
    for name in file.names {
        guard let shape = file.shape(of: name) else { require(false, "'\(name)' listed but has no shape"); continue }
        require(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        let elements = shape.reduce(1, *)
        require(elements <= size / 2, "'\(name)' claims \(elements) elements in a \(size)-byte file")
        do {
            let tensor = try file.tensor(name)
            require(tensor.shape == shape && tensor.count == elements, "'\(name)' read as \(tensor.shape)")
            // touch every value: an out-of-file view would fault here under ASan
            var sum: Float = 0
            for i in 0..<tensor.count { sum += tensor.pointer[i] }
            _ = sum
        } catch {
            require(false, "'\(name)' is in the table but cannot be read: \(error)")
        }
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
