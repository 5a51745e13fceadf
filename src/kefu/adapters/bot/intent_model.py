"""The assistant's intent classifier: scikit-learn, trained on ``data/bot/train.jsonl``.

Why an adapter and not a service: the classifier is a third-party engine (scikit-learn, rjieba)
with file I/O (the training file, the ``joblib`` model file), the same kind of thing as the
search index in ``kefu.adapters.search``. The domain only sees the small
:class:`~kefu.domain.bot.understand.IntentScorer` port; every rule about reading a message
(normalising, slots, placeholders, the greeting and withdrawn-request rules) stays pure in
``kefu.domain.bot`` and is applied to the training text and the live text alike.

The model: two TF-IDF views of :func:`kefu.domain.bot.features` text — character 1–3-grams
(robust to typos and to how jieba happens to cut an unusual phrase) and jieba words
(:func:`kefu.adapters.segment.words`, rjieba) — joined and
fed to a linear SVM, whose scores are turned into probabilities by sigmoid calibration over
five stratified folds (``CalibratedClassifierCV``). Training is deterministic (fixed seed, no
shuffling) and takes a few seconds.

Caching: ``load_or_train`` loads ``var/bot/model.joblib``; when the file is missing, or was built
from another training file, other feature code or another scikit-learn version (a fingerprint
stored with it says which), it trains once and writes the file atomically. Nothing is
downloaded (the jieba dictionary ships inside rjieba). The model file is a pickle: load only files this
process or ``kefu bot train`` wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from kefu.adapters import segment
from kefu.config import PROJECT_ROOT
from kefu.domain.bot import Understanding, features, understand
from kefu.domain.bot.scoring import LabelledMessage, parse_labelled

SEED = 20260305
DEFAULT_TRAIN_FILE = PROJECT_ROOT / "data" / "bot" / "train.jsonl"
DEFAULT_MODEL_FILE = PROJECT_ROOT / "var" / "bot" / "model.joblib"
#: the modules whose code shapes the classifier's input
_FEATURE_MODULES = ("kefu.domain.bot.normalise", "kefu.domain.bot.slots", "kefu.domain.bot.understand")
#: bump when the model's shape changes in a way the fingerprint of the sources cannot see
FORMAT = 1

def words(text: str) -> list[str]:
    """jieba words of classifier text (spaces dropped; placeholders and Latin words stay whole)."""
    return [w for w in segment.words(text) if w.strip()]


def _code_fingerprint() -> str:
    digest = hashlib.sha256(f"{FORMAT}|{sklearn.__version__}|{segment.VERSION}".encode())
    for name in _FEATURE_MODULES:
        digest.update(Path(str(importlib.import_module(name).__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(segment.__file__).read_bytes())
    return digest.hexdigest()


def fingerprint(train_bytes: bytes, seed: int) -> str:
    """What a trained model depends on: the training file, the seed, the feature and model code."""
    return hashlib.sha256(train_bytes + f"|{seed}|".encode() + _code_fingerprint().encode()).hexdigest()


def _pipeline(seed: int) -> Pipeline:
    vectors = FeatureUnion([
        ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1)),
        ("words", TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=1)),
    ])
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed, max_iter=20000)
    return Pipeline([("vectors", vectors), ("classify", CalibratedClassifierCV(svm, method="sigmoid", cv=5))])


class _Compiled:
    """The fitted pipeline's arithmetic for one message, without scikit-learn's per-call input
    checks (which cost ~50 ms a message for five calibrated folds; this takes well under one).

    Same numbers as ``pipeline.predict_proba``: each TF-IDF block is sublinear term frequency ×
    idf, L2-normalised; every fold's SVM scores go through that fold's per-class sigmoid
    ``1 / (1 + exp(a·s + b))``, are normalised to sum to one (uniform if all are zero), and the
    folds are averaged. A test holds the two equal.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        vectors: FeatureUnion = pipeline.named_steps["vectors"]
        calibrated: CalibratedClassifierCV = pipeline.named_steps["classify"]
        self.blocks: list[tuple[Any, dict[str, int], np.ndarray, int]] = []
        offset = 0
        for _, vectorizer in vectors.transformer_list:
            vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
            self.blocks.append((vectorizer.build_analyzer(), vocabulary, np.asarray(vectorizer.idf_), offset))
            offset += len(vocabulary)
        self.classes = [str(c) for c in calibrated.classes_]
        folds = calibrated.calibrated_classifiers_
        weights, bias, a, b = [], [], [], []
        for fold in folds:
            if [str(c) for c in fold.estimator.classes_] != self.classes:
                raise ValueError("every fold must know every intent")
            weights.append(np.asarray(fold.estimator.coef_, dtype=np.float64).T)
            bias.append(np.asarray(fold.estimator.intercept_, dtype=np.float64))
            a.append([c.a_ for c in fold.calibrators])
            b.append([c.b_ for c in fold.calibrators])
        self.weights = np.ascontiguousarray(np.hstack(weights))
        self.bias = np.concatenate(bias)
        self.a = np.asarray(a, dtype=np.float64).ravel()
        self.b = np.asarray(b, dtype=np.float64).ravel()
        self.folds = len(folds)

    def probabilities(self, text: str) -> np.ndarray:
        rows: list[int] = []
        values: list[float] = []
        for analyse, vocabulary, idf, offset in self.blocks:
            counts: dict[int, int] = {}
            for term in analyse(text):
                column = vocabulary.get(term)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weight = (1.0 + np.log(tf)) * idf[columns]
            weight /= np.sqrt(weight @ weight)
            rows.extend((columns + offset).tolist())
            values.extend(weight.tolist())
        scores = self.bias.copy()
        if rows:
            scores += np.asarray(values) @ self.weights[rows]
        proba = (1.0 / (1.0 + np.exp(self.a * scores + self.b))).reshape(self.folds, len(self.classes))
        totals = proba.sum(axis=1, keepdims=True)
        proba = np.where(totals > 0, proba / np.where(totals > 0, totals, 1.0), 1.0 / len(self.classes))
        return np.asarray(proba.mean(axis=0))


