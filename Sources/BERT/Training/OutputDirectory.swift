import Foundation
import Tokenizers

/// Why the fine-tuner cannot write or resume; one line naming the path and what to do.
public enum FinetuneError: Error, Equatable, CustomStringConvertible {
    case unwritableOutput(path: String, reason: String)
    case cannotResume(path: String, reason: String)
    case invalidOption(String)

    public var description: String {
        switch self {
        case .unwritableOutput(let path, let reason):
            return "\(path): cannot write the model directory here: \(reason); choose another --output"
        case .cannotResume(let path, let reason):
            return "\(path): cannot resume: \(reason); run without --resume to start afresh"
        case .invalidOption(let reason):
            return reason
        }
    }
}

/// Writes a directory atomically: it is built under a temporary name beside `url`, then
/// renamed into place; an existing directory is swapped out only once the new one is
/// complete, so a failure leaves whatever was there untouched.
enum AtomicDirectory {
    /// Fails early, before any training, when `url` could not be written.
    static func checkWritable(_ url: URL) throws {
        recover(url)
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: parent.path, isDirectory: &isDirectory) else {
            throw FinetuneError.unwritableOutput(path: url.path, reason: "the parent directory \(parent.path) does not exist")
        }
        guard isDirectory.boolValue else {
            throw FinetuneError.unwritableOutput(path: url.path, reason: "\(parent.path) is a file, not a directory")
        }
        guard fm.isWritableFile(atPath: parent.path) else {
            throw FinetuneError.unwritableOutput(path: url.path, reason: "the parent directory \(parent.path) is not writable")
        }
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw FinetuneError.unwritableOutput(path: url.path, reason: "it is a file, not a directory")
            }
            let contents = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
            guard contents.isEmpty || contents.contains("config.json") else {
                throw FinetuneError.unwritableOutput(path: url.path, reason: "it is a directory that is neither empty nor a model directory, and would be replaced")
            }
        }
        // A probe, for read-only file systems and the like.
        let probe = parent.appendingPathComponent(".\(url.lastPathComponent).probe-\(UUID().uuidString)")
        guard fm.createFile(atPath: probe.path, contents: Data()) else {
            throw FinetuneError.unwritableOutput(path: url.path, reason: "cannot create files in \(parent.path)")
        }
        try? fm.removeItem(at: probe)
    }

    /// An error's text for a one-line message: ours as they describe themselves, Foundation's
    /// by their localized description.
    static func describe(_ error: Error) -> String {
        switch error {
        case let e as AtomicFile.WriteError: return e.reason
        case let e as FinetuneError: return e.description
        case let e as ModelError: return e.description
        default: return error.localizedDescription
        }
    }

    /// What a write killed at any instant leaves beside `url`: `.NAME.tmp-*` (a directory
    /// being built) and `.NAME.old-*` (the previous one, moved aside for the swap). A
    /// leftover `.old-` with no `url` means the kill fell between the two renames: it is the
    /// last complete directory, so it goes back into place. Run before each write and at start.
    static func recover(_ url: URL) {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        let name = url.lastPathComponent
        guard let siblings = try? fm.contentsOfDirectory(atPath: parent.path) else { return }
        for sibling in siblings where sibling.hasPrefix(".\(name).tmp-") {
            try? fm.removeItem(at: parent.appendingPathComponent(sibling))
        }
        var olds = siblings.filter { $0.hasPrefix(".\(name).old-") }
        if !fm.fileExists(atPath: url.path), let newest = olds.max(by: { modified(parent, $0) < modified(parent, $1) }) {
            if (try? fm.moveItem(at: parent.appendingPathComponent(newest), to: url)) != nil {
                olds.removeAll { $0 == newest }
            }
        }
        for old in olds { try? fm.removeItem(at: parent.appendingPathComponent(old)) }
    }

    private static func modified(_ parent: URL, _ name: String) -> Date {
        let attributes = try? FileManager.default.attributesOfItem(atPath: parent.appendingPathComponent(name).path)
        return attributes?[.modificationDate] as? Date ?? .distantPast
    }

    /// Calls `build` with an empty temporary directory, then puts it at `url`.
    static func write(_ url: URL, _ build: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        recover(url)
        let temporary = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
            try build(temporary)
        } catch {
            try? fm.removeItem(at: temporary)
            throw error
        }
        if fm.fileExists(atPath: url.path) {
            let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(UUID().uuidString)")
            do {
                try fm.moveItem(at: url, to: old)
            } catch {
                try? fm.removeItem(at: temporary)
                throw FinetuneError.unwritableOutput(path: url.path, reason: "cannot move the existing directory aside (\(error.localizedDescription))")
            }
            do {
                try fm.moveItem(at: temporary, to: url)
            } catch {
                try? fm.moveItem(at: old, to: url)
                try? fm.removeItem(at: temporary)
                throw FinetuneError.unwritableOutput(path: url.path, reason: "cannot rename the new directory into place (\(error.localizedDescription))")
            }
            try? fm.removeItem(at: old)
        } else {
            do {
                try fm.moveItem(at: temporary, to: url)
            } catch {
                try? fm.removeItem(at: temporary)
                throw FinetuneError.unwritableOutput(path: url.path, reason: "cannot rename the new directory into place (\(error.localizedDescription))")
            }
        }
    }
}

