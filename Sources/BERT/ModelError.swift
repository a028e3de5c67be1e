/// Everything that can be wrong with a model directory or its use. Each description is
/// one line that names the file and says what to do.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case modelNotFound(name: String, searched: [String])
    case modelPathUnusable(path: String, reason: String)
    case missingFile(path: String)
    case invalidConfig(path: String, reason: String)
    case malformedCheckpoint(path: String, reason: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case missingTensor(path: String, name: String)
    case unexpectedTensors(path: String, names: [String])
    case shapeMismatch(path: String, name: String, expected: [Int], actual: [Int])
    case tokenizer(path: String, reason: String)
    case inputTooLong(tokens: Int, limit: Int)
    case invalidInput(index: Int, reason: String)
    case invalidOption(name: String, reason: String)
    case precisionUnavailable(precision: String, reason: String)
    /// The task needs a head the model directory does not have.
    case missingHead(path: String, needed: String, has: String, hint: String)

    public var description: String {
        let reconvert = "re-run tools/convert (or tools/setup) to rebuild the model directory"
        switch self {
        case .modelNotFound(let name, let searched):
            return "no model '\(name)' (looked in \(searched.joined(separator: ", "))); pass a model directory, or run tools/setup to make the default models"
        case .modelPathUnusable(let path, let reason):
            return "\(path): \(reason); pass a model directory (one with config.json)"
        case .missingFile(let path):
            return "\(path): file not found; \(reconvert)"
        case .invalidConfig(let path, let reason):
            return "\(path): invalid config: \(reason); \(reconvert)"
        case .malformedCheckpoint(let path, let reason):
            return "\(path): malformed safetensors file: \(reason); \(reconvert)"
        case .unsupportedDType(let path, let tensor, let dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype), but only F32, F16 and BF16 are supported; \(reconvert)"
        case .missingTensor(let path, let name):
            return "\(path): tensor '\(name)' is missing; \(reconvert)"
        case .unexpectedTensors(let path, let names):
            let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
            return "\(path): unexpected tensor(s) \(shown) that this architecture does not use; \(reconvert)"
        case .shapeMismatch(let path, let name, let expected, let actual):
            return "\(path): tensor '\(name)' has shape \(actual) but the config needs \(expected); \(reconvert)"
        case .tokenizer(let path, let reason):
            return "\(path): \(reason)"
        case .invalidOption(let name, let reason):
            return "\(name) \(reason)"
        case .precisionUnavailable(let precision, let reason):
            return "precision \(precision) is not available here: \(reason)"
        case .invalidInput(let index, let reason):
            return "input \(index + 1): \(reason)"
        case .missingHead(let path, let needed, let has, let hint):
            return "\(path): the model has no \(needed); it has \(has); \(hint)"
        case .inputTooLong(let tokens, let limit):
            return "input of \(tokens) tokens exceeds the model's limit of \(limit)"
        }
    }
}
