#!/usr/bin/env python3
"""Tiny random DistilBERT, ALBERT, ELECTRA, MPNet, RoBERTa, DeBERTa-v2 and ModernBERT checkpoints,
converted by tools/convert, and transformers' outputs and gradients on them: the reference for the
architectures' forward and backward passes in Swift.

usage: .venv-golden/bin/python tools/golden/architectures.py [REPO_ROOT [KEY ...]]   (run by tools/make_golden)

For each model_type, two checkpoints (seeded; hidden 32, 4 heads, intermediate 37, 64 positions,
every weight perturbed by N(0, 0.1) after transformers' init so that no bias is zero and no
LayerNorm is the identity; dropout probabilities 0): the bare *Model and a
*ForSequenceClassification with 3 labels. Each is saved as a Hugging Face directory with a tiny
tokenizer and converted with .venv/bin/python tools/convert into
Tests/BERTTests/Resources/arch/TYPE/ and arch/TYPE-classifier/:
  distilbert  2 layers, no token types, BERT's WordPiece
  albert      embedding_size 16, 3 layers sharing num_hidden_groups 1, gelu_new, its pooler;
              a 400-piece unigram spiece.model trained here on tokenizers/sentencepiece/botchan.txt
              (lowercased) with ALBERT's ids (<pad> <unk> [CLS] [SEP] [MASK]) and a small NFKC
              rule table of its own (sentencepiece's nmt_nfkc table alone is 240 KB)
  electra     embedding_size 16 (so embeddings_project exists), 2 layers
  mpnet       2 layers, relative_attention_num_buckets 32, layer_norm_eps 1e-5, its pooler,
              MPNet's WordPiece specials (<s> <pad> </s> [UNK] <mask>)
  roberta     2 layers, type_vocab_size 1, positions after <pad> (1), its pooler; the byte-level
              BPE tokenizer.json that tools/golden/tokenizer_json.py trains (run that first)
  deberta-v3  (model_type deberta-v2) DeBERTa-v3's shape: 2 layers, relative_attention with
              position_buckets 8 and max_relative_positions 24 (the longest input, over 24
              tokens, reaches the log buckets and the clamp), pos_att_type p2c|c2p, share_att_key,
              norm_rel_ebd layer_norm, position_biased_input false, no token types,
              layer_norm_eps 1e-7; spm.model: a DeBERTa-shaped copy of sentencepiece's own
              botchan_en_unigram_1000.model ([PAD] [CLS] [SEP] [UNK] at ids 0-3, then its normal
              pieces), [MASK] added after the pieces
  deberta-v2  (model_type deberta-v2) the other options: position_biased_input, two token types,
              pos_key_proj / pos_query_proj of their own (share_att_key false), no buckets
              (max_relative_positions 16: the longer inputs reach the clamp), no norm_rel_ebd
  modernbert  3 layers full, sliding, full (global_attn_every_n_layers 2), local_attention 8 (the
              longer inputs, 40 and 47 tokens, are several windows long), the default rope bases,
              no biases, exact GELU, cls pooling; the ModernBERT-shaped tokenizer.json that
              tools/golden/tokenizer_json.py trains (nfc.json) with ModernBERT-base's added tokens
              beside its specials (runs of spaces, |||...||| placeholders, <|padding|>) and
              tokenizer-only cases for them; a ModernBertForMaskedLM of the same weights must
              convert to the bare encoder bit for bit
  modernbert-biased  (model_type modernbert) the other options: layers sliding, full, sliding
              (layer 0 local), local_attention 6, rope bases 1000 / 500, attention_bias, mlp_bias,
              norm_bias and classifier_bias, gelu_pytorch_tanh, mean pooling
The inputs are the texts below through transformers' (fast) tokenizer of each directory; one is a
pair, one is longer than 20 tokens (MPNet: several relative-position buckets each way). The models
run on the right-padded batch with its attention mask.

Before writing, the script checks that the conversion loses nothing: the converted
model.safetensors, renamed back with tools/convert's own canonical_name (loaded with importlib:
one table), loads strictly into a fresh transformers model built from the converted config.json,
every tensor bit-equal and the outputs bit-equal to the original's; and that converting the same
checkpoint from pytorch_model.bin writes the same bytes.

Writes per TYPE, in Tests/BERTTests/Resources/arch/ (N inputs, T_K tokens in input K, C hidden):
  TYPE_golden.json: model_type; model, classifier (the directories, relative to Resources);
    texts, pairs (null or the second text), labels (N class ids), label_names; ids (N lists of
    token ids, special tokens included), type_ids (N lists, or null where the architecture has no
    token types: the model never sees them), lengths; model_pooler (whether model.pooler exists);
    loss (mean cross-entropy of the classifier on the batch with labels); grad_names (every
    parameter's canonical name, sorted); classifier_features (runtime.classifier.features);
    float32_error: {hidden_abs, logits_abs, loss_abs, grad_rel_norm}, the largest distance of these
    float32 results from the same classifier run in float64 (grad_rel_norm: |g32 - g64| / |g64| per
    tensor); zero_gradients: the parameters whose gradient is 0 in exact arithmetic (the attention
    key biases), whose golden holds float32 noise (about 1e-8): compare them absolutely;
    tokenizer: {texts, pairs, ids, type_ids, tokenizer_class}, transformers' fast tokenizer of the
    directory on TOKENIZER_CASES (type ids as the tokenizer gives them, zeros for MPNet)
  TYPE_golden.safetensors (float32):
    model.hidden.K       (T_K, C)  last_hidden_state of the *Model, input K's rows
    model.pooler         (N, C)    its pooler output (ALBERT, MPNet)
    classifier.hidden.K  (T_K, C)  last_hidden_state of the classifier's encoder
    classifier.logits    (N, 3)
    classifier.grad.NAME           d loss / d NAME after one backward, NAME canonical (ALBERT's
                                   shared layer group: the sum over the layers using it)
"""

