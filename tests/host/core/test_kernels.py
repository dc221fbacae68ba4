"""The compiled kernels (twitchwatch.core._kernels) against their numpy/scipy references, bit for bit,
on random and on real input; and the detector's outputs with and without them.

The references are the documented fallbacks (twitchwatch.core.native): scipy's ``sosfilt`` for
``sos_filter``, ``CompiledForest._leaf_values_numpy`` (and sklearn's own ``predict_proba``) for
``forest_values``, ``events._hysteresis_numpy`` for ``hysteresis``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import signal

from twitchwatch.core import blocks, events, features, native
from twitchwatch.core.blocks import block_ids, block_runs, rows_within, sample_stats
from twitchwatch.core.classify import CompiledForest, load_classifier
from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.context import SEIZURE_FEATURE_NAMES
from twitchwatch.core.detector import make_detector
from twitchwatch.core.features import FEATURE_NAMES
from twitchwatch.core.filters import (AccelFilters, EmgFilters, StreamingSOS, design_bandpass, design_lowpass,
                                      design_notches)
from twitchwatch.core.run import run
from twitchwatch.model import Chunk
from twitchwatch.replay import open_source

K = native.KERNELS
#: Only a run that asks for the references alone (TWITCHWATCH_NO_KERNELS=1) goes without the
#: kernels; otherwise their absence is a failed build, caught by the first test below.
FORCED_OFF = os.environ.get("TWITCHWATCH_NO_KERNELS", "") not in ("", "0")
needs_kernels = pytest.mark.skipif(FORCED_OFF, reason="TWITCHWATCH_NO_KERNELS=1: the references alone")


@needs_kernels
def test_the_set_up_built_the_compiled_kernels():
    """scripts/setup.sh (pip install -e .) builds core/_kernels.c; a silent build failure would
    leave every user on the slower references."""
    assert K is not None

#: Real recordings the kernels are fed with: a foot IMU in g (gaitmap), 4 kHz needle EMG in uV
#: (PhysioNet), and an OpenSeizureDetector database sample (25 Hz magnitude, in milli-g).
REAL_FILES = ("foot_gait_gaitmap/imu_sample_ic_stride.csv", "physionet_emgdb/emg_neuropathy.hea",
              "osdb_seizure_samples/rawData.json")


def _real_chunks(path, max_chunks: int = 40):
    src = open_source(path)
    chunks = [it for it in src.items(10.0) if isinstance(it, Chunk)][:max_chunks]
    return src.device_info, chunks


def _reference_sos(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    return signal.sosfilt(sos, x, axis=0, zi=zi)[0]


def _designs(rate_hz: float) -> list[np.ndarray]:
    c = DetectorConfig()
    nf = c.nyquist_fraction
    out = [design_lowpass(8.0, rate_hz, 2, nf), design_bandpass((1.0, 0.4 * rate_hz), rate_hz, 2, nf, "band")]
    notches = design_notches(c.mains_hz, rate_hz, c.notch_q, nf)
    if notches.shape[0]:
        out.append(np.concatenate([out[1], notches]))
    return out


@needs_kernels
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_sos_kernel_equals_scipy_on_random_input_in_any_cut(channels):
    rng = np.random.default_rng(channels)
    x = rng.normal(size=(3001, channels)) * rng.uniform(0.1, 1e3)
    for sos in _designs(1000.0) + _designs(52.0):
        f = StreamingSOS(sos, channels)
        cuts = [0, 1, 2, 500, 501, 2000, 3001]
        pieces = [f(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
        assert np.array_equal(np.concatenate(pieces), _reference_sos(sos, x))


@needs_kernels
@pytest.mark.parametrize("name", REAL_FILES)
def test_sos_kernel_equals_scipy_on_real_recordings(name, real_data):
    info, chunks = _real_chunks(real_data / name)
    for kind in {c.stream for c in chunks}:
        part = [c for c in chunks if c.stream == kind]
        x = np.concatenate([np.asarray(c.samples, dtype=float).reshape(len(c.samples), -1) for c in part])
        for sos in _designs(part[0].rate_hz):
            f = StreamingSOS(sos, x.shape[1])
            got = np.concatenate([f(np.asarray(c.samples, dtype=float).reshape(len(c.samples), -1)) for c in part])
            assert np.array_equal(got, _reference_sos(sos, x)), (name, kind)


def _forests():
    clf = load_classifier("foot", "model")
    return [(clf.forest, len(FEATURE_NAMES), clf.estimator), (clf.seizure.forest, len(SEIZURE_FEATURE_NAMES),
                                                               clf.seizure.estimator)]


@needs_kernels
def test_forest_kernel_equals_the_numpy_walk_and_sklearn_on_random_rows():
    rng = np.random.default_rng(3)
    for forest, width, estimator in _forests():
        # features spread over each column's thresholds, plus exact threshold values (ties go left)
        x = rng.normal(size=(257, width)) * 3.0
        thresholds = forest.threshold[~forest.leaf]
        x[:40, forest.feature[~forest.leaf][:40]] = thresholds[:40]
        values = np.empty((x.shape[0], forest.roots.size))
        K.forest_values(x, forest._nodes, forest._roots, forest._value, values, x.shape[0], width, forest.roots.size,
                        forest.depth)
        assert np.array_equal(values, forest._leaf_values_numpy(x))
        # sklearn adds the trees to its baseline in another order and has its own softmax: equal up
        # to rounding (the compiled forest's contract, test_classify)
        assert np.allclose(forest.predict_proba(x), estimator.predict_proba(x), rtol=0, atol=1e-12)


@needs_kernels
@pytest.mark.parametrize("name", REAL_FILES[:2])
def test_forest_kernel_equals_the_numpy_walk_on_features_of_real_recordings(name, real_data, monkeypatch):
    info, chunks = _real_chunks(real_data / name)
    rows: list[np.ndarray] = []
    det = make_detector(info)
    det.feature_hook = lambda starts, feats, seizure, valid: rows.append(feats)
    run(det, chunks)
    x = np.concatenate(rows)
    assert x.shape[0] > 10
    forest = det.classifier.forest
    with_kernel = forest.predict_proba(x)
    monkeypatch.setattr(native, "KERNELS", None)
    assert np.array_equal(with_kernel, forest.predict_proba(x))
    assert np.allclose(with_kernel, det.classifier.estimator.predict_proba(x), rtol=0, atol=1e-12)


def test_a_forest_from_arrays_walks_like_the_original():
    forest, width, _ = _forests()[0]
    again = CompiledForest.from_arrays(forest.to_arrays())
    x = np.random.default_rng(5).normal(size=(70, width))
    assert np.array_equal(again.predict_proba(x), forest.predict_proba(x))


def _hysteresis_both(env, floor, active, on, off):
    ref = events._hysteresis_numpy(env, floor, active, on, off)
    state = np.empty(env.shape, dtype=bool)
    any_on = K.hysteresis(np.ascontiguousarray(env), np.ascontiguousarray(floor), active, state, env.shape[0],
                          env.shape[1], on, off)
    return ref, (state, bool(any_on))


@needs_kernels
def test_hysteresis_kernel_equals_numpy_on_random_envelopes():
    rng = np.random.default_rng(4)
    for trial in range(20):
        n, c = int(rng.integers(1, 400)), int(rng.integers(1, 3))
        env = np.exp(rng.normal(size=(n, c)) * 2.0)
        floor = np.exp(rng.normal(size=(n, c)) * 0.3)
        floor[: int(rng.integers(0, n))] = np.inf  # no floor yet: always off
        at_on, at_off = rng.random((n, c)) < 0.05, rng.random((n, c)) < 0.05  # exactly at a threshold
        env[at_on], env[at_off] = 4.0 * floor[at_on], 2.0 * floor[at_off]
        active = rng.random(c) < 0.5
        (s0, a0), (s1, a1) = _hysteresis_both(env, floor, active, 4.0, 2.0)
        assert np.array_equal(s0, s1) and a0 == a1, trial


@needs_kernels
def test_hysteresis_kernel_equals_numpy_on_exact_threshold_values():
    floor = np.full((6, 1), 0.5)
    env = np.array([2.0, 2.0 + 1e-16, 1.0, 0.9999999999999999, 1.0, 2.0000000000000004])[:, None]
    (s0, a0), (s1, a1) = _hysteresis_both(env, floor, np.array([False]), 4.0, 2.0)
    assert np.array_equal(s0, s1) and a0 == a1


def _checked_on_real_run(path, module, name: str, reference, equal) -> int:
    """Run the detector on a real file with ``module.name`` (a kernel wrapper) replaced by a spy
    that asserts ``equal(reference(*args), result)`` on every call; how many input values it saw."""
    info, chunks = _real_chunks(path)
    seen = 0
    orig = getattr(module, name)

    def both(*args):
        nonlocal seen
        got = orig(*args)
        assert equal(reference(*args), got)
        seen += args[0].size
        return got

    setattr(module, name, both)
    try:
        run(make_detector(info), chunks)
    finally:
        setattr(module, name, orig)
    return seen


@needs_kernels
@pytest.mark.parametrize("name", REAL_FILES[:2])
def test_hysteresis_kernel_equals_numpy_on_real_envelopes(name, real_data):
    same = lambda ref, got: np.array_equal(ref[0], got[0]) and ref[1] == got[1]  # noqa: E731
    assert _checked_on_real_run(real_data / name, events, "hysteresis", events._hysteresis_numpy, same) > 1000


@needs_kernels
@pytest.mark.parametrize("name", REAL_FILES)
def test_the_detector_outputs_the_same_with_and_without_kernels(name, real_data, monkeypatch):
    info, chunks = _real_chunks(real_data / name, max_chunks=60)
    with_kernels = run(make_detector(info), chunks)
    monkeypatch.setattr(native, "KERNELS", None)
    without = run(make_detector(info), chunks)
    assert with_kernels == without
    assert with_kernels.windows


@needs_kernels
def test_log_block_sums_kernel_equals_numpy_on_random_logs_and_ties():
    rng = np.random.default_rng(6)
    for trial in range(20):
        n, c = int(rng.integers(1, 3000)), int(rng.integers(1, 4))
        logs = np.log(np.exp(rng.normal(size=(n, c)) * 3.0))
        logs[rng.random((n, c)) < 0.05] = 2.5e-6  # exactly half a unit: rounds half to even
        logs[rng.random((n, c)) < 0.05] = -3.5e-6
        cuts = np.unique(np.concatenate([[0], rng.integers(0, n, size=int(rng.integers(0, 6)))]))
        got = events.log_block_sums(logs, cuts.astype(np.int64))
        assert np.array_equal(got, events._log_block_sums_numpy(logs, cuts.astype(np.int64))), trial
        assert got[:, -1].sum() == n


@needs_kernels
@pytest.mark.parametrize("name", REAL_FILES[:2])
def test_log_block_sums_kernel_equals_numpy_on_real_envelopes(name, real_data):
    assert _checked_on_real_run(real_data / name, events, "log_block_sums", events._log_block_sums_numpy,
                                np.array_equal) > 1000


@pytest.mark.parametrize("slack", [blocks.BOUNDARY_SLACK, 0])  # 0: the estimate fails, bisection decides
def test_block_runs_are_the_runs_of_the_per_sample_block_ids(slack, monkeypatch):
    monkeypatch.setattr(blocks, "BOUNDARY_SLACK", slack)
    rng = np.random.default_rng(7)
    for trial in range(300):
        rate = float(rng.choice([16.0, 25.0, 104.28, 208.0, 1000.0, 4000.0, rng.uniform(16.0, 5000.0)]))
        t0, first, n = float(rng.uniform(-100.0, 1e5)), int(rng.integers(0, 10**7)), int(rng.integers(0, 5000))
        ids = block_ids(t0, rate, first, n, 0.5)
        runs = block_runs(t0, rate, first, n, 0.5)
        starts = np.flatnonzero(np.concatenate([[n > 0], ids[1:] != ids[:-1]])) if n else np.zeros(0, np.int64)
        assert np.array_equal(runs.starts, starts) and np.array_equal(runs.ids, ids[starts]), trial
        assert runs.lengths().sum() == n


def _stats_both(x, runs, valid, crossings, clip):
    got = sample_stats(x, runs, valid, crossings, clip)
    ref = blocks._sample_stats_numpy(x, runs, valid, crossings, clip)
    return all(np.array_equal(a, b) for a, b in zip(got, ref))


@needs_kernels
def test_sample_stats_and_rows_within_kernels_equal_numpy_on_random_samples():
    rng = np.random.default_rng(8)
    for trial in range(30):
        n, c, k = int(rng.integers(1, 3000)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
        x = rng.normal(size=(n, c)) * 500.0
        x[rng.random((n, c)) < 0.01] = 999.0  # exactly at a clip level
        if trial % 3 == 0:
            x[rng.random((n, c)) < 0.02] = rng.choice([np.nan, np.inf, 2e3])
        limit = 1e3
        got, ref = rows_within(x, limit), blocks._rows_within_numpy(x, limit)
        assert got[0] == ref[0] and (got[1] is None) == (ref[1] is None)
        assert got[1] is None or np.array_equal(got[1], ref[1])
        x = np.where(np.isfinite(x), x, 0.0)
        runs = block_runs(float(rng.uniform(0, 10)), 1000.0, int(rng.integers(0, 10**5)), n, 0.5)
        valid = None if trial % 2 else rng.random(n) < 0.9
        crossings = rng.random((n, k)) < 0.3
        for clip in (999.0, np.inf, 0.999 * 1000.0):
            assert _stats_both(x, runs, valid, crossings, clip), trial


@needs_kernels
@pytest.mark.parametrize("name", REAL_FILES[:2])
def test_sample_stats_kernel_equals_numpy_on_real_samples(name, real_data):
    info, chunks = _real_chunks(real_data / name)
    for c in chunks:
        x = np.asarray(c.samples, dtype=float).reshape(len(c.samples), -1)
        runs = block_runs(c.t0_s, c.rate_hz, 0, x.shape[0], 0.5)
        crossings = np.diff(np.signbit(x), axis=0, prepend=np.signbit(x[:1]))
        assert _stats_both(x, runs, None, crossings, 0.999 * np.abs(x).max())


@needs_kernels
@pytest.mark.parametrize("layout", ["C", "window-major"])
def test_middle_mean_equals_numpy_mean_on_random_windows_of_either_layout(layout):
    rng = np.random.default_rng(9)
    for trial in range(20):
        w, n, c = int(rng.integers(1, 130)), int(rng.integers(1, 400)), int(rng.integers(1, 4))
        x = rng.normal(size=(w, n, c)) * 10.0 ** rng.uniform(-6, 3, size=(w, 1, c))
        x[rng.random(x.shape) < 0.01] = -0.0
        if trial == 0:
            x[0] = -0.0  # numpy sums from +0: an all -0.0 window has mean +0.0
        if layout != "C":  # (w, c, n) in memory, as _Stream.take stacks a few windows
            x = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, 2)), 2, 1)
        got, ref = features._middle_mean(x), x.mean(axis=1)
        assert np.array_equal(got, ref) and np.array_equal(np.signbit(got), np.signbit(ref)), trial
        got, ref = native.middle_sum(x), x.sum(axis=1)
        assert np.array_equal(got, ref) and np.array_equal(np.signbit(got), np.signbit(ref)), trial


@needs_kernels
def test_middle_mean_kernel_equals_numpy_on_real_windows(real_data):
    info, chunks = _real_chunks(real_data / REAL_FILES[0])
    x = np.concatenate([np.asarray(c.samples, dtype=float) for c in chunks if c.stream == "accel"])
    n = 200  # 4 s windows of a 50 Hz stream, every 25 samples
    wins = np.stack([x[i : i + n] for i in range(0, x.shape[0] - n, 25)])
    assert wins.flags.c_contiguous and wins.shape[2] == 3
    for v in (wins, wins * wins, (wins * wins) ** 2):
        assert np.array_equal(features._middle_mean(v), v.mean(axis=1))


def _filter_outputs(make, blocks_, fused: bool, monkeypatch):
    monkeypatch.setattr(native, "KERNELS", K if fused else None)
    f = make()
    outs = [f(b) for b in blocks_]
    return {name: np.concatenate([getattr(o, name) for o in outs]) for name in outs[0].__dataclass_fields__}


def _cuts(x, rng):
    edges = np.unique(np.concatenate([[0, 1, x.shape[0]], rng.integers(0, x.shape[0], size=6)]))
    return [x[a:b] for a, b in zip(edges[:-1], edges[1:])]


@needs_kernels
@pytest.mark.parametrize("channels", [1, 3])
def test_accel_chain_equals_the_filters_one_by_one_on_random_input(channels, monkeypatch):
    rng = np.random.default_rng(10 + channels)
    x = rng.normal(size=(5000, channels)) * 0.3 + (1.0 if channels == 1 else np.array([0.0, 0.0, 1.0]))
    pieces = _cuts(x, rng)
    make = lambda: AccelFilters(104.28, channels, DetectorConfig())  # noqa: E731
    fused, ref = (_filter_outputs(make, pieces, f, monkeypatch) for f in (True, False))
    assert all(np.array_equal(fused[k], ref[k]) for k in ref)


@needs_kernels
@pytest.mark.parametrize("channels", [1, 2])
def test_emg_chain_equals_the_filters_one_by_one_on_random_input(channels, monkeypatch):
    rng = np.random.default_rng(20 + channels)
    x = rng.normal(size=(20000, channels)) * 30.0 + 40.0 * np.sin(np.arange(20000) / 1000.0 * 2 * np.pi * 50)[:, None]
    pieces = _cuts(x, rng)
    make = lambda: EmgFilters(1000.0, channels, DetectorConfig())  # noqa: E731
    fused, ref = (_filter_outputs(make, pieces, f, monkeypatch) for f in (True, False))
    assert all(np.array_equal(fused[k], ref[k]) for k in ref)


@needs_kernels
@pytest.mark.parametrize("name", REAL_FILES[:2])
def test_filter_chains_equal_the_filters_one_by_one_on_real_recordings(name, real_data, monkeypatch):
    info, chunks = _real_chunks(real_data / name)
    for kind in {c.stream for c in chunks}:
        part = [np.asarray(c.samples, dtype=float).reshape(len(c.samples), -1) for c in chunks if c.stream == kind]
        rate = next(c.rate_hz for c in chunks if c.stream == kind)
        cls = AccelFilters if kind == "accel" else EmgFilters
        make = lambda: cls(rate, part[0].shape[1], DetectorConfig())  # noqa: E731
        fused, ref = (_filter_outputs(make, part, f, monkeypatch) for f in (True, False))
        assert all(np.array_equal(fused[k], ref[k]) for k in ref), (name, kind)
