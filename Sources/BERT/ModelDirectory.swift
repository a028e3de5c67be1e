import Foundation
import Tokenizers

/// A converted model directory (config.json, model.safetensors, the tokenizer file),
/// found by path or by name under models/. See models/README.md for the contract.
///
///     let dir = try ModelDirectory(resolving: "all-MiniLM-L6-v2")
///     let encoder = try dir.loadEncoder()
public struct ModelDirectory: Sendable {
    public let url: URL
    public let config: Config

    /// Opens `url` as a model directory and reads its config.
    public init(url: URL) throws {
        self.url = url
        config = try Config.load(from: url.appendingPathComponent("config.json"))
    }

    /// `model` is a directory, or the name of one under models/: the one in
    /// $BERT_MODELS, in the current directory, or beside the `bert` executable's checkout.
    public init(resolving model: String) throws {
        try self.init(url: Self.locate(model))
    }

    /// The encoder alone; a classifier directory's head is checked and set aside.
    public func loadEncoder(precision: Precision = .fp32) throws -> Encoder { try load(precision: precision).encoder }

    /// The encoder and, when the checkpoint has `classifier.*`, its classification head.
    /// Every tensor must be used by one of them.
    func load(precision: Precision = .fp32) throws -> (encoder: Encoder, head: ClassifierHead?) {
        let all = try loadAll(precision: precision)
        return (all.encoder, all.head)
    }

    /// The encoder with every head the checkpoint has: the classifier (`classifier.*`), the
    /// masked-LM head (`mlm.*`, described by runtime.masked_lm), the token classifier
    /// (`token_classifier.*`) and the question-answering head (`qa_outputs.*`).
    func loadAll(precision: Precision = .fp32) throws -> (encoder: Encoder, head: ClassifierHead?, maskedLM: MaskedLMHead?,
                                                         tokens: TokenClassifierHead?, spans: QuestionAnsweringHead?) {
        try precision.check()
        let checkpoint = try SafetensorsFile(path: url.appendingPathComponent("model.safetensors").path)
        let weights = Weights(checkpoint, precision: precision)
        let root = weights.scope("")
        let encoder = try Encoder(root, config: config)
        let hasHead = checkpoint.names.contains { $0.hasPrefix("classifier.") } || config.runtime.classifier != nil
        let head = hasHead ? try ClassifierHead(root, config: config, pooler: encoder.pooler) : nil
        var maskedLM: MaskedLMHead?
        if let settings = config.runtime.maskedLM {
            maskedLM = try MaskedLMHead(root, config: config, settings: settings)
        } else if checkpoint.names.contains(where: { $0.hasPrefix("mlm.") }) {
            throw ModelError.invalidConfig(path: url.appendingPathComponent("config.json").path,
                                           reason: "model.safetensors has a masked-LM head (mlm.*) but runtime.masked_lm is missing; re-run tools/convert")
        }
        let tokens = config.runtime.tokenClassifier != nil ? try TokenClassifierHead(root, config: config) : nil
        let spans = config.runtime.questionAnswering != nil ? try QuestionAnsweringHead(root, config: config) : nil
        try weights.finish()
        return (encoder, head, maskedLM, tokens, spans)
    }

    /// The heads this directory's checkpoint has, for messages ("a sequence classifier (3 labels)").
    var headDescription: String {
        var heads: [String] = []
        if config.runtime.classifier != nil {
            heads.append("a sequence-classification head (\(config.labels.count) labels)")
        }
        if config.runtime.maskedLM != nil { heads.append("a masked-LM head") }
        if config.runtime.tokenClassifier != nil { heads.append("a token-classification head (\(config.labels.count) labels)") }
        if config.runtime.questionAnswering != nil { heads.append("a question-answering head") }
        return heads.isEmpty ? "no task head (an encoder for `bert embed`)" : heads.joined(separator: " and ")
    }

