/// Loads a checkpoint's tensors as `Parameter`s by name, through scopes that mirror the
/// checkpoint tree, checking each shape; `finish()` then refuses any tensor left unused.
/// The parameter set's mode decides whether they are mapped views (inference) or owned
/// copies with gradients (training).
///
///     let weights = Weights(try SafetensorsFile(path: p), parameters: ParameterSet(.inference))
///     let q = weights.scope("encoder.layer.0").scope("attention.self.query")
///     let w = try q.parameter("weight", shape: [384, 384])
///     try weights.finish()
final class Weights {
    let file: SafetensorsFile
    let parameters: ParameterSet
    /// The precision of the encoder layers' products (see `WeightScope.precision`).
    let precision: Precision
    private var used: Set<String> = []

    init(_ file: SafetensorsFile, parameters: ParameterSet = ParameterSet(.inference), precision: Precision = .fp32) {
        self.file = file
        self.parameters = parameters
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

    /// The parameter `name`, made once: a second request (a shared layer) returns the first.
    fileprivate func parameter(_ name: String, shape: [Int]) throws -> Parameter {
        if let p = parameters[name] {
            guard p.shape == shape else { throw ModelError.shapeMismatch(path: file.path, name: name, expected: shape, actual: p.shape) }
            return p
        }
        return parameters.add(name, try take(name, shape: shape))
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

    func name(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    /// The checkpoint's tensor `name` under this scope as a parameter of the model.
    func parameter(_ name: String, shape: [Int]) throws -> Parameter {
        try weights.parameter(self.name(name), shape: shape)
    }

    /// A parameter that does not come from the checkpoint (a new classifier's initial weights).
    func newParameter(_ name: String, _ tensor: Tensor) -> Parameter {
        weights.parameters.add(self.name(name), tensor)
    }

    /// The precision a `Linear` loaded here computes in: the chosen one inside the encoder
    /// layers, fp32 elsewhere (pooler and heads: few rows, and their outputs are the answer).
    var precision: Precision { prefix.hasPrefix("encoder.layer.") ? weights.precision : .fp32 }

    /// Whether the checkpoint has any tensor under this scope.
    var exists: Bool { weights.file.names.contains { $0.hasPrefix(prefix + ".") } }

    var isTraining: Bool { weights.parameters.isTraining }
}
