#!/usr/bin/env python3
"""Tiny random *ForMaskedLM checkpoints, converted by tools/convert, and transformers' fill-mask
pipeline and masked-LM head gradients on them: the reference for MaskedLMHead and MaskFiller.
Then AntiBERTy (antiberty 0.0.6 from PyPI, a BertForMaskedLM over amino acids) through the same
pipeline on antibody sequences, when models/antiberty exists (tools/setup makes it).

usage: .venv-golden/bin/python tools/golden/fill_mask.py [REPO_ROOT]   (run by tools/make_golden)

Models (architectures.py's tiny sizes, tokenizers and perturbation, seeded): bert (BertForMaskedLM,
2 layers), distilbert, albert (embedding_size 16: the head maps 32 → 16), electra
(ElectraForMaskedLM, the generator head, embedding_size 16), mpnet (<mask>). Each is saved as a
Hugging Face directory and converted into Tests/BERTTests/Resources/mlm/TYPE/.

Writes Tests/BERTTests/Resources/mlm/fill_mask_golden.json:
  {TYPE: {"model": "mlm/TYPE", "texts": [...], "pipeline": [the pipeline's output per text, top_k 5],
          "head": {"rows": N, "labels": [N ids], "loss": mean cross-entropy}}}
and mlm/TYPE_head.safetensors (float32): input (N, C) random hidden states, logits (N, V) of the
head on them, dinput (N, C), and grad.NAME for each head parameter by canonical name (the tied
decoder's as embeddings.word_embeddings.weight, its bias as mlm.bias), d loss after one backward.
And Tests/BERTTests/Resources/antiberty_fill_mask_golden.json: {"texts", "pipeline"}.
"""

import importlib.machinery
import importlib.util
import json
import os
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

# Sentences of the tiny vocabulary's words (architectures.WORDS), a mask or two in each.
TEXTS = [
    "The cat sat on the {m}.",
    "A {m} ran over the lazy dog!",
    "The quick brown fox {m} over the {m} dog, and the bird sang.",
    "{m} old tree by the river",
    "the dog ran to the {m} while a bird sang in the old tree.",
]
# Antibody heavy- and light-chain fragments (residues separated by spaces), one or two masked.
ANTIBODIES = [
    "E V Q L V E S G G G L V Q P G G S L R L S C A A S G F [MASK] F S S Y A M S",
    "Q V Q L Q E S G P G L V K P S E T L S L T C T V S G G S I S S [MASK] Y W S W I R Q",
    "D I Q M T Q S P S S L S A S V G D R V T I T C R A S Q S I S S Y L N W Y Q Q K P G K A P K L L I Y [MASK] A S",
    "E V Q L [MASK] E S G G G L V Q P G G S L R L S C A A S [MASK] F T F S",
    "[MASK] V Q L V Q S G A E V K K P G A S V K V S C K A S G Y T F T",
]
HEAD_ROWS = 6


def load(path, name):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def specs(arch, root):
    from transformers import (AlbertForMaskedLM, BertConfig, BertForMaskedLM, DistilBertForMaskedLM,
                              ElectraForMaskedLM, MPNetForMaskedLM)
    base = arch.architectures(root)
    bert_vocab = arch.wordpiece_vocab(arch.BERT_SPECIALS, [])
    bert = dict(config=lambda: BertConfig(vocab_size=len(bert_vocab), num_hidden_layers=2, hidden_act="gelu",
                                          type_vocab_size=2, hidden_dropout_prob=0.0,
                                          attention_probs_dropout_prob=0.0, pad_token_id=0, **arch.SIZES),
                types=True, vocab=bert_vocab, tokenizer_class="BertTokenizer", pad=0)
    out = {"bert": (bert, BertForMaskedLM)}
    for model_type, cls in (("distilbert", DistilBertForMaskedLM), ("albert", AlbertForMaskedLM),
                            ("electra", ElectraForMaskedLM), ("mpnet", MPNetForMaskedLM)):
        out[model_type] = (base[model_type], cls)
    return out


