import Foundation
import Kernels
import Tokenizers

/// The model's config.json: Hugging Face's fields (bert-base defaults when absent) plus
/// the `runtime` block tools/convert writes. See models/README.md.
public struct Config: Codable, Sendable, Equatable {
    public var modelType = "bert"
    public var vocabSize = 30522
    public var hiddenSize = 768
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var intermediateSize = 3072
    public var hiddenAct = "gelu"
    public var layerNormEps: Float = 1e-12
    public var maxPositionEmbeddings = 512
    public var typeVocabSize = 2
    public var padTokenId = 0
    /// The embeddings' width: ALBERT's and ELECTRA's factorized embeddings; else hidden_size.
    public var embeddingSize: Int { embeddingSizeField ?? hiddenSize }
    private var embeddingSizeField: Int?
    /// ALBERT: layer groups shared by the layers.
    public var numHiddenGroups = 1
    /// MPNet: buckets of the relative position bias, and the distance where they end.
    public var relativeAttentionNumBuckets = 32
    public var relativeAttentionMaxDistance = 128
    /// DeBERTa-v2: disentangled attention over relative positions (see DebertaV2.swift).
    public var relativeAttention = false
    /// DeBERTa-v2: relative distances beyond this share the last bucket; tools/convert
    /// writes the resolved value (max_position_embeddings when the source says -1).
    public var maxRelativePositions = -1
    /// DeBERTa-v2: log buckets of relative distance (≤ 0: none, distances used as they are).
    public var positionBuckets = -1
    /// DeBERTa-v2: whether absolute position embeddings are added to the word embeddings.
    public var positionBiasedInput = true
    /// DeBERTa-v2: the disentangled terms, "c2p" and/or "p2c".
    public var posAttType: [String] = []
    /// DeBERTa-v2: the relative positions go through the content query and key projections.
    public var shareAttKey = false
    /// DeBERTa-v2: "layer_norm" normalizes the relative embeddings (encoder.LayerNorm), "none" not.
    public var normRelEbd = "none"
    /// DeBERTa-v2: the ContextPooler's activation.
    public var poolerHiddenAct = "gelu"
    /// ModernBERT: each layer's attention, "full_attention" or "sliding_attention" (tools/convert
    /// writes them resolved from global_attn_every_n_layers).
    public var layerTypes: [String] = []
    /// ModernBERT: the rotary bases of the full (global) and sliding (local) attention layers.
    public var globalRopeTheta: Float = 160_000
    public var localRopeTheta: Float = 10_000
    /// ModernBERT: the sliding window's width; a query attends to keys at most local_attention / 2 away.
    public var localAttention = 128
    /// ModernBERT: which Linears and LayerNorms have biases.
    public var attentionBias = false
    public var mlpBias = false
    public var normBias = false
    public var classifierBias = false
    /// ModernBERT: the sequence classifier's pooling ("cls" or "mean") and its head's activation.
    public var classifierPooling = "cls"
    public var classifierActivation = "gelu"
    public var id2label: [String: String]?
    public var problemType: String?
    public var runtime = Runtime()

