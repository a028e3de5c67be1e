import ArgumentParser
import BERT
import Foundation

struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a classifier or regressor on a labelled dataset and write a model directory.",
        discussion: """
        DATASET is CSV, TSV or JSON Lines with a text (or sentence) column, an optional text_pair \
        column and a label column, found by header name. Without --validation, a seeded 10% of \
        DATASET is held out for validation. --task says what the label is:

        classification (default): one label per row (strings or integers); softmax and \
        cross-entropy; validation accuracy picks the best epoch. regression: a number per row, on a \
        text or a text pair (a cross-encoder); one output trained with mean squared error \
        (problem_type regression); validation Spearman picks the best epoch. multi-label: any number \
        of labels per row, a JSON array in JSON Lines or joined by --label-separator in CSV/TSV; a \
        sigmoid and binary cross-entropy per label (problem_type multi_label_classification); \
        validation micro-F1 at --threshold picks the best epoch. token-classification: JSON Lines \
        rows {"tokens": [words], "tags": [one string tag per word, IOB]}; each word tokenized on its \
        own (is_split_into_words), the tag on its first sub-token, cross-entropy over those tokens \
        (BertForTokenClassification); the tag set is the training file's, by code point; validation \
        entity F1 (seqeval's) picks the best epoch; the output loads in `bert tag`; with --freeze-encoder \
        the encoder's hidden states are computed once and only the per-token Linear trains. \
        embedding: the bi-encoder itself, no head (the model's pooling and normalization, as bert embed embeds); rows anchor,positive \
        (and optionally negative) train MultipleNegativesRankingLoss (--loss mnrl, the default: \
        cosine x 20 against every positive and negative of the batch, cross-entropy toward the \
        row's own positive); rows sentence1,sentence2,score train --loss cosent (CoSENTLoss, scale \
        20) or --loss cosine (CosineSimilarityLoss: MSE of the cosine against the score, which \
        should be 0..1: --score-scale 5 divides STS's 0..5 scores by 5). The validation figure is \
        Spearman of the cosine against the scores when the validation rows have them, else the \
        negated validation loss; the output is an embedding model for bert embed and bert serve. \
        mlm: continued masked-LM pre-training on raw text, one document per line (a .txt file; blank \
        lines skipped): BERT's masking (--mask-probability of the tokens, 15% by default, or of the \
        words with --whole-word-mask; of those 80% become the mask token, 10% a random token, 10% stay), \
        drawn anew each epoch; cross-entropy over the masked tokens (BertForMaskedLM). A model without \
        a masked-LM head (all-MiniLM-L6-v2) gets a new one tied to its word embeddings. The validation \
        lines are masked once, the same each epoch; the lowest validation loss picks the best epoch and \
        perplexity is shown beside it. The output keeps the head: bert fill-mask, bert embed and a later \
        bert finetune --model load it; bert evaluate --task mlm --seed S scores held-out text as the run did.

        Full fine-tuning (the default) trains the whole encoder, the pooler and a new classifier \
        (BertForSequenceClassification, dropout 0.1) with AdamW (betas 0.9/0.999, eps 1e-8, weight \
        decay 0.01 except biases and LayerNorm weights), linear warmup over 10% of the steps then \
        linear decay, gradient norm clipped at 1.0; default learning rate \(FinetuneOptions.defaultLearningRate). \
        --freeze-encoder encodes each example once and trains a linear head on the sentence \
        embedding; default learning rate \(FinetuneOptions.defaultHeadLearningRate).

        After each epoch one line reports train loss, validation loss and the task's validation \
        figures; the best epoch is what --output holds. The training state is saved \
        atomically to OUTPUT.checkpoint.safetensors after every epoch (and every --checkpoint-steps); \
        --resume continues an interrupted run from it to the same result.
        """)

    @Argument(help: "The training data (.csv, .tsv or .jsonl).")
    var dataset: String
    @Option(help: "The model directory to write (replaced only when the run writes a better epoch).")
    var output: String
    @OptionGroup var model: ModelOptions
    @Option(help: "Validation data; without it, a seeded 10% of DATASET.")
    var validation: String?
    @Option(help: "classification, regression, multi-label, token-classification, embedding or mlm.")
    var task: FinetuneTask = .classification
    @Option(help: "--task embedding: mnrl (anchor,positive[,negative] rows), cosent or cosine (sentence1,sentence2,score rows).")
    var loss: EmbeddingLoss?
    @Option(help: "--task embedding: divide the scores by this (cosine wants 0..1; 5 for STS's 0..5).")
    var scoreScale = 1.0
    @Option(help: "--task mlm: the share of tokens (or words) chosen for the loss.")
    var maskProbability = 0.15
    @Flag(help: "--task mlm: mask whole words (every sub-token of a chosen word).")
    var wholeWordMask = false
    @Option(help: "Multi-label CSV/TSV: what joins a row's labels.")
    var labelSeparator = ","
    @Option(help: "Multi-label: a label is predicted when its sigmoid reaches this (validation figures).")
    var threshold = 0.5
    @Flag(help: "Train only a linear head on cached sentence embeddings (token-classification: on cached hidden states).")
    var freezeEncoder = false
    @Option(help: "Passes over the training data.")
    var epochs = 3
    @Option(help: "Peak learning rate (default \(FinetuneOptions.defaultLearningRate), or \(FinetuneOptions.defaultHeadLearningRate) with --freeze-encoder).")
    var learningRate: Double?
    @Option(help: "Examples per step.")
    var batchSize = 32
    @Option(help: "Maximum tokens per example, special tokens included.")
    var maxLength = 128
    @Option(help: "Seed of the validation split, data order, classifier init and dropout.")
    var seed: UInt64 = 42
    @Option(help: "Stop after N epochs without a better validation score.")
    var patience: Int?
    @Option(help: "Also save the training state every N steps.")
    var checkpointSteps: Int?
    @Flag(help: "Continue the interrupted run that writes --output.")
    var resume = false
    @Option(help: "Also write each epoch's figures to FILE as JSON Lines.")
    var jsonLog: String?
    @Option(help: ArgumentHelp(
        "Arithmetic of the encoder layers' weight products while training: fp32 (default) or bf16.",
        discussion: "bf16 is mixed precision, as PyTorch's CPU autocast: each product's operands rounded to bf16, fp32 sums; "
            + "weights, gradients, AdamW and the loss stay fp32. It needs a CPU with avx512_bf16 and full fine-tuning "
            + "(not --freeze-encoder), and gives up the fp32 run's PyTorch parity. "
            + "--resume needs the --precision the run started with. The model written is fp32 either way."))
    var precision: Precision = .fp32

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2") }
        if let lr = learningRate, !(lr > 0 && lr.isFinite) { throw ValidationError("--learning-rate must be positive") }
        if let p = patience, p < 1 { throw ValidationError("--patience must be at least 1") }
        if let n = checkpointSteps, n < 1 { throw ValidationError("--checkpoint-steps must be at least 1") }
        guard threshold > 0, threshold < 1 else { throw ValidationError("--threshold must be between 0 and 1") }
        guard !labelSeparator.isEmpty else { throw ValidationError("--label-separator must not be empty") }
        guard scoreScale > 0, scoreScale.isFinite else { throw ValidationError("--score-scale must be positive") }
        if task != .embedding, loss != nil || scoreScale != 1 { throw ValidationError("--loss and --score-scale are for --task embedding") }
        guard maskProbability > 0, maskProbability < 1 else { throw ValidationError("--mask-probability must be between 0 and 1") }
        if task != .mlm, maskProbability != 0.15 || wholeWordMask { throw ValidationError("--mask-probability and --whole-word-mask are for --task mlm") }
    }

    func run() throws {
        try reportingErrors {
            var options = FinetuneOptions()
            options.task = task
            options.loss = loss
            options.scoreScale = scoreScale
            options.maskProbability = maskProbability
            options.wholeWordMask = wholeWordMask
            options.labelSeparator = labelSeparator
            options.threshold = threshold
            options.freezeEncoder = freezeEncoder
            options.epochs = epochs
            options.learningRate = learningRate
            options.batchSize = batchSize
            options.maxLength = maxLength
            options.seed = seed
            options.patience = patience
            options.checkpointSteps = checkpointSteps
            options.precision = precision == .fp32 ? nil : precision
            let tuner = FineTuner(source: try model.directory(default: "all-MiniLM-L6-v2"), options: options)
            var log: FileHandle? = nil
            if let jsonLog {
                guard FileManager.default.createFile(atPath: jsonLog, contents: nil), let h = FileHandle(forWritingAtPath: jsonLog) else {
                    throw FinetuneError.invalidOption("\(jsonLog): cannot create the JSON log; choose another --json-log")
                }
                log = h
            }
            defer { try? log?.close() }
            let bar = ProgressBar()
            tuner.onStatus = { bar.clear(); FileHandle.standardError.write(Data("bert: \($0)\n".utf8)) }
            tuner.onProgress = { bar.show($0) }
            tuner.onEpoch = { r in
                bar.clear()
                let figures = r.figures.map { String(format: "  %@ %.4f", $0.name, $0.value) }.joined()
                emit(String(format: "epoch %d/%d  train loss %.4f  validation loss %.4f%@  %.0f s%@",
                            r.epoch, epochs, r.trainLoss, r.validationLoss, figures, r.seconds, r.best ? "  (best, saved)" : ""))
                let fields = r.figures.map { String(format: ",\"%@\":%.6f", $0.key, $0.value) }.joined()
                log?.write(Data(String(format: "{\"epoch\":%d,\"train_loss\":%.6f,\"validation_loss\":%.6f%@,\"best\":%@,\"seconds\":%.1f}\n",
                                       r.epoch, r.trainLoss, r.validationLoss, fields, r.best ? "true" : "false", r.seconds).utf8))
            }
            let summary = try tuner.run(train: URL(fileURLWithPath: dataset), validation: validation.map { URL(fileURLWithPath: $0) },
                                        output: URL(fileURLWithPath: output), resume: resume)
            bar.clear()
            if let best = summary.best {
                let labels = task == .regression || task == .embedding || task == .mlm ? "" : "; labels \(summary.labels.joined(separator: ", "))"
                FileHandle.standardError.write(Data("bert: wrote \(output) (epoch \(best.epoch), validation \(best.score.name) \(String(format: "%.4f", best.score.value))\(labels))\n".utf8))
            }
        }
    }
}

