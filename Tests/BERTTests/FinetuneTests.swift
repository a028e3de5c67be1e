import Foundation
import Testing
@testable import BERT

/// A scratch directory with a tiny model and small datasets in it.
struct FinetuneScratch {
    let root: URL
    let tiny: TinyModel

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        tiny = try TinyModel()
    }

    func file(_ name: String, _ contents: String) throws -> URL {
        let url = root.appendingPathComponent(name)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// 40 rows: "cat" sentences and "dog" sentences of the tiny vocabulary.
    func trainingCSV(_ name: String = "train.csv") throws -> URL {
        let words = ["the", "sat", "on", "mat", "."]
        var rng = SplitMix64(seed: 5)
        var rows = ["text,label"]
        for k in 0..<40 {
            let animal = k % 2 == 0 ? "cat" : "dog"
            var sentence = (0..<1 + rng.below(4)).map { _ in words[rng.below(words.count)] }
            sentence.insert(animal, at: rng.below(sentence.count + 1))
            rows.append("\(sentence.joined(separator: " ")),\(animal)")
        }
        return try file(name, rows.joined(separator: "\n") + "\n")
    }

    func options(freeze: Bool = false) -> FinetuneOptions {
        var o = FinetuneOptions()
        o.freezeEncoder = freeze
        o.epochs = 3
        o.batchSize = 4
        o.maxLength = 12
        o.seed = 7
        o.learningRate = freeze ? 5e-2 : 1e-3
        return o
    }

    func tuner(_ options: FinetuneOptions) throws -> FineTuner {
        FineTuner(source: try ModelDirectory(url: tiny.url), options: options)
    }

    func remove() {
        tiny.remove()
        try? FileManager.default.removeItem(at: root)
    }
}

/// Every file under `url` with its bytes, to show a directory was left untouched.
func snapshot(_ url: URL) -> [String: Data] {
    let fm = FileManager.default
    var out: [String: Data] = [:]
    for name in (try? fm.subpathsOfDirectory(atPath: url.path)) ?? [] {
        if let d = fm.contents(atPath: url.appendingPathComponent(name).path) { out[name] = d }
    }
    return out
}

@Suite(.serialized) struct FinetuneTests {
    @Test(arguments: [false, true])
    func writesAModelDirectoryThatClassifyEmbedAndEvaluateLoad(freeze: Bool) throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let output = s.root.appendingPathComponent("classifier")
        var reports: [EpochReport] = []
        let tuner = try s.tuner(s.options(freeze: freeze))
        tuner.onEpoch = { reports.append($0) }
        let summary = try tuner.run(train: s.trainingCSV(), output: output)
        #expect(!summary.interrupted)
        #expect(summary.labels == ["cat", "dog"])
        #expect((summary.trainRows, summary.validationRows) == (36, 4))
        #expect(reports.count == 3 && reports == summary.epochs)
        #expect(reports.first!.best)
        #expect(!FileManager.default.fileExists(atPath: FineTuner.checkpointURL(for: output).path), "a finished run leaves no state")

