"""What the task golden scripts (fill_mask.py, token_classification.py, rerank.py, zero_shot.py,
question_answering.py) share: loading the other scripts as modules, tiny BERT's spec, making a
seeded perturbed head checkpoint, and saving and converting it. Not a golden script itself
(tools/make_golden runs tools/golden/*.py only).

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "shared"))
    import tiny
    arch = tiny.architectures_module(root)
    model = tiny.perturbed(torch, BertForTokenClassification, config, seed=70, noise=arch.NOISE, factor=3)
    with tiny.converted(root, arch, model, spec, spiece, out, "tiny-random-bert-ner") as hf:
        tokenizer = AutoTokenizer.from_pretrained(hf)
"""

import contextlib
import importlib.machinery
import importlib.util
import os
import tempfile


def load(path, name):
    """A Python file as a module (tools/convert has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def architectures_module(root):
    return load(os.path.join(root, "tools", "golden", "architectures.py"), "golden_architectures")


def convert_module(root):
    return load(os.path.join(root, "tools", "convert"), "tools_convert")


def jsonable(value):
    """A pipeline's output with numpy and torch scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def bert_spec(arch):
    """architectures.py's tiny sizes as a 2-layer BERT with its WordPiece vocabulary (architectures.py
    itself has no BERT: its BERT goldens are real checkpoints). config(**labels) makes the config."""
    from transformers import BertConfig
    vocab = arch.wordpiece_vocab(arch.BERT_SPECIALS, [])
    return dict(config=lambda **labels: BertConfig(vocab_size=len(vocab), num_hidden_layers=2, hidden_act="gelu",
                                                   type_vocab_size=2, hidden_dropout_prob=0.0,
                                                   attention_probs_dropout_prob=0.0, pad_token_id=0,
                                                   **arch.SIZES, **labels),
                types=True, vocab=vocab, tokenizer_class="BertTokenizer", pad=0)


def label_fields(labels):
    """num_labels, id2label and label2id for the label names in id order."""
    return dict(num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})


def perturbed(torch, cls, config, seed, noise, factor=1):
    """cls(config) built after torch.manual_seed(seed) with eager attention, every parameter (in
    name order) moved by N(0, 1) * noise * factor (in that order, as the scripts always computed it)
    so that no bias is zero and no LayerNorm the identity; eval mode."""
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = cls(config)
    with torch.no_grad():
        for _, parameter in sorted(model.named_parameters()):
            parameter.add_(torch.randn_like(parameter) * noise * factor)
    model.eval()
    return model


@contextlib.contextmanager
def converted(root, arch, model, spec, spiece, out, name):
    """Saves model as a Hugging Face directory with its tiny tokenizer (architectures.save_hf), converts
    it with .venv's tools/convert into out, and yields the Hugging Face directory (removed afterwards)."""
    with tempfile.TemporaryDirectory() as work:
        hf = os.path.join(work, "hf")
        arch.save_hf(model, spec, hf, spiece)
        arch.convert(root, os.path.join(root, ".venv", "bin", "python"), hf, out, name)
        yield hf