def head_of(model):
    """The masked-LM head as a function of the last hidden states."""
    t = model.config.model_type
    if t == "bert":
        return model.cls
    if t == "distilbert":
        return lambda h: model.vocab_projector(model.vocab_layer_norm(model.activation(model.vocab_transform(h))))
    if t == "albert":
        return model.predictions
    if t == "electra":
        return lambda h: model.generator_lm_head(model.generator_predictions(h))
    return model.lm_head


def head_gradients(torch, convert, model, seed):
    torch.manual_seed(seed + 100)
    C, V = model.config.hidden_size, model.config.vocab_size
    x = torch.randn(HEAD_ROWS, C, requires_grad=True)
    labels = torch.randint(0, V, (HEAD_ROWS,))
    model.zero_grad()
    logits = head_of(model)(x)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    tensors = {"input": x.detach(), "logits": logits.detach(), "dinput": x.grad.detach()}
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        canonical = convert.canonical_name(name, model.config.model_type)
        canonical = {"mlm.decoder.bias": "mlm.bias", "mlm.decoder.weight": "embeddings.word_embeddings.weight"}.get(
            canonical, canonical)
        if canonical.startswith("mlm.") or canonical == "embeddings.word_embeddings.weight":
            tensors["grad." + canonical] = p.grad.detach().clone()
    return tensors, {"rows": HEAD_ROWS, "labels": labels.tolist(), "loss": loss.item()}


def pipeline_outputs(model, tokenizer, texts):
    from transformers import pipeline
    fill = pipeline("fill-mask", model=model, tokenizer=tokenizer, device="cpu")
    return [fill(text, top_k=5) for text in texts]


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import torch
    import transformers
    from safetensors.torch import save_file
    from transformers import AutoTokenizer
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    arch = load(os.path.join(root, "tools", "golden", "architectures.py"), "golden_architectures")
    convert = load(os.path.join(root, "tools", "convert"), "tools_convert")
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    venv_python = os.path.join(root, ".venv", "bin", "python")
    spiece = arch.albert_spiece(root)
    golden = {}
    for index, (model_type, (spec, cls)) in enumerate(specs(arch, root).items()):
        config = spec["config"]()
        config._attn_implementation = "eager"
        torch.manual_seed(40 + index)
        model = cls(config)
        with torch.no_grad():
            for _, parameter in sorted(model.named_parameters()):
                parameter.add_(torch.randn_like(parameter) * arch.NOISE)
        model.eval()
        out = os.path.join(resources, "mlm", model_type)
        with tempfile.TemporaryDirectory() as work:
            hf = os.path.join(work, "hf")
            arch.save_hf(model, spec, hf, spiece)
            arch.convert(root, venv_python, hf, out, f"tiny-random-{model_type}-mlm")
            tokenizer = AutoTokenizer.from_pretrained(hf)
        texts = [t.replace("{m}", tokenizer.mask_token) for t in TEXTS]
        tensors, head = head_gradients(torch, convert, model, index)
        save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(resources, "mlm", f"{model_type}_head.safetensors"))
        golden[model_type] = {"model": f"mlm/{model_type}", "texts": texts,
                              "pipeline": pipeline_outputs(model, tokenizer, texts), "head": head}
    with open(os.path.join(resources, "mlm", "fill_mask_golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")

    antiberty = os.path.join(root, "data", "download", "antiberty-hf")
    if os.path.isdir(antiberty):
        from transformers import BertForMaskedLM, BertTokenizerFast
        model = BertForMaskedLM.from_pretrained(antiberty)
        model.eval()
        tokenizer = BertTokenizerFast(os.path.join(antiberty, "vocab.txt"), do_lower_case=False)
        with open(os.path.join(resources, "antiberty_fill_mask_golden.json"), "w", encoding="utf-8") as f:
            json.dump({"texts": ANTIBODIES, "pipeline": pipeline_outputs(model, tokenizer, ANTIBODIES)}, f, indent=1)
            f.write("\n")
    else:
        print(f"fill_mask.py: {antiberty} not found (tools/setup makes it): AntiBERTy golden not written", file=sys.stderr)


if __name__ == "__main__":
    main()
