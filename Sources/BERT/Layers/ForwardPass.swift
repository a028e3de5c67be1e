/// One forward pass over a batch: what every layer reads (the batch, the position bias),
/// where inference works (scratch, lanes), and, for training, the dropout generator and
/// the flag that keeps each layer's activations for its backward.
final class ForwardPass {
    let batch: Batch
    /// The packed row where each sequence starts (`Batch.starts`, computed once).
    let starts: [Int]
    /// Working memory of an inference pass (training allocates what it keeps).
    let scratch: Scratch
    /// Two threads for a lone batch (inference only).
    let lanes: Lanes?
    /// Parts each product and the heads are cut into: `Lanes.parts` for a lone batch (run
    /// on the lanes when they were free, else one after another), 1 for a worker's batch.
    let parts: Int
    /// Keep activations for the backward (training).
    let saving: Bool
    /// Dropout draws; nil: no dropout (inference, evaluation, parity tests).
    var rng: SplitMix64?
    /// The attention's additive position bias for this batch (MPNet), when the architecture has one.
    var positionBias: PositionBias?
    /// The relative positions of DeBERTa's disentangled attention, when the architecture has it.
    var relative: RelativePositions?
    /// ModernBERT's rotary tables for this batch, by base θ (made before the layers run).
    var rotary: [Float: RotaryTable] = [:]

    init(batch: Batch, scratch: Scratch, lone: Bool = false, lanes: Lanes? = nil, saving: Bool = false, rng: SplitMix64? = nil) {
        self.batch = batch
        starts = batch.starts
        self.scratch = scratch
        self.lanes = saving ? nil : lanes
        parts = lone && !saving ? Lanes.parts : 1
        self.saving = saving
        self.rng = rng
    }

    /// Runs `body(part, lane)` for each of `parts` parts: on the two lanes when this pass
    /// has them, else one after another here. The parts are the same either way, so a
    /// result never depends on whether the lanes were free (concurrent calls agree bit
    /// for bit with a call alone).
    func split(_ parts: Int, _ body: (_ part: Int, _ lane: Int) -> Void) {
        if let lanes { return lanes.split(parts, body) }
        for part in 0..<parts { body(part, 0) }
    }

    /// Part `part` of `parts` of n output columns.
    func columns(_ n: Int, part: Int, of parts: Int) -> Range<Int> {
        parts == 1 ? 0..<n : Lanes.columns(n, part: part, of: parts)
    }
}