import copy
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

LABEL_NAMES = ["negative", "neutral", "positive"]
# (text, pair or None, label). Words outside the WordPiece vocabulary below split into pieces.
INPUTS = [
    ("The cat sat on the mat.", None, 0),
    ("A dog ran!", None, 2),
    ("The quick brown fox jumps over the lazy dog, and the cat sat on the mat while a bird sang in "
     "the old tree by the river.", None, 1),
    ("The cat sat.", "A dog ran on the mat by the tree.", 1),
    ("Birds sang.", None, 0),
    ("The old dog jumps over the quick cat, the lazy fox ran to the river and the brown bird sang.",
     None, 2),
]
# Tokenizer-only cases (text, pair): transformers' fast tokenizer of each directory on them gives
# the "tokenizer" block of the JSON. For ALBERT they exercise its convention (whitespace, quotes,
# accents, case, the model's NFKC table); for MPNet its template on a pair; for the WordPiece
# vocabulary, unknown words become [UNK].
TOKENIZER_CASES = [
    ("  The   cat\tsat  ", None),
    ("``Quoted'' and \"double\" quotes", None),
    ("Café naïve résumé, ÀÉÎÕÜ", None),
    ("ﬁne Ｆｕｌｌ ｗｉｄｔｈ… in 1999, 2 dogs", None),
    ("A dog ran.", "The cat sat on the mat!"),
    ("", None),
]
WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "quick", "brown", "fox", "jump", "over",
         "lazy", "and", "while", "bird", "sang", "in", "old", "tree", "by", "river", "to"]
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MPNET_SPECIALS = ["<s>", "<pad>", "</s>", "[UNK]"]  # <mask> goes last, as in MPNet's vocabulary
DEBERTA_SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[UNK]"]  # microsoft/deberta-v3-base's spm.model ids 0-3
# make_log_bucket_position checked over these distances with DeBERTa-v3-base's buckets and range.
BUCKET_CASES = dict(position_buckets=256, max_relative_positions=512, distances=list(range(-1100, 1101)))
ALBERT_PIECES = 400
# RoBERTa's byte-level BPE: the tokenizer.json tools/golden/tokenizer_json.py trains with the
# tokenizers library on Botchan and the benchmark sentences (2,000 tokens, <s> <pad> </s> <unk> <mask>).
ROBERTA_TOKENIZER = os.path.join("Tests", "TokenizersTests", "Resources", "tokenizer_json", "roberta.json")
ROBERTA_VOCAB = 2000
# ModernBERT's: the tokenizer.json tools/golden/tokenizer_json.py trains in ModernBERT's shape (NFC,
# byte-level BPE without a prefix space, [CLS] $A [SEP] [$B [SEP]], [MASK] with lstrip).
MODERNBERT_TOKENIZER = os.path.join("Tests", "TokenizersTests", "Resources", "tokenizer_json", "nfc.json")
# Tokenizer-only cases for ModernBERT's added tokens: runs of spaces and the PII placeholders found
# in the normalized text, [MASK] taking the space before it (lstrip).
MODERNBERT_CASES = [
    ("a  b    c", None),
    ("Tabs\tand   spaces      here  ", None),
    ("mail |||EMAIL_ADDRESS||| or call |||PHONE_NUMBER||| from |||IP_ADDRESS|||", None),
    ("The cat [MASK] on the  mat.", "  A dog   ran."),
    ("<|padding|>[CLS]x[SEP]", None),
]
MODERNBERT_SPECIALS = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                       "mask_token": "[MASK]"}
SIZES = dict(hidden_size=32, num_attention_heads=4, intermediate_size=37, max_position_embeddings=64,
             initializer_range=0.2)
