import Kernels

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
    /// The precision of the encoder layers' products (see `WeightScope.packedPrecision`).
    let precision: Precision
    private var used: Set<String> = []
    /// Packed copies of weights for the products' engines, by parameter name.
    private var packs: [String: AnyObject] = [:]

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

    /// The packed copy of parameter `name`, made by `make` once.
    fileprivate func packed<T: AnyObject>(_ name: String, _ make: () throws(DNNL.Failure) -> T) throws(DNNL.Failure) -> T {
        if let p = packs[name] as? T { return p }
        let p = try make()
        packs[name] = p
        return p
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

    /// The arithmetic a `Linear` loaded here packs its weight for: the chosen precision
    /// inside the encoder layers; nil when its products go to OpenBLAS on the weight as it
    /// is: in training (weights change every step), outside the encoder layers (pooler and
    /// heads: few rows, and their outputs are the answer), and for fp32 unless
    /// `BERT_FP32_ENGINE=onednn`.
    var packedPrecision: Precision? {
        guard !isTraining, prefix.hasPrefix("encoder.layer.") else { return nil }
        return weights.precision == .fp32 && !F32Products.packed ? nil : weights.precision
    }

    /// The arithmetic of a trainable `Linear`'s products loaded here: the chosen precision
    /// (fp32 or bf16) inside the encoder layers in training, as inference's bf16 covers them;
    /// nil at inference and elsewhere (pooler, heads: fp32).
    var trainingPrecision: Precision? {
        guard isTraining, prefix.hasPrefix("encoder.layer.") else { return nil }
        return weights.precision
    }

    /// The packed copy of parameter `name`, made once (a shared layer's second Linear reuses it).
    func packed<T: AnyObject>(_ name: String, _ make: () throws(DNNL.Failure) -> T) throws(DNNL.Failure) -> T {
        try weights.packed(name, make)
    }

    /// Whether the checkpoint has any tensor under this scope.
    var exists: Bool { weights.file.names.contains { $0.hasPrefix(prefix + ".") } }

    var isTraining: Bool { weights.parameters.isTraining }
}