        let directory = try ModelDirectory(url: output)
        #expect(directory.config.labels == ["cat", "dog"])
        #expect(directory.config.problemType == "single_label_classification")
        #expect(directory.config.runtime.classifier?.features == (freeze ? .embedding : .pooler))
        let classifier = try TextClassifier(directory: directory)
        let c = try classifier.classify(["the cat sat"])[0]
        #expect(["cat", "dog"].contains(c.label) && abs(c.scores.map(\.score).reduce(0, +) - 1) < 1e-5)
        #expect(try SentenceEmbedder(directory: directory).embed("the dog").count == 8)
        let evaluation = try classifier.evaluate(Dataset(contentsOf: s.trainingCSV("all.csv")))
        #expect(evaluation.count == 40 && evaluation.metrics.perClass.map(\.support) == [20, 20])
        #expect(evaluation.loss > 0 && evaluation.loss.isFinite)
        // The best epoch's validation accuracy is what the directory reproduces on those rows.
        let file = try SafetensorsFile(path: output.appendingPathComponent("model.safetensors").path)
        #expect(file.contains("classifier.weight") && file.contains("encoder.layer.1.output.dense.weight"))
    }

    /// An interrupted run, resumed, ends with the same weights as an uninterrupted one,
    /// bit for bit: mid-epoch (dropout and data order restored) and at an epoch's end.
    @Test(arguments: [13, 9])
    func resumeEqualsUninterrupted(haltAfter: Int) throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let train = try s.trainingCSV()
        let a = s.root.appendingPathComponent("a"), b = s.root.appendingPathComponent("b")
        let straight = try s.tuner(s.options())
        straight.workers = 2
        let full = try straight.run(train: train, output: a)

        let first = try s.tuner(s.options())
        first.workers = 2
        first.haltAfterSteps = haltAfter
        let stopped = try first.run(train: train, output: b)
        #expect(stopped.interrupted)
        #expect(FileManager.default.fileExists(atPath: FineTuner.checkpointURL(for: b).path))
        let second = try s.tuner(s.options())
        second.workers = 1  // ignored: the run resumes with the two workers it started with
        let resumed = try second.run(train: train, output: b, resume: true)
        #expect(!resumed.interrupted)

        for (p, q) in zip(straight.finalParameters!.all, second.finalParameters!.all) {
            #expect(p.name == q.name)
            #expect(p.value.values == q.value.values, "\(p.name) differs after resuming")
            #expect(p.m.values == q.m.values && p.v.values == q.v.values, "\(p.name)'s Adam moments differ")
        }
        let strip = { (r: [EpochReport]) in r.map { [$0.trainLoss, $0.validationLoss, $0.accuracy, $0.macroF1] } }
        #expect(strip(full.epochs) == strip(resumed.epochs))
        let fa = try SafetensorsFile(path: a.appendingPathComponent("model.safetensors").path)
        let fb = try SafetensorsFile(path: b.appendingPathComponent("model.safetensors").path)
        for name in fa.names { #expect(try fa.tensor(name).values == fb.tensor(name).values, "\(name)") }
    }

    @Test func resumeRefusesOtherOptionsAndMissingState() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let train = try s.trainingCSV(), out = s.root.appendingPathComponent("out")
        #expect(throws: FinetuneError.self) { try s.tuner(s.options()).run(train: train, output: out, resume: true) }
        let first = try s.tuner(s.options())
        first.haltAfterSteps = 2
        _ = try first.run(train: train, output: out)
        var other = s.options()
        other.seed = 8
        do {
            _ = try s.tuner(other).run(train: train, output: out, resume: true)
            Issue.record("resumed with another seed")
        } catch let error as FinetuneError {
            #expect("\(error)".contains(FineTuner.checkpointURL(for: out).path) && "\(error)".contains("without --resume"))
        }
    }

    @Test func patienceStopsEarly() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        var o = s.options()
        o.epochs = 30
        o.patience = 1
        o.learningRate = 1e-9  // nothing improves after the first epoch
        let summary = try s.tuner(o).run(train: s.trainingCSV(), output: s.root.appendingPathComponent("out"))
        #expect(summary.epochs.count == 2)
    }

    // MARK: wrong inputs leave existing output untouched

    func expectFailureLeavesOutput(_ s: FinetuneScratch, train: URL, validation: URL? = nil,
                                   _ check: (Error) -> Void, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let output = s.root.appendingPathComponent("existing")
        if !FileManager.default.fileExists(atPath: output.path) {
            try FileManager.default.copyItem(at: s.tiny.url, to: output)
        }
        let before = snapshot(output)
        do {
            _ = try s.tuner(s.options()).run(train: train, validation: validation, output: output)
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch {
            check(error)
            #expect(!"\(error)".contains("\n"), sourceLocation: sourceLocation)
        }
        #expect(snapshot(output) == before, "the existing output changed", sourceLocation: sourceLocation)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: s.root.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)", sourceLocation: sourceLocation)
    }

    @Test func unknownColumn() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let bad = try s.file("bad.csv", "review,label\nthe cat,cat\nthe dog,dog\n")
        try expectFailureLeavesOutput(s, train: bad) { error in
            #expect(error as? DatasetError == .missingColumn(path: bad.path, wanted: "text (or sentence)", found: ["review", "label"]))
            #expect("\(error)".contains(bad.path) && "\(error)".contains("review"))
        }
        let noLabel = try s.file("nolabel.jsonl", "{\"text\": \"the cat\", \"class\": 1}\n")
        try expectFailureLeavesOutput(s, train: noLabel) { error in
            #expect(error as? DatasetError == .missingColumn(path: noLabel.path, wanted: "label", found: ["class", "text"]))
        }
    }

    @Test func oneLabelOnly() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let bad = try s.file("one.csv", "text,label\nthe cat,cat\nthe mat,cat\n")
        try expectFailureLeavesOutput(s, train: bad) { #expect($0 as? DatasetError == .oneLabel(path: bad.path, label: "cat")) }
    }

    /// A label column of ids (every row its own label) is refused at once, not trained for
    /// hours: single-label, multi-label and a validation label unknown to the training set.
    @Test func tooManyLabels() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let n = TaskTargets.maxLabels + 1
        let ids = try s.file("ids.csv", "text,label\n" + (0..<n).map { "the cat \($0),id\($0)" }.joined(separator: "\n") + "\n")
        let start = Date()
        try expectFailureLeavesOutput(s, train: ids) { error in
            #expect(error as? DatasetError == .tooManyLabels(path: ids.path, count: n, limit: TaskTargets.maxLabels))
            #expect("\(error)".contains("\(n) distinct labels"))
        }
        #expect(Date().timeIntervalSince(start) < 30)
        var multi = s.options()
        multi.task = .multiLabel
        let output = s.root.appendingPathComponent("multi-out")
        #expect(throws: DatasetError.tooManyLabels(path: ids.path, count: n, limit: TaskTargets.maxLabels)) {
            _ = try s.tuner(multi).run(train: ids, validation: nil, output: output)
        }
        // At the limit, a validation row with an unknown label: the message lists 20 labels, not 10,000.
        let many = try s.file("many.csv", "text,label\n" + (0..<TaskTargets.maxLabels).map { "the cat \($0),id\($0)" }.joined(separator: "\n") + "\n")
        let unknown = try s.file("unknown.csv", "text,label\nthe dog,nope\n")
        do {
            _ = try s.tuner(s.options(freeze: true)).run(train: many, validation: unknown, output: output)
            Issue.record("no error")
        } catch let error as DatasetError {
            guard case .unknownLabel(_, 2, "nope", let known) = error else { Issue.record("\(error)"); return }
            #expect(known.count == TaskTargets.maxLabels)
            #expect("\(error)".contains("… \(TaskTargets.maxLabels - 20) more") && "\(error)".count < 600)
        }
    }

    @Test func emptyFile() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        for (name, text) in [("empty.csv", ""), ("header.csv", "text,label\n"), ("blank.jsonl", "\n\n")] {
            let bad = try s.file(name, text)
            try expectFailureLeavesOutput(s, train: bad) { #expect($0 as? DatasetError == .empty(path: bad.path)) }
        }
    }

    @Test func missingFile() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let missing = s.root.appendingPathComponent("nope.csv")
        try expectFailureLeavesOutput(s, train: missing) { #expect($0 as? DatasetError == .missingFile(path: missing.path)) }
        try expectFailureLeavesOutput(s, train: s.trainingCSV(), validation: missing) {
            #expect($0 as? DatasetError == .missingFile(path: missing.path))
        }
    }

    @Test func badRowNamesFileAndLine() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        // Line 3 holds a quoted newline, so the bad row (three fields) starts on line 5.
        let bad = try s.file("bad.csv", "text,label\nthe cat,cat\n\"the dog\nsat\",dog\nthe,mat,cat\n")
        try expectFailureLeavesOutput(s, train: bad) { error in
            guard case .badRow(let path, let line, _)? = error as? DatasetError else { Issue.record("\(error)"); return }
            #expect(path == bad.path && line == 5)
            #expect("\(error)".hasPrefix("\(bad.path):5: "))
        }
        let json = try s.file("bad.jsonl", "{\"text\": \"the cat\", \"label\": \"cat\"}\n{\"text\": \"the dog\", \"label\": [1]}\n")
        try expectFailureLeavesOutput(s, train: json) { error in
            guard case .badRow(_, let line, _)? = error as? DatasetError else { Issue.record("\(error)"); return }
            #expect(line == 2)
        }
        let unknown = try s.file("dev.csv", "text,label\nthe cat,cat\nthe mat,bird\n")
        try expectFailureLeavesOutput(s, train: s.trainingCSV(), validation: unknown) {
            #expect($0 as? DatasetError == .unknownLabel(path: unknown.path, line: 3, label: "bird", known: ["cat", "dog"]))
        }
    }

    @Test func unwritableOutput() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let train = try s.trainingCSV()
        let aFile = try s.file("plain", "not a directory")
        for output in [aFile.appendingPathComponent("model"), aFile, s.root.appendingPathComponent("missing/model")] {
            do {
                _ = try s.tuner(s.options()).run(train: train, output: output)
                Issue.record("wrote \(output.path)")
            } catch {
                #expect(error is FinetuneError && "\(error)".contains(output.path) && "\(error)".contains("--output"), "\(error)")
            }
        }
        #expect(try String(contentsOf: aFile, encoding: .utf8) == "not a directory")
        // A directory that is not a model directory is never replaced.
        let precious = s.root.appendingPathComponent("precious")
        try FileManager.default.createDirectory(at: precious, withIntermediateDirectories: false)
        try "notes".write(to: precious.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        #expect(throws: FinetuneError.self) { try s.tuner(s.options()).run(train: train, output: precious) }
        #expect(snapshot(precious) == ["notes.txt": Data("notes".utf8)])
    }

    @Test func aFailedWriteLeavesTheExistingDirectory() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let output = s.root.appendingPathComponent("existing")
        try FileManager.default.copyItem(at: s.tiny.url, to: output)
        let before = snapshot(output)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try AtomicDirectory.write(output) { dir in
                try "half".write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
                throw Boom()
            }
        }
        #expect(snapshot(output) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root.path).filter { $0.hasPrefix(".") }.isEmpty)
        try AtomicDirectory.write(output) { dir in try "new".write(to: dir.appendingPathComponent("x"), atomically: true, encoding: .utf8) }
        #expect(snapshot(output) == ["x": Data("new".utf8)])
    }
}

