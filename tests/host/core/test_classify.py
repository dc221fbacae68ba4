import zipfile

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from twitchwatch.core.classify import BaselineClassifier, CompiledForest, load_classifier, load_model, save_model
from twitchwatch.core.features import FEATURE_NAMES, column
from twitchwatch.errors import ModelError
from twitchwatch.model import WINDOW_LABELS


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, len(FEATURE_NAMES)))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0.5)  # labels 0..3: "voluntary_movement" never seen
    return HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y), X


def test_compiled_forest_gives_sklearns_probabilities(fitted):
    model, X = fitted
    assert np.allclose(CompiledForest(model).predict_proba(X), model.predict_proba(X), atol=1e-9)


def test_model_file_round_trip_maps_columns_to_window_labels(tmp_path, fitted):
    model, X = fitted
    save_model(model, tmp_path / "foot.skops", "foot")
    clf = load_classifier("foot", "model", tmp_path / "foot.skops")
    proba = clf.predict_proba(X[:5])
    assert proba.shape == (5, len(WINDOW_LABELS))
    assert np.allclose(proba[:, :4], model.predict_proba(X[:5])) and (proba[:, 4] == 0).all()


def test_missing_corrupt_and_untrusted_model_files_are_refused(tmp_path, fitted):
    with pytest.raises(ModelError, match="not found"):
        load_classifier("foot", "model", tmp_path / "nope.skops")
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(ModelError, match="bad.skops"):
        load_model(bad)
    import collections

    import skops.io as sio

    evil = tmp_path / "evil.skops"
    sio.dump({"format": 1, "estimator": collections.Counter("ab")}, evil)
    with pytest.raises(ModelError, match="untrusted types: collections.Counter"):
        load_model(evil)
    truncated = tmp_path / "truncated.skops"
    save_model(fitted[0], truncated, "foot")
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated.skops"):
        load_model(truncated)


def test_model_with_other_features_is_refused(tmp_path, fitted):
    path = tmp_path / "old.skops"
    save_model(fitted[0], path, "foot", {"feature_names": ["a", "b"]})
    with pytest.raises(ModelError, match="other features"):
        load_model(path)
    assert zipfile.is_zipfile(path)


def test_baseline_only_when_asked_and_it_labels_clonic_features():
    assert isinstance(load_classifier("foot", "baseline"), BaselineClassifier)
    with pytest.raises(ModelError, match="unknown classifier kind"):
        load_classifier("foot", "rules")
    f = np.zeros((2, len(FEATURE_NAMES)))
    f[:, column("acc_present")] = 1
    f[0, [column("acc_rhythm"), column("acc_rhythm_hz"), column("acc_iei_cv"), column("acc_burst_s")]] = [0.8, 2.0, 0.1, 0.25]
    f[1, column("acc_log_rms")] = -3.5
    labels = [WINDOW_LABELS[i] for i in BaselineClassifier().predict_proba(f).argmax(axis=1)]
    assert labels == ["rhythmic_jerking", "quiet"]