NOISE = 0.1


def load_convert(root):
    """tools/convert as a module (it has no .py suffix), for its canonical_name."""
    path = os.path.join(root, "tools", "convert")
    loader = importlib.machinery.SourceFileLoader("tools_convert", path)
    spec = importlib.util.spec_from_loader("tools_convert", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def wordpiece_vocab(specials_first, specials_last):
    """Specials, the words, every letter alone and as a continuation, a little punctuation."""
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    # a word that is also a letter ("a") once only: a vocabulary lists each token once
    return (specials_first + WORDS + [c for c in letters if c not in WORDS] + ["##" + c for c in letters]
            + [".", ",", "!", "?"] + specials_last)


def albert_spiece(root):
    """A unigram model with ALBERT's special pieces, trained deterministically on committed text."""
    import sentencepiece as spm
    rules = []
    # NFKC of Latin-1, general punctuation, Latin ligatures and full-width ASCII: a rule table small
    # enough to commit that still gives the model a precompiled normalizer of its own.
    for low, high in [(0xA0, 0xFF), (0x2000, 0x206F), (0xFB00, 0xFB06), (0xFF01, 0xFF5E)]:
        for c in range(low, high + 1):
            target = unicodedata.normalize("NFKC", chr(c))
            if target and target != chr(c):
                rules.append(f"{c:X}\t" + " ".join(f"{ord(t):X}" for t in target))
    with open(os.path.join(root, "tokenizers", "sentencepiece", "botchan.txt"), encoding="utf-8") as f:
        lines = f.read().lower().split("\n")
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as work:
        # The model records the rule file's path as given: a relative one keeps the bytes the same.
        os.chdir(work)
        try:
            with open("rules.tsv", "w", encoding="utf-8") as f:
                f.write("\n".join(rules) + "\n")
            model = io.BytesIO()
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_writer=model, vocab_size=ALBERT_PIECES, model_type="unigram",
                pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols=["[CLS]", "[SEP]", "[MASK]"],
                normalization_rule_tsv="rules.tsv", num_threads=1, minloglevel=2)
        finally:
            os.chdir(here)
    return model.getvalue()


def deberta_spm(root):
    """A DeBERTa-shaped copy of sentencepiece's botchan_en_unigram_1000.model: [PAD] [CLS] [SEP]
    [UNK] at ids 0-3 as in deberta-v3's spm.model, then the model's normal pieces in their order,
    scores and normalizer kept."""
    from sentencepiece import sentencepiece_model_pb2 as model_pb2
    m = model_pb2.ModelProto()
    with open(os.path.join(root, "tokenizers", "sentencepiece", "botchan_en_unigram_1000.model"), "rb") as f:
        m.ParseFromString(f.read())
    piece = model_pb2.ModelProto.SentencePiece
    out = model_pb2.ModelProto()
    out.CopyFrom(m)
    del out.pieces[:]
    for content, kind in zip(DEBERTA_SPECIALS, [piece.CONTROL, piece.CONTROL, piece.CONTROL, piece.UNKNOWN]):
        p = out.pieces.add()
        p.piece, p.score, p.type = content, 0.0, kind
    for p in m.pieces:
        if p.type == piece.NORMAL:
            out.pieces.add().CopyFrom(p)
    spec = out.trainer_spec
    spec.pad_id, spec.bos_id, spec.eos_id, spec.unk_id = 0, 1, 2, 3
    spec.pad_piece, spec.bos_piece, spec.eos_piece, spec.unk_piece = DEBERTA_SPECIALS
    return out.SerializeToString(), len(out.pieces)


def modernbert_tokenizer(root):
    """The trained ModernBERT-shaped tokenizer.json with the added tokens answerdotai/ModernBERT-base
    has beside its specials: non-special tokens matched in the normalized text (|||IP_ADDRESS|||, runs
    of 2 to 24 spaces, |||EMAIL_ADDRESS|||, |||PHONE_NUMBER|||) and the special <|padding|>."""
    from tokenizers import AddedToken, Tokenizer
    t = Tokenizer.from_file(os.path.join(root, MODERNBERT_TOKENIZER))
    plain = ([AddedToken("|||IP_ADDRESS|||", normalized=True, special=False)]
             + [AddedToken(" " * n, normalized=True, special=False) for n in range(24, 1, -1)]
             + [AddedToken(name, normalized=True, special=False) for name in ("|||EMAIL_ADDRESS|||", "|||PHONE_NUMBER|||")])
    t.add_tokens(plain)
    t.add_special_tokens([AddedToken("<|padding|>", normalized=False, special=True)])
    return t


