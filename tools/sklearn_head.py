"""Read a scikit-learn LogisticRegression saved with joblib, without scikit-learn.

The pickle names sklearn's class; a stand-in class that keeps the pickled state is
enough to read coef_, intercept_ and classes_, so the converter needs only joblib.
Used by tools/convert --sklearn-head (models/README.md, "Classifiers").
"""

import sys
import types

import numpy as np


class _Estimator:
    """Stands in for any sklearn estimator class while unpickling: keeps its state."""

    def __setstate__(self, state):
        self.__dict__.update(state)


def _load_with_stand_ins(path, module, name):
    import joblib
    saved = {m: sys.modules.get(m) for m in ("sklearn", "sklearn.linear_model", module)}
    try:
        for m in saved:
            sys.modules[m] = types.ModuleType(m)
        setattr(sys.modules[module], name, _Estimator)
        return joblib.load(path)
    finally:
        for m, original in saved.items():
            if original is None:
                sys.modules.pop(m, None)
            else:
                sys.modules[m] = original


def resolve_label(class_name, label_map):
    """The label name for one of classes_, as rag-intent-classifier's infer.py resolves it:
    its label map holds both id → name and name → id entries."""
    if label_map is None:
        return class_name
    if class_name in label_map:
        mapped = str(label_map[class_name])
        return class_name if mapped.lstrip("-").isdigit() else mapped
    for key, value in label_map.items():
        if str(key) == class_name or str(value) == class_name:
            return str(key)
    return class_name


def read_logistic_regression(path, label_map_path, hidden_size):
    """(weight (L, C), bias (L), labels) of a multinomial logistic regression."""
    import joblib
    model = _load_with_stand_ins(path, "sklearn.linear_model._logistic", "LogisticRegression")
    missing = [a for a in ("coef_", "intercept_", "classes_") if not hasattr(model, a)]
    if missing:
        raise ValueError(f"{path}: not a fitted LogisticRegression (no {', '.join(missing)})")
    coef, intercept = np.asarray(model.coef_, np.float32), np.asarray(model.intercept_, np.float32)
    classes = [str(c) for c in model.classes_]
    if coef.shape != (len(classes), hidden_size) or len(classes) < 3:
        raise ValueError(f"{path}: coef_ has shape {list(coef.shape)}; expected ({len(classes)}, {hidden_size}) "
                         "with 3+ classes (a multinomial head over the encoder's embeddings)")
    if getattr(model, "multi_class", "auto") == "ovr":
        raise ValueError(f"{path}: one-vs-rest logistic regression is not supported (only multinomial)")
    label_map = joblib.load(label_map_path) if label_map_path else None
    labels = [resolve_label(c, label_map) for c in classes]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{label_map_path}: two classes resolve to the same label")
    return np.ascontiguousarray(coef), np.ascontiguousarray(intercept), labels