/// One line on stderr, redrawn in place, only when stderr is a terminal.
final class ProgressBar {
    private let enabled = isatty(STDERR_FILENO) == 1
    private var shown = false

    func show(_ p: FinetuneProgress) {
        guard enabled else { return }
        let width = 30
        let done = Int(Double(width) * Double(p.step) / Double(max(p.stepsPerEpoch, 1)))
        let remaining = Double((p.epochs - p.epoch) * p.stepsPerEpoch + (p.stepsPerEpoch - p.step)) * p.secondsPerStep
        let eta = remaining >= 3600 ? String(format: "%dh%02dm", Int(remaining) / 3600, Int(remaining) % 3600 / 60)
                                    : String(format: "%dm%02ds", Int(remaining) / 60, Int(remaining) % 60)
        let line = String(format: "\repoch %d/%d [%@%@] %d/%d  loss %.4f  %.2f s/step  ETA %@\u{1B}[K",
                          p.epoch, p.epochs, String(repeating: "=", count: done), String(repeating: " ", count: width - done),
                          p.step, p.stepsPerEpoch, p.loss, p.secondsPerStep, eta)
        FileHandle.standardError.write(Data(line.utf8))
        shown = true
    }

    func clear() {
        guard enabled, shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}
extension EmbeddingLoss: ExpressibleByArgument {}