def architectures(root):
    from transformers import (AlbertConfig, AlbertForSequenceClassification, AlbertModel, DebertaV2Config,
                              DebertaV2ForSequenceClassification, DebertaV2Model, DistilBertConfig,
                              DistilBertForSequenceClassification, DistilBertModel, ElectraConfig,
                              ElectraForSequenceClassification, ElectraModel, MPNetConfig,
                              MPNetForSequenceClassification, MPNetModel, ModernBertConfig,
                              ModernBertForMaskedLM, ModernBertForSequenceClassification, ModernBertModel, RobertaConfig,
                              RobertaForSequenceClassification, RobertaModel)
    from tokenizers import Tokenizer
    spm_model, spm_pieces = deberta_spm(root)
    modern = modernbert_tokenizer(root)
    modern_ids = {k: modern.token_to_id(v) for k, v in MODERNBERT_SPECIALS.items()}

    def modernbert(**options):
        return lambda **labels: ModernBertConfig(
            vocab_size=modern.get_vocab_size(with_added_tokens=True), num_hidden_layers=3, norm_eps=1e-5,
            embedding_dropout=0.0, attention_dropout=0.0, mlp_dropout=0.0, classifier_dropout=0.0,
            pad_token_id=modern_ids["pad_token"], cls_token_id=modern_ids["cls_token"],
            sep_token_id=modern_ids["sep_token"], bos_token_id=modern_ids["cls_token"],
            eos_token_id=modern_ids["sep_token"], **options, **SIZES, **labels)

    def deberta(**options):
        return lambda **labels: DebertaV2Config(
            vocab_size=spm_pieces + 1, num_hidden_layers=2, hidden_act="gelu", relative_attention=True,
            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pooler_dropout=0.0, pooler_hidden_act="gelu",
            pad_token_id=0, **options, **SIZES, **labels)
    bert_vocab = wordpiece_vocab(BERT_SPECIALS, [])
    mpnet_vocab = wordpiece_vocab(MPNET_SPECIALS, ["<mask>"])
    C, H, I, P = (SIZES[k] for k in ("hidden_size", "num_attention_heads", "intermediate_size",
                                     "max_position_embeddings"))
    return {
        "distilbert": dict(
            config=lambda **labels: DistilBertConfig(
                vocab_size=len(bert_vocab), dim=C, n_layers=2, n_heads=H, hidden_dim=I, max_position_embeddings=P,
                initializer_range=SIZES["initializer_range"], activation="gelu", dropout=0.0, attention_dropout=0.0,
                seq_classif_dropout=0.0, pad_token_id=0, **labels),
            model=DistilBertModel, classifier=DistilBertForSequenceClassification, config_class=DistilBertConfig,
            types=False, vocab=bert_vocab, tokenizer_class="DistilBertTokenizer", pad=0),
        "albert": dict(
            config=lambda **labels: AlbertConfig(
                vocab_size=ALBERT_PIECES, embedding_size=16, num_hidden_layers=3, num_hidden_groups=1,
                inner_group_num=1, hidden_act="gelu_new", type_vocab_size=2, hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.0, pad_token_id=0,
                bos_token_id=2, eos_token_id=3, **SIZES, **labels),
            model=AlbertModel, classifier=AlbertForSequenceClassification, config_class=AlbertConfig,
            types=True, vocab=None, tokenizer_class="AlbertTokenizer", pad=0),
        "electra": dict(
            config=lambda **labels: ElectraConfig(
                vocab_size=len(bert_vocab), embedding_size=16, num_hidden_layers=2, hidden_act="gelu",
                type_vocab_size=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0,
                **SIZES, **labels),
            model=ElectraModel, classifier=ElectraForSequenceClassification, config_class=ElectraConfig,
            types=True, vocab=bert_vocab, tokenizer_class=None, pad=0),
        "mpnet": dict(
            config=lambda **labels: MPNetConfig(
                vocab_size=len(mpnet_vocab), num_hidden_layers=2, hidden_act="gelu", layer_norm_eps=1e-5,
                relative_attention_num_buckets=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                pad_token_id=1, bos_token_id=0, eos_token_id=2, **SIZES, **labels),
            model=MPNetModel, classifier=MPNetForSequenceClassification, config_class=MPNetConfig,
            types=False, vocab=mpnet_vocab, tokenizer_class="MPNetTokenizer", pad=1),
        "roberta": dict(
            config=lambda **labels: RobertaConfig(
                vocab_size=ROBERTA_VOCAB, num_hidden_layers=2, hidden_act="gelu", type_vocab_size=1,
                layer_norm_eps=1e-5, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=1,
                bos_token_id=0, eos_token_id=2, **SIZES, **labels),
            model=RobertaModel, classifier=RobertaForSequenceClassification, config_class=RobertaConfig,
            types=True, vocab=None, tokenizer_class="RobertaTokenizer", pad=1,
            tokenizer_json=os.path.join(root, ROBERTA_TOKENIZER)),
        "deberta-v3": dict(
            config=deberta(type_vocab_size=0, position_biased_input=False, position_buckets=8, max_relative_positions=24,
                           pos_att_type="p2c|c2p", share_att_key=True, norm_rel_ebd="layer_norm", layer_norm_eps=1e-7),
            model=DebertaV2Model, classifier=DebertaV2ForSequenceClassification, config_class=DebertaV2Config,
            types=False, vocab=None, spm=("spm.model", spm_model), tokenizer_class="DebertaV2Tokenizer", pad=0,
            model_type="deberta-v2"),
        "deberta-v2": dict(
            config=deberta(type_vocab_size=2, position_biased_input=True, max_relative_positions=16,
                           pos_att_type=["c2p", "p2c"], share_att_key=False, layer_norm_eps=1e-7),
            model=DebertaV2Model, classifier=DebertaV2ForSequenceClassification, config_class=DebertaV2Config,
            types=True, vocab=None, spm=("spm.model", spm_model), tokenizer_class="DebertaV2Tokenizer", pad=0,
            model_type="deberta-v2"),
        "modernbert": dict(
            config=modernbert(global_attn_every_n_layers=2, local_attention=8, hidden_activation="gelu"),
            model=ModernBertModel, classifier=ModernBertForSequenceClassification, config_class=ModernBertConfig,
            types=False, vocab=None, tokenizer_class="PreTrainedTokenizerFast", pad=modern_ids["pad_token"],
            tokenizer_json_text=modern.to_str(), specials=MODERNBERT_SPECIALS, extra_cases=MODERNBERT_CASES,
            masked_lm=ModernBertForMaskedLM),
        "modernbert-biased": dict(
            config=modernbert(layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                              local_attention=6, global_rope_theta=1000.0, local_rope_theta=500.0,
                              hidden_activation="gelu_pytorch_tanh", attention_bias=True, mlp_bias=True,
                              norm_bias=True, classifier_bias=True, classifier_pooling="mean"),
            model=ModernBertModel, classifier=ModernBertForSequenceClassification, config_class=ModernBertConfig,
            types=False, vocab=None, tokenizer_class="PreTrainedTokenizerFast", pad=modern_ids["pad_token"],
            tokenizer_json_text=modern.to_str(), specials=MODERNBERT_SPECIALS, extra_cases=MODERNBERT_CASES,
            model_type="modernbert"),
    }


