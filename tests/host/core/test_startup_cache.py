"""The start-up shortcuts (designs and models from the disk cache, scipy's SOS kernel loaded on its
own) give exactly what the slow path gives."""

import numpy as np
import pytest
from scipy import signal

from twitchwatch import cache
from twitchwatch.core import design
from twitchwatch.core.classify import load_model, save_model


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(design, "_memo", {})
    return tmp_path / "cache"


@pytest.mark.parametrize("rate", [104.28, 208.0, 1000.0, 2048.0])
def test_designs_read_back_from_the_cache_equal_scipys_bit_for_bit(rate, private_cache):
    want_bp = signal.butter(4, [20.0, 0.45 * rate], btype="bandpass", fs=rate, output="sos")
    want_lp = signal.butter(2, 8.0, btype="lowpass", fs=rate, output="sos")
    want_notch = signal.tf2sos(*signal.iirnotch(50.0, 30.0, fs=rate))
    for _ in range(2):  # cold (computed and stored), then warm (read back from disk)
        design._memo.clear()
        assert np.array_equal(design.butter_sos(4, [20.0, 0.45 * rate], "bandpass", rate), want_bp)
        assert np.array_equal(design.butter_sos(2, 8.0, "lowpass", rate), want_lp)
        assert np.array_equal(design.notch_sos(50.0, 30.0, rate), want_notch)
        assert np.array_equal(design.sosfilt_zi(want_bp), signal.sosfilt_zi(want_bp))
    assert len(list(private_cache.glob("design-*.npz"))) == 4


def test_the_directly_loaded_kernel_filters_like_scipy_sosfilt_on_random_and_real_input():
    from twitchwatch.recording import SessionReader
    from pathlib import Path

    rng = np.random.default_rng(3)
    rec = Path(__file__).resolve().parents[3] / "recordings" / "rhythmic_jerking.twr"
    real = next(c.samples for c in SessionReader(rec).items(60.0) if getattr(c, "stream", None) == "emg")
    sos = signal.butter(4, [20.0, 450.0], btype="bandpass", fs=1000.0, output="sos")
    for x in (rng.normal(size=(5000, 2)) * 100.0, np.asarray(real, dtype=float)):
        zi = rng.normal(size=(sos.shape[0], 2, x.shape[1]))
        want_y, want_z = signal.sosfilt(sos, x, axis=0, zi=zi)
        y, z = design.sosfilt(sos, x, zi)
        assert np.array_equal(y, want_y) and np.array_equal(z, want_z)


def test_a_cached_model_gives_the_same_probabilities_and_metadata(tmp_path, private_cache):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from twitchwatch.core.classify import SeizureModel, SeizureSettings
    from twitchwatch.core.context import SEIZURE_FEATURE_NAMES
    from twitchwatch.core.features import FEATURE_NAMES

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, len(FEATURE_NAMES)))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0.5)
    window = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(X, y)
    S = rng.normal(size=(400, len(SEIZURE_FEATURE_NAMES)))
    seizure = SeizureModel(HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(S, S[:, 2] > 0),
                           SeizureSettings(0.6, 0.3, 2))
    path = tmp_path / "foot.skops"
    save_model(window, path, "foot", {"training": "test"}, seizure=seizure)
    cold = load_model(path)
    assert len(list(private_cache.glob("model-*.npz"))) == 1
    warm = load_model(path)
    assert warm._estimator is None  # from the cache: the skops file was not read
    X2 = np.vstack([rng.normal(size=(50, X.shape[1])), X[:10]])
    assert np.array_equal(warm.predict_proba(X2), cold.predict_proba(X2))
    S2 = rng.normal(size=(50, S.shape[1]))
    assert np.array_equal(warm.seizure.probability(S2), cold.seizure.probability(S2))
    assert warm.meta == cold.meta and warm.seizure.settings == cold.seizure.settings
    assert np.array_equal(warm.estimator.predict_proba(X2), window.predict_proba(X2))  # read on demand
    assert warm.seizure.estimator is not None


def test_a_changed_model_file_is_not_served_from_the_cache(tmp_path, private_cache):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from twitchwatch.core.features import FEATURE_NAMES

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, len(FEATURE_NAMES)))
    path = tmp_path / "foot.skops"
    save_model(HistGradientBoostingClassifier(max_iter=5).fit(X, X[:, 0] > 0), path, "foot")
    first = load_model(path).predict_proba(X)
    save_model(HistGradientBoostingClassifier(max_iter=5).fit(X, X[:, 1] > 0), path, "foot")
    assert not np.array_equal(load_model(path).predict_proba(X), first)


def test_a_damaged_or_unwritable_cache_is_only_a_miss(tmp_path, monkeypatch, private_cache):
    assert cache.cached("t", "k", lambda: {"a": np.arange(3.0)})["a"].tolist() == [0.0, 1.0, 2.0]
    for f in private_cache.glob("t-*.npz"):
        f.write_bytes(b"garbage")
    assert cache.cached("t", "k", lambda: {"a": np.ones(2)})["a"].tolist() == [1.0, 1.0]
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TWITCHWATCH_CACHE", str(blocker / "sub"))
    assert cache.cached("t", "k", lambda: {"a": np.zeros(1)})["a"].tolist() == [0.0]
    monkeypatch.setenv("TWITCHWATCH_CACHE", "off")
    assert cache.cache_dir() is None and not cache.save("t", "k", {"a": np.zeros(1)})


def test_replay_starts_without_importing_scipy_signal_sklearn_or_skops_when_warm(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    code = ("import sys, io, contextlib, argparse\n"
            "from twitchwatch.commands.replay import replay\n"
            "a = argparse.Namespace(file=sys.argv[1], format=None, placement=None, json=True, speed=None, classifier='model')\n"
            "with contextlib.redirect_stdout(io.StringIO()): replay(a, progress_stream=io.StringIO())\n"
            "print(sorted(m for m in ('scipy.signal', 'sklearn', 'skops') if m in sys.modules))\n")
    env = {**os.environ, "TWITCHWATCH_CACHE": str(tmp_path / "c"), "PYTHONPATH": str(root / "host")}
    rec = str(root / "recordings" / "walk.twr")
    for want in ("['scipy.signal', 'sklearn', 'skops']", "[]"):  # cold, then warm
        out = subprocess.run([sys.executable, "-c", code, rec], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip().splitlines()[-1] == want


@pytest.mark.parametrize("channels", [None, 1, 2, 3])
def test_window_slices_equal_the_sliding_window_view_in_values_and_layout(channels):
    from twitchwatch.core.config import DetectorConfig
    from twitchwatch.core.detector import TAKE_SLICES_MAX, _Stream
    from twitchwatch.model import StreamInfo

    rng = np.random.default_rng(channels or 0)
    st = _Stream(StreamInfo("emg", 1000.0, 2, 2500.0, 1.0, ("a", "b")), 1000.0, 2, 0.0, DetectorConfig())
    shape = (3000,) if channels is None else (3000, channels)
    st.buffer = {"x": rng.normal(size=shape)}
    st.buffer_base = 0
    for starts in ([0.0], [0.5, 1.0, 1.5], list(np.arange(TAKE_SLICES_MAX + 3) * 0.5), []):
        starts = np.array(starts, dtype=float)
        got = st.take(starts)["x"]
        idx = st.feature_start(starts)
        view = np.lib.stride_tricks.sliding_window_view(st.buffer["x"], st.window_n, axis=0)[idx]
        want = np.moveaxis(view, -1, 1) if view.ndim == 3 else view
        assert got.shape == want.shape and got.strides == want.strides and np.array_equal(got, want)