    public func loadTokenizer() throws -> any Tokenizer {
        let settings = config.runtime.tokenizer
        let file = url.appendingPathComponent(settings.file)
        guard FileManager.default.fileExists(atPath: file.path) else { throw ModelError.missingFile(path: file.path) }
        switch settings.kind {
        case "wordpiece":
            guard let template = WordPieceTemplate(rawValue: settings.template ?? "bert") else {
                throw ModelError.invalidConfig(
                    path: url.appendingPathComponent("config.json").path,
                    reason: "runtime.tokenizer.template '\(settings.template ?? "")' is not supported (bert, roberta)")
            }
            let specials = settings.specials.map {
                WordPieceSpecials(cls: $0.cls, sep: $0.sep, pad: $0.pad, unk: $0.unk, mask: $0.mask)
            } ?? .bert
            let tokenizer = try WordPieceTokenizer(
                vocabulary: file, lowercase: settings.doLowerCase, stripAccents: settings.stripAccents,
                tokenizeChineseChars: settings.tokenizeChineseChars, maxLength: config.maxLength,
                specials: specials, template: template, normalizedSpecials: settings.normalizedSpecials ?? [])
            if tokenizer.vocabularySize > config.vocabSize {
                throw ModelError.invalidConfig(
                    path: url.appendingPathComponent("config.json").path,
                    reason: "\(settings.file) has \(tokenizer.vocabularySize) tokens but vocab_size is \(config.vocabSize)")
            }
            return tokenizer
        case "sentencepiece":
            guard let convention = SentencePieceTokenizer.Convention(rawValue: settings.convention) else {
                throw ModelError.invalidConfig(
                    path: url.appendingPathComponent("config.json").path,
                    reason: "runtime.tokenizer.convention '\(settings.convention)' is not supported (xlm-roberta, albert, deberta, plain)")
            }
            let tokenizer = try SentencePieceTokenizer(model: file, convention: convention, maxLength: config.maxLength,
                                                       lowercase: settings.doLowerCase, keepAccents: settings.keepAccents)
            if tokenizer.vocabularySize > config.vocabSize {
                throw ModelError.invalidConfig(
                    path: url.appendingPathComponent("config.json").path,
                    reason: "\(settings.file) has \(tokenizer.vocabularySize) ids but vocab_size is \(config.vocabSize)")
            }
            return tokenizer
        case "tokenizer-json":
            let tokenizer = try TokenizerJSON(contentsOf: file, maxLength: config.maxLength, padToken: settings.padToken)
            if tokenizer.vocabularySize > config.vocabSize {
                throw ModelError.invalidConfig(
                    path: url.appendingPathComponent("config.json").path,
                    reason: "\(settings.file) has \(tokenizer.vocabularySize) ids but vocab_size is \(config.vocabSize)")
            }
            return tokenizer
        default:
            throw ModelError.invalidConfig(
                path: url.appendingPathComponent("config.json").path,
                reason: "runtime.tokenizer.kind '\(settings.kind)' is not supported (wordpiece, sentencepiece, tokenizer-json)")
        }
    }

    static func locate(_ model: String) throws -> URL {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            return URL(fileURLWithPath: model)
        }
        let roots = modelRoots()
        if !model.contains("/") {
            for root in roots {
                let candidate = root.appendingPathComponent(model)
                if fm.fileExists(atPath: candidate.appendingPathComponent("config.json").path) { return candidate }
            }
        }
        if model.contains("/"), let reason = unusablePath(model) {
            throw ModelError.modelPathUnusable(path: model, reason: reason)
        }
        throw ModelError.modelNotFound(name: model, searched: model.contains("/") ? [model] : roots.map(\.path))
    }

    /// Why `path`, which names something, is no model directory: a symlink loop, a dangling
    /// link, a file, a folder that cannot be read; nil when nothing is there.
    private static func unusablePath(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) != 0 {
            switch errno {
            case ELOOP: return "a loop of symbolic links"
            case EACCES: return "permission denied on the way to it"
            case ENOENT where lstat(path, &info) == 0: return "a symbolic link to nothing"
            default: return nil
            }
        }
        return (info.st_mode & S_IFMT) == S_IFDIR ? nil : "a file, not a model directory"
    }

    /// Where named models live, most specific first.
    static func modelRoots() -> [URL] {
        var roots: [URL] = []
        if let env = ProcessInfo.processInfo.environment["BERT_MODELS"] { roots.append(URL(fileURLWithPath: env)) }
        roots.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("models"))
        // .build/<triple>/release/bert → the checkout's models/
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                roots.append(dir.appendingPathComponent("models"))
                break
            }
        }
        var seen = Set<String>()
        return roots.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }
}