/// A fine-tuned classifier directory: the source's config with the head's fields,
/// every tensor, the tokenizer file copied.
struct ClassifierDirectoryWriter {
    let source: ModelDirectory
    let labels: [String]
    let features: ClassifierHead.Features
    let problem: ClassifierHead.Problem
    let provenance: [String: Any]
    /// An embedding model (--task embedding): the source's config as it is, no head fields.
    var headless = false

    func write(tensors: [String: Tensor], to url: URL) throws {
        var config = try ModelDirectoryOutput.sourceConfig(source)
        if headless {  // a classifier source's head fields go: the output is its encoder
            for key in ["id2label", "label2id", "problem_type", "num_labels"] { config.removeValue(forKey: key) }
            if source.config.runtime.classifier != nil {
                config["architectures"] = ["\(source.config.architecture.classPrefix(source.config))Model"]
            }
        } else {
            config["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
            config["label2id"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
            config["problem_type"] = problem.rawValue
        }
        if features != .embedding && !headless {
            config["architectures"] = ["\(source.config.architecture.classPrefix(source.config))ForSequenceClassification"]
        }
        var runtime = config["runtime"] as? [String: Any] ?? [:]
        if headless { runtime.removeValue(forKey: "classifier") } else { runtime["classifier"] = ["features": features.rawValue] }
        runtime["finetune"] = provenance
        config["runtime"] = runtime
        try ModelDirectoryOutput.write(config: config, tensors: tensors, tokenizerOf: source, to: url)
    }
}

/// The files of a trained model directory, written atomically: config.json (the source's,
/// edited by the writer), model.safetensors, the source's tokenizer file copied.
enum ModelDirectoryOutput {
    /// The source's config.json as JSON, for a writer to edit.
    static func sourceConfig(_ source: ModelDirectory) throws -> [String: Any] {
        let url = source.url.appendingPathComponent("config.json")
        guard let data = FileContents.read(url.path),
              let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError.missingFile(path: url.path)
        }
        return config
    }

    static func write(config: [String: Any], tensors: [String: Tensor], tokenizerOf source: ModelDirectory, to url: URL) throws {
        let tokenizerFile = source.config.runtime.tokenizer.file
        do {
            try AtomicDirectory.write(url) { dir in
                let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                try json.write(to: dir.appendingPathComponent("config.json"))
                try SafetensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
                try FileManager.default.copyItem(at: source.url.appendingPathComponent(tokenizerFile),
                                                 to: dir.appendingPathComponent(tokenizerFile))
            }
        } catch let error as FinetuneError {
            throw error
        } catch {
            // a full disk, most often: say so, and that nothing was lost
            throw FinetuneError.unwritableOutput(path: url.path, reason: "cannot write the new model directory (\(AtomicDirectory.describe(error))); the previous one, if any, is untouched")
        }
    }
}
