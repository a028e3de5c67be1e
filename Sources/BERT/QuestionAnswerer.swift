import Foundation
import Tokenizers

/// One answer to a question: the span of the context it is, and its probability.
public struct Answer: Sendable, Equatable {
    /// The start's probability times the end's, summed over the spans giving this answer
    /// (one per window and token span); for the empty answer, the "no answer" probability.
    public let score: Double
    /// Offsets in Unicode scalars (Python string indices) into the context; 0, 0 for no answer.
    public let start: Int
    public let end: Int
    /// The context's text from `start` to `end`.
    public let answer: String
}

/// Extractive question answering with a *ForQuestionAnswering model, as transformers'
/// question-answering pipeline does it: the question and the context are encoded as a pair
/// (a long context in windows sharing `docStride` tokens), each token gets a start and an end
/// logit, and the best spans of at most `maxAnswerLength` tokens, widened to whole words,
/// are the answers.
///
///     let qa = try QuestionAnswerer(model: "models/my-squad")
///     let best = try qa.answer("Where does Wolfgang live?", context: "My name is Wolfgang and I live in Berlin.")[0]
///     print(best.answer, best.score)   // Berlin 0.97
///
/// Safe to call from concurrent tasks.
public final class QuestionAnswerer: @unchecked Sendable {
    /// The pipeline's options, with its defaults.
    public struct Options: Sendable {
        /// How many answers to give (fewer when the context has fewer).
        public var topK = 1
        /// The longest answer, in tokens.
        public var maxAnswerLength = 15
        /// Question, context window and special tokens together; nil: the model's limit, at most 384.
        public var maxSequenceLength: Int?
        /// Tokens shared by neighbouring windows of a long context; nil: half the sequence, at most 128.
        public var docStride: Int?
        /// Whether "no answer" (score: the first token's start and end probabilities) competes.
        public var handleImpossibleAnswer = false
        public init(topK: Int = 1, maxAnswerLength: Int = 15, maxSequenceLength: Int? = nil, docStride: Int? = nil,
                    handleImpossibleAnswer: Bool = false) {
            self.topK = topK
            self.maxAnswerLength = maxAnswerLength
            self.maxSequenceLength = maxSequenceLength
            self.docStride = docStride
            self.handleImpossibleAnswer = handleImpossibleAnswer
        }
    }

    /// How a tokenizer's tokens make words (tokenizers' word ids), for widening spans to words.
    enum Words {
        /// WordPiece: a word goes on through its "##" pieces.
        case continuations
        /// SentencePiece: a word starts at each "▁".
        case metaspace
        /// tokenizer.json: the pre-tokenizer's pieces, found again in the text.
        case pieces(TokenizerJSON)
    }

    public let config: Config
    public let tokenizer: any Tokenizer
    public let context: ExecutionContext
    let words: Words
    let encoder: Encoder
    let head: QuestionAnsweringHead

    public convenience init(model: String, context: ExecutionContext? = nil) throws {
        try self.init(directory: ModelDirectory(resolving: model), context: context)
    }

    public init(directory: ModelDirectory, context: ExecutionContext? = nil) throws {
        self.context = context ?? ExecutionContext()
        let config = directory.config
        self.config = config
        guard config.runtime.questionAnswering != nil else {
            throw ModelError.missingHead(path: directory.url.appendingPathComponent("model.safetensors").path,
                                         needed: "question-answering head (qa_outputs.*)", has: directory.headDescription,
                                         hint: "convert a \(config.architecture.classPrefix(config))ForQuestionAnswering checkpoint with tools/convert")
        }
        let tokenizer = try directory.loadTokenizer()
        if let json = tokenizer as? TokenizerJSON {
            words = .pieces(json)
        } else if let decoding = tokenizer as? any TokenDecoding {
            words = decoding.marksContinuations ? .continuations : .metaspace
        } else {
            throw ModelError.tokenizer(path: directory.url.path,
                                       reason: "question answering needs the tokenizer's word boundaries, which this tokenizer (\(config.runtime.tokenizer.kind)) does not give")
        }
        self.tokenizer = tokenizer
        let (encoder, _, _, _, head) = try directory.loadAll()
        self.encoder = encoder
        self.head = head!
    }

