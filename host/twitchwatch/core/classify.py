"""Window classifiers: a trained gradient-boosting model per placement, and a rule-based baseline.

Both expose the same interface (:class:`WindowClassifier`): ``predict_proba(features)`` over a
batch of windows, columns in :data:`twitchwatch.model.WINDOW_LABELS` order.

Model files are skops files under ``models/`` (``models/foot.skops``, ``models/wrist.skops``). They
are loaded with an explicit list of trusted types, checked against ``skops.io.get_untrusted_types``:
a file that asks for anything else is refused (:class:`~twitchwatch.errors.ModelError`) rather than
loaded. A missing or corrupt file is refused too; the baseline is only used when asked for.

For speed, the trees of the loaded ``HistGradientBoostingClassifier`` are flattened into arrays
and evaluated for all windows and all trees at once (one numpy step per tree level): sklearn's own
``predict_proba`` costs milliseconds per call in Python overhead, too much for live 20 ms chunks.
A test checks that both give the same probabilities.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from twitchwatch import cache
from twitchwatch.core import features as F
from twitchwatch.core import native
from twitchwatch.core.context import SEIZURE_FEATURE_NAMES
from twitchwatch.errors import ModelError
from twitchwatch.model import WINDOW_LABELS

#: The models: the repository's top-level models/ folder, which is also the package data
#: twitchwatch/models (a symlink in a checkout, installed from a wheel; see pyproject.toml).
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
#: Version of the dict layout stored in a model file (2: a seizure model and its alert settings).
MODEL_FORMAT = 2
#: The only non-default types a model file may contain.
TRUSTED_TYPES: tuple[str, ...] = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
#: One node of a compiled forest as the C walk reads it (struct Node in core/_kernels.c, 24 bytes):
#: go to child[1] when x[feature] > threshold, else child[0].
NODE_DTYPE = np.dtype([("threshold", "<f8"), ("feature", "<i4"), ("child", "<i4", (2,)), ("pad", "<i4")])
#: Rows evaluated together by the compiled forest (keeps the (rows, trees) arrays in cache).
ROWS_PER_PASS = 64
PLACEMENT_MODELS = {"foot": "foot", "ankle": "foot", "wrist": "wrist"}


@dataclass(frozen=True)
class SeizureSettings:
    """Alert settings chosen together with a seizure model (inside the training folds).

    threshold : a window is rhythmic jerking when the model's probability is at least this
    veto_threshold : an OpenSeizureDetector warning window is rhythmic jerking unless the
        probability, averaged over the last ``veto_windows`` windows, is below this (above 1: OSD's
        warnings are not used)
    on_windows : consecutive rhythmic-jerking windows that raise a warning
    veto_windows : windows averaged for the veto (1: the window's own probability)
    """

    threshold: float
    veto_threshold: float
    on_windows: int
    veto_windows: int = 1


class SeizureModel:
    """Binary gradient-boosting model: probability that a window is seizure-like rhythmic jerking,
    from :data:`~twitchwatch.core.context.SEIZURE_FEATURE_NAMES` (window, OSD and context features)."""

    def __init__(self, estimator, settings: SeizureSettings, forest: CompiledForest | None = None, loader=None):
        if estimator is not None and len(estimator.classes_) != 2:
            raise ModelError(f"a seizure model must be binary, found classes {list(estimator.classes_)}")
        self._estimator, self._loader = estimator, loader
        self.settings = settings
        self.forest = forest if forest is not None else CompiledForest(estimator)

    @property
    def estimator(self):
        """The sklearn estimator (read from the model file on first use when loaded from the cache)."""
        if self._estimator is None and self._loader is not None:
            self._estimator = self._loader()
        return self._estimator

    def probability(self, features: np.ndarray) -> np.ndarray:
        """(w, len(SEIZURE_FEATURE_NAMES)) -> (w,) probability of the positive class."""
        if not features.shape[0]:
            return np.zeros(0)
        return self.forest.predict_proba(features)[:, 1]


class WindowClassifier(Protocol):
    """What the detector needs from a classifier: window labels, and optionally a seizure model
    that decides rhythmic jerking (None: the window labels decide)."""

    name: str
    seizure: SeizureModel | None

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(w, len(FEATURE_NAMES)) features -> (w, len(WINDOW_LABELS)) probabilities."""
        ...


class BaselineClassifier:
    """Transparent rules on the same features (the comparison column of ``evaluate``).

    Rhythmic jerking: a rhythmic envelope (autocorrelation >= 0.5) at 0.5-5 Hz with regular onsets
    (inter-onset CV < 0.35), bursts of >= 100 ms, and, with two EMG channels, co-activation rather
    than alternation. Tremor: a sharp spectral line (>= 40 % of movement power within +-0.3 Hz) at
    >= 3.5 Hz that is not impulsive (kurtosis < 4), or alternating EMG. Fasciculation: irregular
    (CV > 0.5) short EMG onsets, or accelerometer twitches, with little movement. Voluntary
    movement: movement RMS >= 30 mg. Quiet otherwise. One-hot output.
    """

    name = "baseline"
    seizure = None

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        x = lambda name: features[:, F.column(name)]  # noqa: E731
        acc, emg = x("acc_present") > 0, x("emg_present") > 0
        rhythm = np.maximum(np.where(acc, x("acc_rhythm"), 0.0), np.where(emg, x("emg_rhythm"), 0.0))
        rate = np.where(acc & (x("acc_rhythm") >= x("emg_rhythm")), x("acc_rhythm_hz"), x("emg_rhythm_hz"))
        cv = np.where(emg & (x("emg_iei_cv") >= 0), x("emg_iei_cv"), x("acc_iei_cv"))
        burst = np.maximum(x("acc_burst_s"), x("emg_burst_s"))
        coact_ok = (x("emg_2ch") == 0) | (x("emg_coact") > 0.2)
        rj = (rhythm >= 0.5) & (rate >= 0.5) & (rate <= 5.0) & (cv >= 0) & (cv < 0.35) & (burst >= 0.1) & coact_ok
        line = acc & (x("acc_peak_frac") >= 0.4) & (x("acc_dom_hz") >= 3.5) & (x("acc_kurtosis") < 4.0)
        alternating = (x("emg_2ch") > 0) & (x("emg_coact") < -0.2) & (x("emg_rhythm") >= 0.4)
        tremor = line | alternating
        moving = acc & (x("acc_log_rms") >= np.log10(0.03))
        twitchy = (emg & (x("emg_onset_rate") > 0) & ((x("emg_iei_cv") > 0.5) | (x("emg_onset_rate") <= 0.75))) | (
            ~emg & (x("acc_onset_rate") > 0) & (x("acc_iei_cv") != 0) & ~moving
        )
        label = np.full(features.shape[0], WINDOW_LABELS.index("quiet"))
        label[twitchy & ~moving] = WINDOW_LABELS.index("fasciculation")
        label[moving] = WINDOW_LABELS.index("voluntary_movement")
        label[tremor] = WINDOW_LABELS.index("tremor")
        label[rj] = WINDOW_LABELS.index("rhythmic_jerking")
        out = np.zeros((features.shape[0], len(WINDOW_LABELS)))
        out[np.arange(features.shape[0]), label] = 1.0
        return out


class CompiledForest:
    """Array form of a fitted ``HistGradientBoostingClassifier`` (numerical features only).

    Evaluates every tree for every row at once: ``depth`` numpy steps over (rows, trees) arrays.
    """

    def __init__(self, estimator):
        predictors = estimator._predictors  # [iteration][class] -> TreePredictor
        self.n_classes = len(predictors[0])
        nodes = [tree.nodes for it in predictors for tree in it]
        if any(n["is_categorical"].any() for n in nodes):
            raise ModelError("model uses categorical splits, which twitchwatch does not evaluate")
        sizes = np.array([len(n) for n in nodes])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        flat = np.concatenate(nodes)
        shift = np.repeat(offsets, sizes)
        self.feature = flat["feature_idx"].astype(np.int64)
        self.threshold = flat["num_threshold"].astype(float)
        self.missing_left = flat["missing_go_to_left"].astype(bool)
        self.left = flat["left"].astype(np.int64) + shift
        self.right = flat["right"].astype(np.int64) + shift
        self.leaf = flat["is_leaf"].astype(bool)
        self.value = flat["value"].astype(float)
        self.roots = offsets.astype(np.int64)
        self.depth = int(flat["depth"].max()) if flat.size else 0
        self.baseline = np.asarray(estimator._baseline_prediction, dtype=float).reshape(-1)
        self.n_iter = len(predictors)
        self._prepare()

    #: The arrays that define a compiled forest (what the start-up cache stores, see load_model).
    ARRAYS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value", "roots", "baseline")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The forest as plain arrays (no pickle needed): :meth:`from_arrays` rebuilds it exactly."""
        out = {name: getattr(self, name) for name in self.ARRAYS}
        out["shape"] = np.array([self.depth, self.n_iter, self.n_classes], dtype=np.int64)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "CompiledForest":
        """The forest :meth:`to_arrays` described (same arrays, same dtypes, same results)."""
        self = cls.__new__(cls)
        for name, dtype in zip(cls.ARRAYS, (np.int64, float, bool, np.int64, np.int64, bool, float, np.int64, float)):
            setattr(self, name, np.asarray(arrays[name], dtype=dtype))
        self.depth, self.n_iter, self.n_classes = (int(v) for v in arrays["shape"])
        self._prepare()
        return self

    def _prepare(self) -> None:
        flat_size = self.feature.size
        # Fast path for rows without NaN: a leaf sends every value "left" (threshold +inf) to itself,
        # so no leaf test is needed; the children of node i are child[2 i] (left) and child[2 i + 1].
        node = np.arange(flat_size, dtype=np.int32)  # int32 indices: half the memory traffic
        self._feature = np.where(self.leaf, 0, self.feature).astype(np.int32)
        self._threshold = np.where(self.leaf, np.inf, self.threshold)
        self._child = np.column_stack([np.where(self.leaf, node, self.left),
                                       np.where(self.leaf, node, self.right)]).ravel().astype(np.int32)
        self._roots = self.roots.astype(np.int32)
        self._value = np.ascontiguousarray(self.value, dtype=np.float64)
        self._width = int(self._feature.max(initial=0)) + 1  # rows need at least this many columns
        # the same decisions packed one node a record, for the compiled walk (native.forest_values)
        self._nodes = np.zeros(flat_size, dtype=NODE_DTYPE)
        self._nodes["threshold"], self._nodes["feature"] = self._threshold, self._feature
        self._nodes["child"] = self._child.reshape(-1, 2)
        # the C walk trusts the indices: checked here once (a corrupt forest walks in numpy, and fails there)
        self._walkable = bool(flat_size and ((self._child >= 0) & (self._child < flat_size)).all()
                              and (self._feature >= 0).all()
                              and ((self._roots >= 0) & (self._roots < flat_size)).all())

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Raw scores (rows, classes) = baseline + sum of tree values."""
        if not np.isnan(x).any():
            return self._raw_finite(np.ascontiguousarray(x, dtype=float))
        rows = np.arange(x.shape[0])[:, None]
        idx = np.broadcast_to(self.roots, (x.shape[0], self.roots.size)).copy()
        for _ in range(self.depth):
            value = x[rows, self.feature[idx]]
            go_left = np.where(np.isnan(value), self.missing_left[idx], value <= self.threshold[idx])
            nxt = np.where(go_left, self.left[idx], self.right[idx])
            idx = np.where(self.leaf[idx], idx, nxt)
        values = self.value[idx].reshape(x.shape[0], self.n_iter, self.n_classes).sum(axis=1)
        return values + self.baseline[None, :]

    def _raw_finite(self, x: np.ndarray) -> np.ndarray:
        """:meth:`raw` for rows without NaN (same decisions, same leaf values, same sums).

        The leaf values (rows, trees) come from the compiled walk (:mod:`twitchwatch.core.native`,
        rows interleaved) or, without it, from :meth:`_leaf_values_numpy`; either way they are summed
        over the iterations in numpy's order (:func:`~twitchwatch.core.native.middle_sum`), so the
        scores are bit-for-bit equal.
        """
        rows, width = x.shape
        k = native.KERNELS
        if k is not None and self._walkable and width >= self._width:
            values = np.empty((rows, self._roots.size))
            k.forest_values(x, self._nodes, self._roots, self._value, values, rows, width, self._roots.size, self.depth)
        else:
            values = self._leaf_values_numpy(x)
        return native.middle_sum(values.reshape(rows, self.n_iter, self.n_classes)) + self.baseline[None, :]

    def _leaf_values_numpy(self, x: np.ndarray) -> np.ndarray:
        """The value of the leaf each row of ``x`` (rows, features) reaches in each tree, (rows, trees):
        all rows and trees walked together, one numpy step per tree level (the reference of the
        compiled ``forest_values``)."""
        rows, width = x.shape
        out = np.empty((rows, self._roots.size))
        for r0 in range(0, rows, ROWS_PER_PASS):  # passes small enough for the CPU cache
            part = x[r0 : r0 + ROWS_PER_PASS]
            flat_x = part.ravel()
            row_offset = (np.arange(part.shape[0], dtype=np.int32) * np.int32(width))[:, None]
            idx = np.broadcast_to(self._roots, (part.shape[0], self.roots.size)).copy()
            for _ in range(self.depth):
                go_right = flat_x[row_offset + self._feature[idx]] > self._threshold[idx]
                idx = self._child[idx + idx + go_right]
            out[r0 : r0 + ROWS_PER_PASS] = self._value[idx]
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        raw = self.raw(x)
        if self.n_classes == 1:  # binary: one tree per iteration, sigmoid
            p = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.column_stack([1.0 - p, p])
        raw = raw - raw.max(axis=1, keepdims=True)
        e = np.exp(raw)
        return e / e.sum(axis=1, keepdims=True)


class ModelClassifier:
    """A trained model loaded from a skops file (see :func:`load_classifier`)."""

    def __init__(self, estimator, path: Path, meta: dict, seizure: SeizureModel | None = None,
                 forest: CompiledForest | None = None, classes: list[int] | None = None):
        self.name = f"model:{path.name}"
        self.path = path
        self.meta = meta
        self.seizure = seizure
        self._estimator = estimator
        self.forest = forest if forest is not None else CompiledForest(estimator)
        classes = classes if classes is not None else [int(c) for c in estimator.classes_]
        self._columns = np.array(classes)

    @property
    def estimator(self):
        """The sklearn estimator (read from the model file on first use when loaded from the cache)."""
        if self._estimator is None:
            self._estimator = _load_checked(self.path)[0]
        return self._estimator

    @classmethod
    def in_memory(cls, estimator, seizure: SeizureModel | None, name: str) -> "ModelClassifier":
        """A classifier from fitted estimators, without a file (cross-fitting builds one per fold)."""
        return cls(estimator, Path(name), {"placement": None}, seizure)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        out = np.zeros((features.shape[0], len(WINDOW_LABELS)))
        if features.shape[0]:
            out[:, self._columns] = self.forest.predict_proba(features)
        return out


def model_path(placement: str) -> Path:
    """Default model file of a placement (ankle uses the foot model)."""
    if placement not in PLACEMENT_MODELS:
        raise ModelError(f"no model for placement {placement!r} (known: {', '.join(PLACEMENT_MODELS)})")
    return MODELS_DIR / f"{PLACEMENT_MODELS[placement]}.skops"


def save_model(estimator, path: Path, placement: str, extra: dict | None = None, seizure: SeizureModel | None = None) -> None:
    """Write a model file: a dict with format, placement, feature names, labels, the window
    estimator and (optionally) the seizure estimator with its settings."""
    import skops.io as sio

    payload = {
        "format": MODEL_FORMAT,
        "placement": placement,
        "feature_names": list(F.FEATURE_NAMES),
        "labels": list(WINDOW_LABELS),
        "estimator": estimator,
    }
    if seizure is not None:
        payload.update({"seizure_estimator": seizure.estimator, "seizure_settings": asdict(seizure.settings),
                        "seizure_feature_names": list(SEIZURE_FEATURE_NAMES)})
    payload.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(payload, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)


def _cache_key(data: bytes) -> str:
    """What a cached model depends on: the file's exact bytes and what this code accepts from it."""
    parts = [hashlib.sha256(data).hexdigest(), f"format {MODEL_FORMAT}", ",".join(TRUSTED_TYPES),
             ",".join(F.FEATURE_NAMES), ",".join(SEIZURE_FEATURE_NAMES), ",".join(WINDOW_LABELS)]
    return "|".join(parts)


def _from_cache(path: Path, arrays: dict[str, np.ndarray]) -> ModelClassifier | None:
    """The classifier a cache entry describes, or None when the entry is not usable."""
    try:
        meta = json.loads(str(arrays["meta"]))
        forest = CompiledForest.from_arrays({k[7:]: v for k, v in arrays.items() if k.startswith("window.")})
        seizure = None
        if "seizure.shape" in arrays:
            sforest = CompiledForest.from_arrays({k[8:]: v for k, v in arrays.items() if k.startswith("seizure.")})
            seizure = SeizureModel(None, SeizureSettings(**meta["seizure_settings"]), sforest,
                                   loader=lambda: _load_checked(path)[1].estimator)
        return ModelClassifier(None, path, meta, seizure, forest, [int(c) for c in arrays["classes"]])
    except Exception:  # an entry of another layout: load the file instead  # noqa: BLE001
        return None


def _to_cache(clf: ModelClassifier) -> dict[str, np.ndarray] | None:
    try:
        arrays = {"meta": np.array(json.dumps(clf.meta)), "classes": clf._columns.astype(np.int64)}
    except (TypeError, ValueError):  # meta that JSON cannot hold: not cached
        return None
    arrays.update({f"window.{k}": v for k, v in clf.forest.to_arrays().items()})
    if clf.seizure is not None:
        arrays.update({f"seizure.{k}": v for k, v in clf.seizure.forest.to_arrays().items()})
    return arrays


def load_model(path: Path, use_cache: bool = True) -> ModelClassifier:
    """Load and check a model file; ModelError names the file and the problem.

    Loading a skops file costs ~1.1 s of CPU plus ~1.4 s of importing skops and scikit-learn. A
    file that passed every check once has its compiled forests, classes and metadata stored in the
    disk cache (:mod:`twitchwatch.cache`) under the SHA-256 of its bytes (and of what this code
    accepts); the next load of the same bytes reads those arrays back (a few ms) and gives the same
    probabilities bit for bit (tested). The sklearn estimators are then read from the file only if
    something asks for ``.estimator``.
    """
    path = Path(path)
    data = key = None
    if use_cache and path.is_file():
        try:
            data = path.read_bytes()
        except OSError:
            data = None
        if data is not None:
            key = _cache_key(data)
            hit = cache.load("model", key)
            clf = _from_cache(path, hit) if hit is not None else None
            if clf is not None:
                return clf
    estimator, seizure, meta = _load_checked(path, data)
    clf = ModelClassifier(estimator, path, meta, seizure)
    if key is not None:
        arrays = _to_cache(clf)
        if arrays is not None:
            cache.save("model", key, arrays)
    return clf


def _load_checked(path: Path, data: bytes | None = None):
    """(window estimator, SeizureModel or None, meta) of a model file, every check applied."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found (run `twitchwatch train`, or use --classifier baseline)")
    try:
        data = path.read_bytes() if data is None else data
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises several kinds on a damaged zip
        raise ModelError(f"{path}: not a readable skops model file ({type(exc).__name__}: {exc})") from None
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(f"{path}: refused, the file holds untrusted types: {', '.join(unexpected)}")
    try:
        payload = sio.loads(data, trusted=list(untrusted))
    except Exception as exc:
        raise ModelError(f"{path}: corrupt model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not a twitchwatch model file of format {MODEL_FORMAT}")
    if tuple(payload.get("feature_names", ())) != F.FEATURE_NAMES:
        raise ModelError(f"{path}: model was trained on other features than this version computes; retrain it")
    if tuple(payload.get("labels", ())) != WINDOW_LABELS:
        raise ModelError(f"{path}: model labels differ from {WINDOW_LABELS}")
    estimator = payload.get("estimator")
    if type(estimator).__name__ != "HistGradientBoostingClassifier":
        raise ModelError(f"{path}: expected a HistGradientBoostingClassifier, found {type(estimator).__name__}")
    seizure = None
    if "seizure_estimator" in payload:
        if tuple(payload.get("seizure_feature_names", ())) != SEIZURE_FEATURE_NAMES:
            raise ModelError(f"{path}: seizure model was trained on other features than this version computes; retrain it")
        try:
            seizure = SeizureModel(payload["seizure_estimator"], SeizureSettings(**payload["seizure_settings"]))
        except (TypeError, KeyError, AttributeError) as exc:
            raise ModelError(f"{path}: malformed seizure model ({exc})") from None
    meta = {k: v for k, v in payload.items() if k not in ("estimator", "seizure_estimator")}
    return estimator, seizure, meta


def load_classifier(placement: str, kind: str = "model", path: Path | str | None = None) -> WindowClassifier:
    """The classifier for a placement.

    Parameters
    ----------
    placement : "foot", "ankle" (uses the foot model) or "wrist"
    kind : "model" (the trained file; ModelError if missing/corrupt/untrusted) or "baseline"
    path : a model file to use instead of ``models/<placement>.skops``
    """
    if kind == "baseline":
        return BaselineClassifier()
    if kind != "model":
        raise ModelError(f"unknown classifier kind {kind!r} (use 'model' or 'baseline')")
    return load_model(Path(path) if path is not None else model_path(placement))