@dataclass
class IntentModel:
    """A trained classifier; implements :class:`~kefu.domain.bot.understand.IntentScorer`."""

    pipeline: Pipeline
    fingerprint: str = ""

    def __post_init__(self) -> None:
        self._compiled = _Compiled(self.pipeline)

    @property
    def intents(self) -> list[str]:
        return list(self._compiled.classes)

    def intent_probabilities(self, features: str) -> Mapping[str, float]:
        row = self._compiled.probabilities(features)
        return dict(zip(self._compiled.classes, (float(p) for p in row), strict=True))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The likeliest intent of each raw message (for tests and batch use)."""
        return [str(c) for c in self.pipeline.predict([features(t) for t in texts])]

    def understand(self, text: str) -> Understanding:
        """Intent, confidence, slots and alternatives of one message."""
        return understand(text, self)


def train(messages: Sequence[LabelledMessage], seed: int = SEED, fingerprint: str = "") -> IntentModel:
    """A model trained on ``messages`` (deterministic for a given seed and data)."""
    if len({m.intent for m in messages}) < 2:
        raise ValueError("training needs messages of at least two intents")
    texts = [features(m.text) for m in messages]
    labels = np.array([m.intent for m in messages])
    pipeline = _pipeline(seed)
    pipeline.fit(texts, labels)
    return IntentModel(pipeline, fingerprint)


def train_from_file(train_path: Path = DEFAULT_TRAIN_FILE, seed: int = SEED) -> IntentModel:
    """A model trained on a labelled JSONL file (shared/eval/bot/README.md's format)."""
    raw = train_path.read_bytes()
    messages = parse_labelled(raw.decode("utf-8"), str(train_path))
    return train(messages, seed, fingerprint(raw, seed))


def save(model: IntentModel, path: Path) -> None:
    """Write ``model`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {"format": FORMAT, "fingerprint": model.fingerprint, "pipeline": model.pipeline}
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            joblib.dump(payload, handle, compress=3)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the app may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> IntentModel:
    """The model saved at ``path`` (our own file only: it is a pickle)."""
    payload = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a kefu bot model of format {FORMAT}")
    return IntentModel(payload["pipeline"], str(payload.get("fingerprint", "")))


_cache: dict[tuple[Path, Path], IntentModel] = {}
_cache_lock = threading.Lock()


def load_or_train(model_path: Path = DEFAULT_MODEL_FILE, train_path: Path = DEFAULT_TRAIN_FILE,
                  seed: int = SEED) -> IntentModel:
    """The model at ``model_path``, trained from ``train_path`` and cached there first when it is
    missing or stale; kept in memory for the life of the process."""
    key = (model_path.resolve(), train_path.resolve())
    model = _cache.get(key)
    if model is not None:
        return model
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            model = _load_fresh(model_path, train_path, seed)
            _cache[key] = model
    return model


def _load_fresh(model_path: Path, train_path: Path, seed: int) -> IntentModel:
    expected = fingerprint(train_path.read_bytes(), seed) if train_path.is_file() else None
    if model_path.is_file():
        try:
            model = load(model_path)
        except (OSError, ValueError, EOFError, AttributeError, ImportError, KeyError):
            model = None
        if model is not None and (expected is None or model.fingerprint == expected):
            return model
    model = train_from_file(train_path, seed)
    with contextlib.suppress(OSError):  # a read-only checkout still answers; it trains again next start
        save(model, model_path)
    return model


def clear_cache() -> None:
    """Forget the in-memory models (tests)."""
    with _cache_lock:
        _cache.clear()