@Suite struct DatasetTests {
    @Test func readsCSVWithQuotingTSVAndJSONLines() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let csv = try Dataset(contentsOf: s.file("a.csv", "\u{FEFF}Sentence,text_pair,label\r\n\"a, \"\"quoted\"\"\nline\",b,2\r\nplain,,10\r\n"))
        #expect(csv.texts == ["a, \"quoted\"\nline", "plain"] && csv.pairs! == ["b", ""] && csv.labels == ["2", "10"])
        #expect(csv.lines == [2, 4])
        #expect(csv.labelSet == ["2", "10"], "integer labels sort as numbers")
        let tsv = try Dataset(contentsOf: s.file("a.tsv", "label\ttext\npos\tgood, fine\nneg\tbad\n"))
        #expect(tsv.texts == ["good, fine", "bad"] && tsv.labelSet == ["neg", "pos"])
        let jsonl = try Dataset(contentsOf: s.file("a.jsonl", "{\"text\":\"x\",\"label\":1}\n\n{\"text\":\"y\",\"label\":0}\n"))
        #expect(jsonl.labels == ["1", "0"] && jsonl.lines == [1, 3] && jsonl.pairs == nil)
    }

    @Test func unknownExtensionAndUnclosedQuote() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let txt = try s.file("a.txt", "text,label\n")
        #expect(throws: DatasetError.unknownFormat(path: txt.path)) { try Dataset(contentsOf: txt) }
        let open = try s.file("open.csv", "text,label\n\"never closed,x\n")
        #expect(throws: DatasetError.self) { try Dataset(contentsOf: open) }
    }

    @Test func metrics() {
        let m = Metrics(predictions: [0, 0, 1, 1, 2], gold: [0, 1, 1, 1, 0], classes: 3)
        #expect(m.accuracy == 0.6)
        // F1: class 0: 2·1/(2+2) = 0.5; class 1: 2·2/(3+2) = 0.8; class 2: 0.
        #expect(abs(m.macroF1 - (0.5 + 0.8 + 0) / 3) < 1e-12)
        #expect(m.perClass[1] == Metrics.ClassCounts(support: 3, predicted: 2, correct: 2))
    }
}