    /// What the runtime needs beside Hugging Face's fields.
    public struct Runtime: Codable, Sendable, Equatable {
        public var formatVersion = 1
        public var tokenizer = TokenizerSettings()
        public var pooling: Pooling = .mean
        public var normalize = false
        public var source: String?
        /// Present in classifier directories.
        public var classifier: ClassifierSettings?
        /// The masked-LM head, when the checkpoint kept one (`mlm.*`).
        public var maskedLM: MaskedLMSettings?
        /// The per-token classifier of a *ForTokenClassification (`token_classifier.*`).
        public var tokenClassifier: TokenClassifierSettings?
        /// The span head of a *ForQuestionAnswering (`qa_outputs.*`).
        public var questionAnswering: QuestionAnsweringSettings?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case formatVersion, tokenizer, pooling, normalize, source, classifier, tokenClassifier, questionAnswering
            case maskedLM = "maskedLm"  // "masked_lm" after convertFromSnakeCase
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            formatVersion = try c.decodeIfPresent(Int.self, forKey: .formatVersion) ?? formatVersion
            tokenizer = try c.decodeIfPresent(TokenizerSettings.self, forKey: .tokenizer) ?? tokenizer
            pooling = try c.decodeIfPresent(Pooling.self, forKey: .pooling) ?? pooling
            normalize = try c.decodeIfPresent(Bool.self, forKey: .normalize) ?? normalize
            source = try c.decodeIfPresent(String.self, forKey: .source)
            classifier = try c.decodeIfPresent(ClassifierSettings.self, forKey: .classifier)
            maskedLM = try c.decodeIfPresent(MaskedLMSettings.self, forKey: .maskedLM)
            tokenClassifier = try c.decodeIfPresent(TokenClassifierSettings.self, forKey: .tokenClassifier)
            questionAnswering = try c.decodeIfPresent(QuestionAnsweringSettings.self, forKey: .questionAnswering)
        }
    }

    /// A token classifier: one Linear over each token's last hidden state, `labels` outputs
    /// named by id2label.
    public struct TokenClassifierSettings: Codable, Sendable, Equatable {
        public var labels: Int
    }

    /// An extractive question answerer: one Linear over each token's last hidden state, giving
    /// `outputs` (2) logits, the answer's start and end.
    public struct QuestionAnsweringSettings: Codable, Sendable, Equatable {
        public var outputs: Int
    }

    /// What tools/convert wrote down about the masked-LM head: the activation between its
    /// dense and LayerNorm (a hidden_act name), the LayerNorm's eps, and whether the decoder
    /// is the word-embedding table (tied) or its own `mlm.decoder.weight`.
    public struct MaskedLMSettings: Codable, Sendable, Equatable {
        public var activation: String
        public var layerNormEps: Float
        public var tied: Bool
    }

    public struct ClassifierSettings: Codable, Sendable, Equatable {
        public var features: ClassifierHead.Features = .pooler
        public init(features: ClassifierHead.Features = .pooler) { self.features = features }
    }

    public struct TokenizerSettings: Codable, Sendable, Equatable {
        public var kind = "wordpiece"
        public var file = "vocab.txt"
        /// For SentencePiece: "xlm-roberta" (Hugging Face's XLM-R ids and specials), "albert"
        /// (AlbertTokenizer's) or "plain".
        public var convention = "xlm-roberta"
        public var doLowerCase = true
        public var stripAccents: Bool?
        /// ALBERT: keep accents instead of stripping them.
        public var keepAccents = false
        public var tokenizeChineseChars = true
        public var maxLength: Int?
        /// WordPiece: the tokens playing the special roles (absent: BERT's).
        public var specials: Specials?
        /// WordPiece: "bert" or "roberta" (absent: "bert").
        public var template: String?
        /// WordPiece: more special tokens, found after normalization (tokenizer.json's added
        /// tokens with "normalized": true, such as all-mpnet-base-v2's "<unk>").
        public var normalizedSpecials: [String]?
        /// tokenizer.json: the padding token, when the file's own padding block does not name it.
        public var padToken: String?

        /// The "specials" block: cls, sep, pad, unk, mask.
        public struct Specials: Codable, Sendable, Equatable {
            public var cls, sep, pad, unk, mask: String
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? kind
            file = try c.decodeIfPresent(String.self, forKey: .file) ?? file
            convention = try c.decodeIfPresent(String.self, forKey: .convention) ?? convention
            doLowerCase = try c.decodeIfPresent(Bool.self, forKey: .doLowerCase) ?? doLowerCase
            stripAccents = try c.decodeIfPresent(Bool.self, forKey: .stripAccents)
            keepAccents = try c.decodeIfPresent(Bool.self, forKey: .keepAccents) ?? keepAccents
            tokenizeChineseChars = try c.decodeIfPresent(Bool.self, forKey: .tokenizeChineseChars) ?? tokenizeChineseChars
            maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
            specials = try c.decodeIfPresent(Specials.self, forKey: .specials)
            template = try c.decodeIfPresent(String.self, forKey: .template)
            normalizedSpecials = try c.decodeIfPresent([String].self, forKey: .normalizedSpecials)
            padToken = try c.decodeIfPresent(String.self, forKey: .padToken)
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case modelType, vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct
        case layerNormEps, maxPositionEmbeddings, typeVocabSize, padTokenId, numHiddenGroups
        case relativeAttentionNumBuckets, relativeAttentionMaxDistance, id2label, problemType, runtime
        case relativeAttention, maxRelativePositions, positionBuckets, positionBiasedInput, posAttType, shareAttKey
        case normRelEbd, poolerHiddenAct
        case layerTypes, globalRopeTheta, localRopeTheta, localAttention, attentionBias, mlpBias, normBias, classifierBias
        case classifierPooling, classifierActivation
        case embeddingSizeField = "embeddingSize"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func field<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        modelType = try field(.modelType, modelType)
        vocabSize = try field(.vocabSize, vocabSize)
        hiddenSize = try field(.hiddenSize, hiddenSize)
        numHiddenLayers = try field(.numHiddenLayers, numHiddenLayers)
        numAttentionHeads = try field(.numAttentionHeads, numAttentionHeads)
        intermediateSize = try field(.intermediateSize, intermediateSize)
        hiddenAct = try field(.hiddenAct, hiddenAct)
        layerNormEps = try field(.layerNormEps, layerNormEps)
        maxPositionEmbeddings = try field(.maxPositionEmbeddings, maxPositionEmbeddings)
        typeVocabSize = try field(.typeVocabSize, typeVocabSize)
        padTokenId = try field(.padTokenId, padTokenId)
        embeddingSizeField = try c.decodeIfPresent(Int.self, forKey: .embeddingSizeField)
        numHiddenGroups = try field(.numHiddenGroups, numHiddenGroups)
        relativeAttentionNumBuckets = try field(.relativeAttentionNumBuckets, relativeAttentionNumBuckets)
        relativeAttentionMaxDistance = try field(.relativeAttentionMaxDistance, relativeAttentionMaxDistance)
        relativeAttention = try field(.relativeAttention, relativeAttention)
        maxRelativePositions = try field(.maxRelativePositions, maxRelativePositions)
        positionBuckets = try field(.positionBuckets, positionBuckets)
        positionBiasedInput = try field(.positionBiasedInput, positionBiasedInput)
        posAttType = try field(.posAttType, posAttType)
        shareAttKey = try field(.shareAttKey, shareAttKey)
        normRelEbd = try field(.normRelEbd, normRelEbd)
        poolerHiddenAct = try field(.poolerHiddenAct, poolerHiddenAct)
        layerTypes = try field(.layerTypes, layerTypes)
        globalRopeTheta = try field(.globalRopeTheta, globalRopeTheta)
        localRopeTheta = try field(.localRopeTheta, localRopeTheta)
        localAttention = try field(.localAttention, localAttention)
        attentionBias = try field(.attentionBias, attentionBias)
        mlpBias = try field(.mlpBias, mlpBias)
        normBias = try field(.normBias, normBias)
        classifierBias = try field(.classifierBias, classifierBias)
        classifierPooling = try field(.classifierPooling, classifierPooling)
        classifierActivation = try field(.classifierActivation, classifierActivation)
        id2label = try c.decodeIfPresent([String: String].self, forKey: .id2label)
        problemType = try c.decodeIfPresent(String.self, forKey: .problemType)
        runtime = try field(.runtime, runtime)
    }

    /// Reads and validates a config.json; every failure names the file.
    public static func load(from url: URL) throws -> Config {
        guard let data = FileContents.read(url.path) else {
            throw ModelError.missingFile(path: url.path)
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config: Config
        do {
            config = try decoder.decode(Config.self, from: data)
        } catch let error as DecodingError {
            throw ModelError.invalidConfig(path: url.path, reason: Self.describe(error).oneLine)
        } catch {
            throw ModelError.invalidConfig(path: url.path, reason: "not valid JSON")
        }
        if let reason = config.problem { throw ModelError.invalidConfig(path: url.path, reason: reason.oneLine) }
        return config
    }

    /// The first inconsistency in the numbers, if any.
    var problem: String? {
        guard let architecture = Architectures.named(modelType) else {
            return "model_type '\(modelType)' is not supported (supported: \(Architectures.supported.joined(separator: ", ")))"
        }
        if runtime.formatVersion != 1 { return "runtime.format_version \(runtime.formatVersion) is not 1" }
        for (name, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize),
                              ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                              ("intermediate_size", intermediateSize), ("max_position_embeddings", maxPositionEmbeddings),
                              ("embedding_size", embeddingSize)] where value <= 0 {
            return "\(name) must be positive, not \(value)"
        }
        if typeVocabSize < 0 { return "type_vocab_size must not be negative, not \(typeVocabSize)" }
        if typeVocabSize == 0, !architecture.mayLackTokenTypes {
            let without = Architectures.all.filter(\.mayLackTokenTypes).flatMap(\.modelTypes)
            return "type_vocab_size must be positive for \(modelType) (only \(without.joined(separator: ", ")) may have no token types)"
        }
        // Sizes whose products would not fit in memory are refused before anything is allocated.
        let limit = 1 << 34
        if vocabSize.multipliedReportingOverflow(by: embeddingSize).partialValue > limit || vocabSize > limit
            || maxPositionEmbeddings > 1 << 20 || hiddenSize > 1 << 16 || intermediateSize > 1 << 18
            || numHiddenLayers > 1024 || numAttentionHeads > hiddenSize || embeddingSize > 1 << 16 {
            return "the dimensions (vocab_size \(vocabSize), hidden_size \(hiddenSize), intermediate_size \(intermediateSize), max_position_embeddings \(maxPositionEmbeddings), num_hidden_layers \(numHiddenLayers)) are beyond any real model"
        }
        if let problem = architecture.problem(self) { return problem }
        if hiddenSize % numAttentionHeads != 0 {
            return "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)"
        }
        if activation == nil { return "hidden_act '\(hiddenAct)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)" }
        if !(layerNormEps > 0) { return "layer_norm_eps must be positive" }
        if let id2label, id2label.keys.compactMap(Int.init).sorted() != Array(0..<id2label.count) {
            return "id2label keys must be the ids 0..<\(id2label.count)"
        }
        if let m = runtime.maskedLM {
            if Self.activation(named: m.activation) == nil { return "runtime.masked_lm.activation '\(m.activation)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)" }
            if !(m.layerNormEps > 0) { return "runtime.masked_lm.layer_norm_eps must be positive" }
        }
        if let t = runtime.tokenClassifier, t.labels < 1 || t.labels != labels.count {
            return "runtime.token_classifier.labels \(t.labels) must be positive and match id2label (\(labels.count))"
        }
        if let q = runtime.questionAnswering, q.outputs != 2 {
            return "runtime.question_answering.outputs \(q.outputs) must be 2 (start and end logits)"
        }
        if let problemType, ClassifierHead.Problem(rawValue: problemType) == nil {
            return "problem_type '\(problemType)' is not one of \(ClassifierHead.Problem.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        if padTokenId >= vocabSize { return "pad_token_id \(padTokenId) is not below vocab_size \(vocabSize)" }
        if positionOffset >= maxPositionEmbeddings {  // (vocab_size is bounded above, so this cannot overflow)
            return "pad_token_id \(padTokenId) leaves no position below max_position_embeddings \(maxPositionEmbeddings)"
        }
        if let m = runtime.tokenizer.maxLength, m < 2 || m > maxPositions {
            return "runtime.tokenizer.max_length \(m) must be within 2...\(maxPositions) (max_position_embeddings less the position offset)"
        }
        return nil
    }

    var activation: Activation? { Self.activation(named: hiddenAct) }

    static func activation(named name: String) -> Activation? {
        switch name {
        case "gelu": return .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "relu": return .relu
        default: return nil
        }
    }

    /// Class names in id order, from id2label.
    public var labels: [String] {
        (id2label ?? [:]).compactMap { k, v in Int(k).map { ($0, v) } }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The longest input the tokenizer should produce.
    public var maxLength: Int { min(runtime.tokenizer.maxLength ?? maxPositions, maxPositions) }

    /// The position embedding row of the first token: 0 for BERT; for (XLM-)RoBERTa and
    /// MPNet, whose position ids start after the padding index, pad_token_id + 1.
    public var positionOffset: Int { architecture.positionOffset(self) }

    /// The architecture of model_type (checked by `load`; BERT's for a config never loaded).
    var architecture: any Architecture { Architectures.named(modelType) ?? Bert() }

    /// How many tokens the position embeddings can place.
    public var maxPositions: Int { maxPositionEmbeddings - positionOffset }

    /// The config.json spelling of a property name: numHiddenLayers → num_hidden_layers.
    private static func snakeCase(_ name: String) -> String {
        name.unicodeScalars.reduce(into: "") { out, u in
            if CharacterSet.uppercaseLetters.contains(u) { out += "_" + String(u).lowercased() } else { out.unicodeScalars.append(u) }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .keyNotFound(_, let ctx), .dataCorrupted(let ctx):
            let path = ctx.codingPath.map { $0.intValue.map(String.init) ?? snakeCase($0.stringValue) }.joined(separator: ".")
            return path.isEmpty ? ctx.debugDescription : "field '\(path)': \(ctx.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