def build(torch, spec, seed, classifier):
    """A seeded random model (eager attention), every parameter perturbed so none is trivial."""
    labels = dict(num_labels=3, id2label=dict(enumerate(LABEL_NAMES)),
                  label2id={l: i for i, l in enumerate(LABEL_NAMES)},
                  problem_type="single_label_classification") if classifier else {}
    config = spec["config"](**labels)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = (spec["classifier"] if classifier else spec["model"])(config)
    with torch.no_grad():
        for _, parameter in sorted(model.named_parameters()):
            parameter.add_(torch.randn_like(parameter) * NOISE)
    return model


def save_hf(model, spec, hf, spiece):
    """A Hugging Face directory: the checkpoint, the config and a tokenizer."""
    model.save_pretrained(hf)
    tokenizer_config = {"model_max_length": SIZES["max_position_embeddings"], "do_lower_case": True}
    if spec["tokenizer_class"]:
        tokenizer_config["tokenizer_class"] = spec["tokenizer_class"]
    if spec.get("tokenizer_json_text"):
        with open(os.path.join(hf, "tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(spec["tokenizer_json_text"])
    elif spec.get("tokenizer_json"):
        shutil.copyfile(spec["tokenizer_json"], os.path.join(hf, "tokenizer.json"))
    if spec.get("tokenizer_json_text") or spec.get("tokenizer_json"):
        del tokenizer_config["do_lower_case"]
        tokenizer_config.update(spec.get("specials", {}))
    if "spm" in spec:
        name, data = spec["spm"]
        with open(os.path.join(hf, name), "wb") as f:
            f.write(data)
        tokenizer_config["do_lower_case"] = False
    elif spec["vocab"] is None:
        with open(os.path.join(hf, "spiece.model"), "wb") as f:
            f.write(spiece)
        tokenizer_config["keep_accents"] = False
    else:
        with open(os.path.join(hf, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(spec["vocab"]) + "\n")
    with open(os.path.join(hf, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config, f)


def convert(root, python, hf, out, name):
    subprocess.run([python, os.path.join(root, "tools", "convert"), hf, out, "--name", name], check=True)


def encode(hf, spec):
    """ids and type ids of every input from transformers' tokenizer of the directory."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(hf)
    assert tokenizer.is_fast, f"{hf}: expected the fast tokenizer"
    ids, types = [], []
    for text, pair, _ in INPUTS:
        encoding = tokenizer(text, pair, return_token_type_ids=True)
        ids.append(encoding["input_ids"])
        types.append(encoding["token_type_ids"])
        assert tokenizer.unk_token_id not in encoding["input_ids"], f"{text!r} has unknown tokens"
    return ids, types


def tokenizer_cases(hf, extra=()):
    """transformers' fast tokenizer of the directory on TOKENIZER_CASES (and the architecture's own
    extra cases): ids and type ids."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(hf)
    ids, types = [], []
    cases = TOKENIZER_CASES + list(extra)
    for text, pair in cases:
        encoding = tokenizer(text, pair, return_token_type_ids=True)
        ids.append(encoding["input_ids"])
        types.append(encoding["token_type_ids"])
    return {"texts": [t for t, _ in cases], "pairs": [p for _, p in cases],
            "ids": ids, "type_ids": types, "tokenizer_class": type(tokenizer).__name__}


def padded(torch, ids, types, spec):
    """The right-padded batch: input_ids, attention_mask (and token_type_ids where they exist)."""
    T = max(len(row) for row in ids)
    batch = {"input_ids": torch.full((len(ids), T), spec["pad"], dtype=torch.long),
             "attention_mask": torch.zeros((len(ids), T), dtype=torch.long)}
    if spec["types"]:
        batch["token_type_ids"] = torch.zeros((len(ids), T), dtype=torch.long)
    for k, row in enumerate(ids):
        batch["input_ids"][k, :len(row)] = torch.tensor(row)
        batch["attention_mask"][k, :len(row)] = 1
        if spec["types"]:
            batch["token_type_ids"][k, :len(row)] = torch.tensor(types[k])
    return batch


def check_lossless(torch, convert_module, spec, model, out, batch):
    """The converted directory, renamed back, rebuilds the same transformers model bit for bit."""
    from safetensors.torch import load_file
    model_type = model.config.model_type
    tensors = load_file(os.path.join(out, "model.safetensors"))
    state = model.state_dict()
    names = {name: convert_module.canonical_name(name, model_type) for name in state}
    assert None not in names.values(), f"{out}: a parameter would be dropped"
    assert sorted(set(names.values())) == sorted(tensors), \
        f"{out}: canonical names differ: {sorted(set(names.values()) ^ set(tensors))}"
    with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config.pop("runtime")
    config = spec["config_class"].from_dict(config)
    config._attn_implementation = "eager"
    fresh = type(model)(config)
    fresh.load_state_dict({name: tensors[canonical] for name, canonical in names.items()}, strict=True)
    for name, value in fresh.state_dict().items():
        assert torch.equal(value, state[name]), f"{out}: {name} differs after the round trip"
    model.eval()
    fresh.eval()
    with torch.no_grad():
        a, b = model(**batch), fresh(**batch)
    for key in a.keys():
        assert torch.equal(a[key], b[key]), f"{out}: {key} differs after the round trip"


def check_pytorch_bin(torch, root, model, hf, out):
    """tools/convert on pytorch_model.bin writes what it writes from model.safetensors."""
    with tempfile.TemporaryDirectory() as work:
        bin_dir, bin_out = os.path.join(work, "hf"), os.path.join(work, "out")
        shutil.copytree(hf, bin_dir)
        os.remove(os.path.join(bin_dir, "model.safetensors"))
        torch.save(model.state_dict(), os.path.join(bin_dir, "pytorch_model.bin"))
        with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
            name = json.load(f)["runtime"]["source"]
        convert(root, sys.executable, bin_dir, bin_out, name)
        for filename in os.listdir(out):
            with open(os.path.join(out, filename), "rb") as f, open(os.path.join(bin_out, filename), "rb") as g:
                assert f.read() == g.read(), f"{filename} differs when converted from pytorch_model.bin"


def check_masked_lm(torch, root, spec, model, hf):
    """A *ForMaskedLM checkpoint (answerdotai/ModernBERT-base is one) converts to the encoder alone:
    the head and decoder are dropped, the encoder's tensors are the bare model's, bit for bit."""
    from safetensors.torch import load_file
    masked = spec["masked_lm"](model.config)
    masked.model.load_state_dict(model.state_dict())
    with tempfile.TemporaryDirectory() as work:
        src, out = os.path.join(work, "hf"), os.path.join(work, "out")
        shutil.copytree(hf, src)
        for name in os.listdir(src):
            if name.startswith("model.safetensors") or name.startswith("config"):
                os.remove(os.path.join(src, name))
        masked.save_pretrained(src)
        result = subprocess.run([sys.executable, os.path.join(root, "tools", "convert"), src, out, "--name", "masked"],
                                check=True, capture_output=True, text=True)
        assert "dropped" in result.stdout and "head" in result.stdout and "decoder" in result.stdout, result.stdout
        ours = load_file(os.path.join(out, "model.safetensors"))
        with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
            assert "masked_lm" not in json.load(f)["runtime"]
    return ours


def float32_error(torch, convert_module, model, batch, labels, output, hidden, grads):
    """How far transformers' float32 results are from the same model in float64: the floor under
    any tolerance. Gradients that vanish in exact arithmetic (the key biases: softmax ignores a
    constant per query) hold float32 noise only, so they are listed apart and left out of the
    relative figure."""
    model_type = model.config.model_type
    twin = copy.deepcopy(model).double()
    twin.zero_grad()
    exact = twin(**batch, labels=torch.tensor(labels))
    mask = batch["attention_mask"].bool()
    if torch.isfinite(exact.logits).all():
        exact.loss.backward()
        with torch.no_grad():
            exact_hidden = twin.base_model(**batch).last_hidden_state
    else:
        # ModernBERT in float64: a padding row that its sliding window masks entirely gets
        # softmax(-inf) = NaN, which 0-probabilities carry into the real rows. Each input alone
        # (no padding) gives the same mathematics.
        exact_hidden = torch.zeros(mask.shape + (model.config.hidden_size,), dtype=torch.float64)
        logits, loss = [], 0
        for k in range(mask.shape[0]):
            one = {name: value[k:k + 1, :int(mask[k].sum())] for name, value in batch.items()}
            out = twin(**one, labels=torch.tensor(labels[k:k + 1]))
            (out.loss / mask.shape[0]).backward()
            loss, logits = loss + out.loss.item() / mask.shape[0], logits + [out.logits.detach()]
            with torch.no_grad():
                exact_hidden[k, :one["input_ids"].shape[1]] = twin.base_model(**one).last_hidden_state[0]
        exact = type(exact)(loss=torch.tensor(loss), logits=torch.cat(logits))
    zero, relative = [], 0.0
    for name, parameter in twin.named_parameters():
        canonical = convert_module.canonical_name(name, model_type)
        if parameter.grad.abs().max().item() < 1e-12:
            zero.append(canonical)
            continue
        error = (grads[canonical].double() - parameter.grad).norm() / parameter.grad.norm()
        relative = max(relative, error.item())
    return {"hidden_abs": (hidden.double() - exact_hidden)[mask].abs().max().item(),
            "logits_abs": (output.logits.detach().double() - exact.logits).abs().max().item(),
            "loss_abs": abs(output.loss.item() - exact.loss.item()),
            "grad_rel_norm": relative}, sorted(zero)


def relative_buckets(torch):
    """transformers' make_log_bucket_position on BUCKET_CASES: DeBERTa's buckets at full size."""
    from transformers.models.deberta_v2.modeling_deberta_v2 import make_log_bucket_position
    distances = torch.tensor(BUCKET_CASES["distances"], dtype=torch.long)
    buckets = make_log_bucket_position(distances, BUCKET_CASES["position_buckets"],
                                       BUCKET_CASES["max_relative_positions"]).to(torch.long)
    return {**BUCKET_CASES, "buckets": buckets.tolist()}


def unpadded(hidden, ids):
    return [hidden[k, :len(row)].contiguous() for k, row in enumerate(ids)]


def run(torch, root, convert_module, key, spec, seed, spiece, resources):
    venv_python = os.path.join(root, ".venv", "bin", "python")
    model_type = spec.get("model_type", key)
    golden = {"generated_by": "tools/golden/architectures.py", "model_type": model_type,
              "model": f"arch/{key}", "classifier": f"arch/{key}-classifier",
              "label_names": LABEL_NAMES, "texts": [t for t, _, _ in INPUTS], "pairs": [p for _, p, _ in INPUTS],
              "labels": [label for _, _, label in INPUTS]}
    tensors = {}
    for classifier in (False, True):
        model = build(torch, spec, seed + classifier, classifier)
        kind = "classifier" if classifier else "model"
        out = os.path.join(resources, "arch", f"{key}-classifier" if classifier else key)
        with tempfile.TemporaryDirectory() as hf:
            save_hf(model, spec, hf, spiece)
            convert(root, venv_python, hf, out,
                    f"tiny random {type(model).__name__} (tools/golden/architectures.py)")
            ids, types = encode(hf, spec)
            if classifier:
                check_pytorch_bin(torch, root, model, hf, out)
            else:
                golden["tokenizer"] = tokenizer_cases(hf, spec.get("extra_cases", ()))
                if "masked_lm" in spec:
                    from safetensors.torch import load_file
                    encoder = load_file(os.path.join(out, "model.safetensors"))
                    masked = check_masked_lm(torch, root, spec, model, hf)
                    assert sorted(masked) == sorted(encoder) and all(torch.equal(masked[k], encoder[k]) for k in encoder), \
                        f"{key}: the *ForMaskedLM conversion differs from the encoder's"
        golden["ids"], golden["type_ids"] = ids, (types if spec["types"] else None)
        batch = padded(torch, ids, types, spec)
        check_lossless(torch, convert_module, spec, model, out, batch)
        if not classifier:
            model.eval()
            with torch.no_grad():
                output = model(**batch)
            for k, rows in enumerate(unpadded(output.last_hidden_state, ids)):
                tensors[f"model.hidden.{k}"] = rows
            if getattr(output, "pooler_output", None) is not None:
                tensors["model.pooler"] = output.pooler_output.contiguous()
            golden["model_pooler"] = getattr(output, "pooler_output", None) is not None
            continue
        model.train()  # dropout probabilities are 0: train mode changes nothing but states it
        model.zero_grad()
        output = model(**batch, labels=torch.tensor(golden["labels"]))
        output.loss.backward()
        with torch.no_grad():
            hidden = model.base_model(**batch).last_hidden_state
        for k, rows in enumerate(unpadded(hidden, ids)):
            tensors[f"classifier.hidden.{k}"] = rows
        tensors["classifier.logits"] = output.logits.detach().contiguous()
        golden["loss"] = output.loss.item()
        grads = {}
        for name, parameter in model.named_parameters():
            canonical = convert_module.canonical_name(name, model_type)
            assert canonical is not None and canonical not in grads, name
            grads[canonical] = parameter.grad.detach().clone().contiguous()
        tensors.update({f"classifier.grad.{name}": g for name, g in sorted(grads.items())})
        golden["grad_names"] = sorted(grads)
        golden["float32_error"], golden["zero_gradients"] = float32_error(torch, convert_module, model, batch,
                                                                          golden["labels"], output, hidden, grads)
        golden["classifier_features"] = convert_module.HEAD_FEATURES[model_type]
    golden["lengths"] = [len(row) for row in golden["ids"]]
    if model_type == "deberta-v2":
        golden["relative_buckets"] = relative_buckets(torch)
    prefix = os.path.join(resources, "arch", f"{key}_golden")
    from safetensors.torch import save_file
    save_file({k: v.float() for k, v in sorted(tensors.items())}, prefix + ".safetensors",
              metadata={"generated_by": "tools/golden/architectures.py"})
    os.chmod(prefix + ".safetensors", 0o644)
    with open(prefix + ".json", "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"architectures.py: {key}: lengths {golden['lengths']}, loss {golden['loss']:.6f}, "
          f"{len(golden['grad_names'])} gradients", file=sys.stderr)


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
    import torch
    import transformers
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    convert_module = load_convert(root)
    resources = os.path.join(root, "Tests", "BERTTests", "Resources")
    os.makedirs(os.path.join(resources, "arch"), exist_ok=True)
    spiece = albert_spiece(root)
    print(f"architectures.py: spiece.model sha256 {hashlib.sha256(spiece).hexdigest()[:16]}", file=sys.stderr)
    only = sys.argv[2:]  # for a quicker regeneration of some: architectures.py ROOT KEY... (same seeds)
    for index, (key, spec) in enumerate(architectures(root).items()):
        if not only or key in only:
            run(torch, root, convert_module, key, spec, 2 * index, spiece, resources)


if __name__ == "__main__":
    main()
