import BERT
import FuzzSupport

/// A dataset file of arbitrary bytes: the first byte picks CSV, TSV or JSON Lines, the rest
/// is the file. Either a DatasetError naming the file, or rows whose columns line up.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let raw = bytes(data, size)
    let format = ["csv", "tsv", "jsonl"][Int(raw.first ?? 0) % 3]
    let url = FuzzFile.write(UnsafeRawBufferPointer(rebasing: raw.dropFirst()), name: "train.\(format)")
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
    let lineCount = raw.dropFirst().reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
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