    /// The answers to each question about `context`, best first. Questions are run in groups
    /// of at most `windowsPerGroup` windows (one question's windows stay together), so a long
    /// context asked many questions holds one group's windows at a time.
    public func answer(_ questions: [String], context text: String, options: Options = Options(), batchSize: Int = 32,
                       windowsPerGroup: Int = 256) throws -> [[Answer]] {
        let plan = try Plan(options, modelLimit: config.maxLength)
        guard !text.isEmpty else { throw ModelError.invalidOption(name: "--context", reason: "is empty: give the text the answers are in") }
        let scalars = Array(text.unicodeScalars)
        var out: [[Answer]] = []
        var group: [[Window]] = []
        func flush() throws {
            out += try answers(group, plan, scalars, batchSize: batchSize)
            group.removeAll()
        }
        for (q, question) in questions.enumerated() {
            guard !question.isEmpty else { throw ModelError.invalidInput(index: q, reason: "the question is empty") }
            let windows = try self.windows(question, text, plan)
            if !group.isEmpty, group.reduce(0, { $0 + $1.count }) + windows.count > windowsPerGroup { try flush() }
            group.append(windows)
        }
        try flush()
        return out
    }

    /// Each question's answers from its windows, all run through the encoder together.
    func answers(_ questions: [[Window]], _ plan: Plan, _ text: [Unicode.Scalar], batchSize: Int) throws -> [[Answer]] {
        let windows = questions.flatMap { $0 }
        var logits = [[Float]](repeating: [], count: windows.count)  // per window (T, 2): start, end
        try encoder.run(windows.map(\.encoding), batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            let C = config.hiddenSize
            for (b, i) in indices.enumerated() {
                let T = windows[i].encoding.count
                var y = [Float](repeating: 0, count: T * 2)
                y.withUnsafeMutableBufferPointer { head(hidden.pointer + b * batch.length * C, rows: T, into: $0.baseAddress!) }
                logits[i] = y
            }
        }
        var out: [[Answer]] = []
        var w = 0
        for question in questions {
            var answers: [Answer] = [], null = 1_000_000.0
            for window in question {
                spans(window, logits[w], plan, text, into: &answers, null: &null)
                w += 1
            }
            if plan.options.handleImpossibleAnswer { answers.append(Answer(score: null, start: 0, end: 0, answer: "")) }
            // Python's sorted(reverse=True) is stable: equal scores keep their order.
            let ranked = answers.enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
            out.append(ranked.prefix(plan.options.topK).map(\.element))
        }
        return out
    }

    /// The options checked, with the defaults the model's limit gives.
    struct Plan {
        let options: Options
        let maxLength: Int, stride: Int

        init(_ options: Options, modelLimit: Int) throws {
            guard options.topK >= 1 else { throw ModelError.invalidOption(name: "--top-k", reason: "must be at least 1") }
            guard options.maxAnswerLength >= 1 else { throw ModelError.invalidOption(name: "--max-answer-length", reason: "must be at least 1") }
            let maxLength = options.maxSequenceLength ?? min(modelLimit, 384)
            guard maxLength >= 4, maxLength <= modelLimit else {
                throw ModelError.invalidOption(name: "--max-seq-length", reason: "must be within 4...\(modelLimit), the model's limit")
            }
            let stride = options.docStride ?? min(maxLength / 2, 128)
            guard stride >= 0, stride <= maxLength else {
                throw ModelError.invalidOption(name: "--doc-stride", reason: "\(stride) must be within 0...\(maxLength) (--max-seq-length)")
            }
            (self.options, self.maxLength, self.stride) = (options, maxLength, stride)
        }
    }

    /// One window: the question, then a stretch of the context. `context` is the range of its
    /// rows holding context tokens, `words` each row's word of the context (nil outside it).
    struct Window {
        let encoding: Encoding
        let context: Range<Int>
        let words: [Int?]
    }

    /// (question, context) as tokenizers' only_second truncation with a stride cuts it, each
    /// overflowing window the question with the next stretch of the context.
    func windows(_ question: String, _ text: String, _ plan: Plan) throws -> [Window] {
        let whole = try tokenizer.encode(question, pair: text, maxLength: Int.max, truncation: .onlySecond)
        let alone = try tokenizer.encode(text, pair: nil, maxLength: Int.max, truncation: .onlySecond)
        let n = alone.count - 2  // context tokens: the single sequence less its two specials
        let first = whole.count - 1 - n  // the pair's context rows: first..<whole.count - 1
        guard n > 0, first > 0, Array(whole.ids[first..<(whole.count - 1)]) == Array(alone.ids[1..<(alone.count - 1)]) else {
            throw ModelError.invalidInput(index: 0, reason: "the context has no tokens this model's question-answering template can place")
        }
        let content = 1..<(alone.count - 1)
        let words = wordIndices(Array(alone.tokens[content]), Array(alone.offsets[content]), text)
        let budget = plan.maxLength - first - 1
        guard budget > 0 else {
            throw ModelError.inputTooLong(tokens: first + 1, limit: plan.maxLength)
        }
        var starts = [0]
        if n > budget {
            guard plan.stride < budget else {
                throw ModelError.invalidOption(name: "--doc-stride", reason: "\(plan.stride) leaves no new context per window: with this question at most \(budget - 1)")
            }
            while starts.last! + budget < n { starts.append(starts.last! + budget - plan.stride) }
        }
        return starts.map { start in
            let content = (first + start)..<(first + min(start + budget, n))
            let rows = Array(0..<first) + Array(content) + [whole.count - 1]
            let e = Encoding(ids: rows.map { whole.ids[$0] }, tokens: rows.map { whole.tokens[$0] },
                             typeIds: rows.map { whole.typeIds[$0] }, attentionMask: rows.map { whole.attentionMask[$0] },
                             offsets: rows.map { whole.offsets[$0] })
            return Window(encoding: e, context: first..<(first + content.count),
                          words: rows.map { $0 >= first && $0 < whole.count - 1 ? words[$0 - first] : nil })
        }
    }

