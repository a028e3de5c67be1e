/// What one Hugging Face `model_type` is to the runtime: the rules its config must meet,
/// and which variant of each shared layer it uses (where positions start, whether it has
/// token types, an embedding projection, shared layers, a relative position bias, and
/// its sequence-classification head). Each architecture is one small type in this folder,
/// listed in `Architectures.all`; the layers themselves are shared (Layers/).
///
/// Adding one: a file here conforming to `Architecture`, an entry in `Architectures.all`,
/// the renaming rules in tools/convert, and a golden script (README, "Adding an architecture").
protocol Architecture: Sendable {
    /// The `model_type` values of config.json this architecture reads.
    var modelTypes: [String] { get }
    /// Hugging Face's class prefix: "Bert" for BertModel and BertForSequenceClassification.
    func classPrefix(_ c: Config) -> String
    /// The head `*ForSequenceClassification` puts on the encoder.
    var sequenceClassifier: ClassifierHead.Features { get }
    /// The first inconsistency of this architecture's own fields, if any.
    func problem(_ c: Config) -> String?
    /// The position-embedding row of each sequence's first token.
    func positionOffset(_ c: Config) -> Int
    /// Whether an embedding-size to hidden-size projection follows the embeddings.
    func projectsEmbeddings(_ c: Config) -> Bool
    /// The checkpoint scope holding layer `layer`'s weights (shared layers map several
    /// layers to one scope).
    func layerScope(_ layer: Int, _ c: Config) -> String
    /// Whether attention scores get MPNet's relative position bias.
    var relativeAttentionBias: Bool { get }
    /// The Hugging Face masked-LM head tools/convert keeps as `mlm.*` (MaskedLMHead), as
    /// `*ForMaskedLM` names it; nil when the architecture has none.
    var maskedLMHead: String? { get }
    /// Whether type_vocab_size may be 0 (no token-type embeddings; type ids are then ignored).
    var mayLackTokenTypes: Bool { get }
    /// Whether absolute position embeddings are added to the word embeddings.
    func hasPositionEmbeddings(_ c: Config) -> Bool
    /// Whether attention has DeBERTa's disentangled terms over `RelativeEmbeddings`.
    func disentangledAttention(_ c: Config) -> Bool
    /// The scores are q·kᵀ / √(head size · this factor).
    func attentionScaleFactor(_ c: Config) -> Int
    /// How layer `layer` differs from BERT's post-norm layer (ModernBERT's pre-norm, fused,
    /// rotary, windowed, gated layers).
    func layerVariant(_ c: Config, layer: Int) -> LayerVariant
    /// Whether the LayerNorms (embeddings', layers', the final one) have a bias.
    func normBias(_ c: Config) -> Bool
    /// Whether a LayerNorm (`final.LayerNorm`) follows the last layer (pre-norm stacks).
    func hasFinalNorm(_ c: Config) -> Bool
}

/// What an encoder layer does beyond BERT's: its norm placement, biases, fused projections,
/// position scheme and feed-forward shape. `.bert` is BERT's layer.
struct LayerVariant: Sendable {
    /// Pre-norm: each block normalizes its input (the LayerNorm at the block's own scope,
    /// attention.LayerNorm and intermediate.LayerNorm) and adds its output to the residual, with
    /// no norm after; false: BERT's post-norm (attention.output.LayerNorm, output.LayerNorm).
    var preNorm = false
    /// Pre-norm: whether the attention block normalizes its input (ModernBERT's layer 0 does not).
    var attentionInputNorm = true
    var attentionBias = true
    var feedForwardBias = true
    /// q, k, v are the row blocks of one projection `attention.self.qkv` (3C, C).
    var fusedQKV = false
    /// GeGLU: `intermediate.dense` is 2I wide, act(first half) · second half.
    var gated = false
    /// Rotary position embeddings on q and k (and a sliding window), when the layer has them.
    var rotary: RotaryAttention?

    static let bert = LayerVariant()
}

/// A layer's rotary positions: the base θ, and the sliding window's radius (keys at most this
/// far from the query take part) when the layer attends locally.
struct RotaryAttention: Sendable, Equatable {
    let theta: Float
    let window: Int?
}

extension Architecture {
    func problem(_ c: Config) -> String? { nil }
    func positionOffset(_ c: Config) -> Int { 0 }
    func projectsEmbeddings(_ c: Config) -> Bool { false }
    func layerScope(_ layer: Int, _ c: Config) -> String { "encoder.layer.\(layer)" }
    var relativeAttentionBias: Bool { false }
    var mayLackTokenTypes: Bool { false }
    func hasPositionEmbeddings(_ c: Config) -> Bool { true }
    func disentangledAttention(_ c: Config) -> Bool { false }
    func attentionScaleFactor(_ c: Config) -> Int { 1 }
    func layerVariant(_ c: Config, layer: Int) -> LayerVariant { .bert }
    func normBias(_ c: Config) -> Bool { true }
    func hasFinalNorm(_ c: Config) -> Bool { false }
}

/// The registry: every architecture the runtime runs, by `model_type`.
enum Architectures {
    static let all: [any Architecture] = [Bert(), Roberta(), DistilBert(), Albert(), Electra(), MPNet(),
                                          DebertaV2(), ModernBert()]

    static func named(_ modelType: String) -> (any Architecture)? {
        all.first { $0.modelTypes.contains(modelType) }
    }

    static var supported: [String] { all.flatMap(\.modelTypes) }
}

/// RoBERTa-style position ids start after the padding index: the first token takes row
/// pad_token_id + 1 (Hugging Face's create_position_ids_from_input_ids on right-padded input).
func positionsAfterPadding(_ c: Config) -> Int { max(c.padTokenId, 0) + 1 }
