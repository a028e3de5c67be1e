/// Loads tensors by name from a checkpoint, through scopes that mirror the checkpoint
/// tree, checking each shape; `finish()` then refuses any tensor left unused.
///
///     let weights = Weights(try SafetensorsFile(path: p))
///     let q = try weights.scope("encoder.layer.0").scope("attention.self.query")
///     let w = try q.tensor("weight", shape: [384, 384])
///     try weights.finish()
final class Weights {
    let file: SafetensorsFile
    /// The precision of the encoder layers' products (see `WeightScope.precision`).
    let precision: Precision
    private var used: Set<String> = []

    init(_ file: SafetensorsFile, precision: Precision = .fp32) {
        self.file = file
        self.precision = precision
    }

    func scope(_ prefix: String) -> WeightScope { WeightScope(weights: self, prefix: prefix) }

    fileprivate func take(_ name: String, shape: [Int]) throws -> Tensor {
        guard let actual = file.shape(of: name) else {
            throw ModelError.missingTensor(path: file.path, name: name)
        }
        guard actual == shape else {
            throw ModelError.shapeMismatch(path: file.path, name: name, expected: shape, actual: actual)
        }
        used.insert(name)
        return try file.tensor(name)
    }

    /// Throws if the checkpoint holds tensors that nothing loaded.
    func finish() throws {
        let left = file.names.filter { !used.contains($0) }
        if !left.isEmpty { throw ModelError.unexpectedTensors(path: file.path, names: left) }
    }
}

struct WeightScope {
    let weights: Weights
    let prefix: String

    func scope(_ name: String) -> WeightScope {
        WeightScope(weights: weights, prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
    }

    func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        try weights.take(prefix.isEmpty ? name : "\(prefix).\(name)", shape: shape)
    }

    /// The precision a `Linear` loaded here computes in: the chosen one inside the encoder
    /// layers, fp32 elsewhere (pooler and heads: few rows, and their outputs are the answer).
    var precision: Precision { prefix.hasPrefix("encoder.layer.") ? weights.precision : .fp32 }

    /// Whether the checkpoint has any tensor under this scope.
    var exists: Bool { weights.file.names.contains { $0.hasPrefix(prefix + ".") } }
}