    /// The pre-tokenizer's word of each context token (`Words`).
    func wordIndices(_ tokens: [String], _ offsets: [Range<Int>], _ text: String) -> [Int] {
        switch words {
        case .continuations, .metaspace:
            var word = -1
            return tokens.map { token in
                let continues = if case .continuations = words { token.hasPrefix("##") } else { !token.hasPrefix("\u{2581}") }
                if !continues || word < 0 { word += 1 }
                return word
            }
        case .pieces(let json):
            return json.wordIndices(offsets: offsets, in: text)
        }
    }

    /// The pipeline's select_starts_ends, decode_spans and answer merging for one window:
    /// softmax of the start and end logits over the first token and the context, the null
    /// score from the first token, then the best spans, widened to whole words of the window,
    /// each added to `answers` (or to the answer of the same text, case aside).
    func spans(_ w: Window, _ logits: [Float], _ plan: Plan, _ text: [Unicode.Scalar], into answers: inout [Answer], null: inout Double) {
        let T = w.encoding.count
        let allowed = [0] + Array(w.context)
        func probabilities(_ column: Int) -> [Double] {
            var p = [Double](repeating: 0, count: T)
            let m = allowed.map { Double(logits[$0 * 2 + column]) }.max()!
            for t in allowed { p[t] = Foundation.exp(Double(logits[t * 2 + column]) - m) }
            let total = p.reduce(0, +)
            return p.map { $0 / total }
        }
        var start = probabilities(0), end = probabilities(1)
        if plan.options.handleImpossibleAnswer { null = min(null, start[0] * end[0]) }
        start[0] = 0
        end[0] = 0
        var candidates: [(s: Int, e: Int, score: Double)] = []
        for s in w.context {
            for e in s..<min(s + plan.options.maxAnswerLength, w.context.upperBound) {
                candidates.append((s, e, start[s] * end[e]))
            }
        }
        // numpy's argpartition and argsort: the best first (ties: the earlier span).
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : ($0.s, $0.e) < ($1.s, $1.e) }
        for c in candidates.prefix(plan.options.topK * 2 + 10) {
            let (from, to) = (wordSpan(w, c.s, text).lowerBound, wordSpan(w, c.e, text).upperBound)
            let answer = String(String.UnicodeScalarView(text[from..<to]))
            if let k = answers.firstIndex(where: { $0.answer.lowercased() == answer.lowercased() }) {
                let a = answers[k]
                answers[k] = Answer(score: a.score + c.score, start: a.start, end: a.end, answer: a.answer)
            } else {
                answers.append(Answer(score: c.score, start: from, end: to, answer: answer))
            }
        }
    }

    /// The characters of the word that row `t` belongs to, as far as the window holds it
    /// (tokenizers' word_to_chars). A SentencePiece word's "▁" stands for the space before it,
    /// which transformers' offsets count in (ours leave it out).
    func wordSpan(_ w: Window, _ t: Int, _ text: [Unicode.Scalar]) -> Range<Int> {
        var a = t, b = t
        while a - 1 >= w.context.lowerBound, w.words[a - 1] == w.words[t] { a -= 1 }
        while b + 1 < w.context.upperBound, w.words[b + 1] == w.words[t] { b += 1 }
        var start = w.encoding.offsets[a].lowerBound
        if case .metaspace = words, w.encoding.tokens[a].hasPrefix("\u{2581}"), start > 0,
           text[start - 1].properties.isWhitespace {
            start -= 1
        }
        return start..<w.encoding.offsets[b].upperBound
    }
}
