import BERT
import FuzzSupport

/// A training file of arbitrary bytes: the first byte picks CSV, TSV or JSON Lines (`Dataset`),
/// raw text (`TextLines`, --task mlm) or tagged words (`TaggedWords`, token classification);
/// the rest is the file. Either a DatasetError naming the file, or rows whose columns line up.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let raw = bytes(data, size)
    let selector = Int(raw.first ?? 0) % 5
    let format = ["csv", "tsv", "jsonl", "txt", "jsonl"][selector]
    let url = FuzzFile.write(UnsafeRawBufferPointer(rebasing: raw.dropFirst()), name: "train.\(format)")
    let lineCount = raw.dropFirst().reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    func lines(_ found: [Int]) {
        for (k, line) in found.enumerated() {
            require(line >= 1 && line <= lineCount, "line \(line) of \(lineCount)")
            require(k == 0 || line > found[k - 1], "lines out of order")
        }
    }
    do {
        switch selector {
        case 3:
            let text = try TextLines(contentsOf: url)
            require(text.count > 0 && text.lines.count == text.count, "an empty corpus accepted, or lines missing")
            require(text.texts.allSatisfy { !$0.allSatisfy(\.isWhitespace) && !$0.contains("\n") && !$0.contains("\r\n") },
                    "a blank document, or one spanning lines")
            lines(text.lines)
            return 0
        case 4:
            let tagged = try TaggedWords(contentsOf: url)
            require(tagged.count > 0 && tagged.lines.count == tagged.count && tagged.tags.count == tagged.count, "columns of different lengths")
            for k in 0..<tagged.count {
                require(!tagged.words[k].isEmpty && tagged.words[k].count == tagged.tags[k].count, "row \(k): words and tags do not pair")
                require(tagged.tags[k].allSatisfy { !$0.isEmpty }, "row \(k): an empty tag")
            }
            lines(tagged.lines)
            return 0
        default:
            break
        }
    } catch let error as DatasetError {
        require(error.description.hasPrefix(url.path), "the error does not name the file: \(error)")
        require(!error.description.contains("\n"), "a multi-line error: \(error)")
        return 0
    } catch {
        require(false, "an untyped error: \(error)")
        return 0
    }
    let dataset: Dataset
    do {
        dataset = try Dataset(contentsOf: url)
    } catch let error as DatasetError {
        require(error.description.hasPrefix(url.path), "the error does not name the file: \(error)")
        require(!error.description.contains("\n"), "a multi-line error: \(error)")
        return 0
    } catch {
        require(false, "an untyped error: \(error)")
        return 0
    }
    let n = dataset.count
    require(n > 0, "an empty dataset accepted")
    require(dataset.labels.count == n && dataset.lines.count == n && (dataset.pairs?.count ?? n) == n,
            "columns of different lengths")
    for k in 0..<n {
        require(!dataset.texts[k].isEmpty && !dataset.labels[k].isEmpty, "an empty text or label at row \(k)")
        require(dataset.lines[k] >= 1 && dataset.lines[k] <= lineCount, "line \(dataset.lines[k]) of \(lineCount)")
        require(k == 0 || dataset.lines[k] > dataset.lines[k - 1], "lines out of order")
    }
    require(Set(dataset.labelSet) == Set(dataset.labels) && dataset.labelSet.count == Set(dataset.labels).count,
            "labelSet \(dataset.labelSet)")
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
