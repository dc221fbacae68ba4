import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twitchwatch.core.classify import BaselineClassifier
from twitchwatch.core.detector import Detector, make_detector
from twitchwatch.errors import ConfigError, ModelError
from twitchwatch.model import Chunk, DetectorOutput, Fault

from .signals import ACCEL_HZ, EMG_HZ, chunks, device, recording

ACC, EMG, FASC, JERKS = recording(seconds=40.0)


def replay(chunk_list, info=None, seen=None):
    hook = None if seen is None else (lambda starts, feats, seizure_feats, valid: seen.append(seizure_feats))
    det = Detector(info or device(), BaselineClassifier(), feature_hook=hook)
    return DetectorOutput.concat([det.process(c) for c in chunk_list] + [det.finish()])


WHOLE_FEATURES: list = []
WHOLE = replay(chunks(ACC, EMG, [], []), seen=WHOLE_FEATURES)


def test_synthetic_recording_gives_events_windows_and_a_rhythmic_alert():
    found = np.array([e.t_s for e in WHOLE.events if e.stream == "emg" and e.kind == "twitch"])
    hits = sum(np.min(np.abs(found - t)) <= 0.05 for t in FASC)
    assert hits >= 0.9 * len(FASC)
    assert len(WHOLE.windows) == 73  # windows starting 0 .. 36 s every 0.5 s
    warnings = [a for a in WHOLE.alerts if a.level == "warning" and a.kind == "rhythmic_jerking"]
    assert warnings and JERKS[0] <= warnings[0].t_s <= JERKS[0] + 6.0  # rule-based baseline here


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, len(ACC) - 1), max_size=12),
    st.lists(st.integers(1, len(EMG) - 1), max_size=12),
    st.integers(20, 2000),
)
def test_any_chunking_gives_exactly_the_same_output(cuts_a, cuts_e, step):
    # random cut points plus a regular live-like chunk size
    cuts_e = cuts_e + list(range(step * 5, len(EMG), step * 5))
    cuts_a = cuts_a + list(range(step, len(ACC), step))
    feats: list = []
    out = replay(chunks(ACC, EMG, cuts_a, cuts_e), seen=feats)
    # every feature the seizure model sees (window, OSD blocks, 10-60 s context), bit for bit
    assert np.array_equal(np.concatenate(feats), np.concatenate(WHOLE_FEATURES))
    assert out.events == WHOLE.events
    assert out.windows == WHOLE.windows
    assert out.episodes == WHOLE.episodes
    assert out.alerts == WHOLE.alerts
    assert out.faults == WHOLE.faults


def test_accel_only_emg_only_and_low_rate_magnitude_streams_run():
    acc_only = replay(chunks(ACC, None, [1000], []), device(emg_channels=0))
    assert acc_only.windows and not [e for e in acc_only.events if e.stream == "emg"]
    emg_only = replay(chunks(None, EMG, [], [5000]), device(accel_channels=0))
    assert emg_only.windows and not [e for e in emg_only.events if e.stream == "accel"]
    fs = 25.0
    idx = (np.arange(int(40 * fs)) * ACCEL_HZ / fs).astype(int)
    mag = np.linalg.norm(ACC[idx], axis=1)[:, None]
    out = replay([Chunk("accel", 0.0, fs, mag)], device(accel_hz=fs, accel_channels=1, emg_channels=0))
    assert len(out.windows) == 73


def test_nan_flat_and_clipped_input_become_faults_not_crashes():
    acc = ACC.copy()
    emg = EMG.copy()
    acc[int(5 * ACCEL_HZ) : int(6 * ACCEL_HZ)] = np.nan
    emg[int(10 * EMG_HZ) : int(16 * EMG_HZ)] = 0.0  # flat line: lead off / signal lost
    acc[int(25 * ACCEL_HZ) : int(35 * ACCEL_HZ) : 3, 0] = 16.0  # a third of the samples at full scale
    emg[int(30 * EMG_HZ)] = np.inf
    out = replay(chunks(acc, emg, [500, 4000], [7000, 22000]))
    kinds = {(f.kind, f.stream) for f in out.faults}
    assert {("invalid_samples", "accel"), ("signal_lost", "emg"), ("saturated", "accel"), ("invalid_samples", "emg")} <= kinds
    assert {a.kind for a in out.alerts if a.level == "fault"} >= {"saturated", "signal_lost"}
    assert not [w for w in out.windows if w.start_s < 6.0 and w.end_s > 5.0]  # windows holding NaN are not labelled


def test_gaps_are_reported_and_held_over():
    parts = chunks(ACC, EMG, [int(10 * ACCEL_HZ)], [int(10 * EMG_HZ)])
    late = [Chunk(c.stream, c.t0_s + 1.0, c.rate_hz, c.samples) if c.t0_s >= 10.0 else c for c in parts]
    out = replay(late)
    gaps = [f for f in out.faults if f.kind == "gap"]
    assert {f.stream for f in gaps} == {"accel", "emg"}
    assert all(abs(f.start_s - 10.0) < 1e-6 and abs(f.end_s - 11.0) < 1e-6 for f in gaps)
    assert out.windows[-1].end_s == pytest.approx(41.0)
    # one gap is one report: the windows that hold it are not labelled, and raise no
    # invalid_samples / signal_lost faults of their own (real NaNs still do: test above)
    assert not [f for f in out.faults if f.kind in ("invalid_samples", "signal_lost")]
    assert not [a for a in out.alerts if a.level == "fault"]
    assert not [w for w in out.windows if w.start_s < 11.0 and w.end_s > 10.0]


def test_bad_configuration_is_one_clear_error():
    with pytest.raises(ConfigError, match="accel stream at 8 Hz"):
        Detector(device(accel_hz=8.0), BaselineClassifier())
    with pytest.raises(ConfigError, match="did not declare"):
        Detector(device(emg_channels=0), BaselineClassifier()).process(Chunk("emg", 0.0, EMG_HZ, EMG[:10]))
    det = Detector(device(), BaselineClassifier())
    det.process(Chunk("accel", 0.0, ACCEL_HZ, ACC[:100]))
    with pytest.raises(ConfigError, match="rate changed"):
        det.process(Chunk("accel", 100 / ACCEL_HZ, 100.0, ACC[100:200]))


def test_source_faults_become_fault_alerts():
    det = Detector(device(), BaselineClassifier())
    out = det.process_fault(Fault("lead_off", 3.0, 4.0, "emg"))
    assert [(a.level, a.kind, a.t_s) for a in out.alerts] == [("fault", "signal_lost", 4.0)]


def test_make_detector_refuses_a_missing_model_instead_of_falling_back(tmp_path, monkeypatch):
    import twitchwatch.core.classify as classify

    monkeypatch.setattr(classify, "MODELS_DIR", tmp_path)
    with pytest.raises(ModelError, match="model file not found"):
        make_detector(device(), placement="foot")
    assert isinstance(make_detector(device(), classifier="baseline").classifier, BaselineClassifier)


def test_a_declared_stream_that_never_delivers_is_reported_and_the_rest_analysed():
    det = Detector(device(), BaselineClassifier())
    first = det.process(Chunk("emg", 0.0, EMG_HZ, EMG[: int(8 * EMG_HZ)]))
    assert not first.windows  # still waiting for the accelerometer
    out = det.finish()
    assert len(out.windows) == 9
    assert [(f.kind, f.stream) for f in out.faults] == [("signal_lost", "accel")]


def _wrist_signal(rate, seconds=90.0, seed=1):
    """Rest, then 40 s of irregular 3-4 Hz jerks of varying size, then rest: 3 axes in g."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    acc = rng.normal(0, 0.003, (t.size, 3))
    acc[:, 2] += 1.0
    jerks = np.cumsum(rng.uniform(0.2, 0.45, 200)) + 30.0
    for tj, a in zip(jerks[jerks < 70.0], rng.uniform(0.1, 0.8, 200)):
        k = (t >= tj) & (t < tj + 0.12)
        acc[k, :2] += a * np.sin(np.pi * (t[k] - tj) / 0.12)[:, None]
    return acc


SHIPPED_104 = None


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 9000), max_size=10), st.integers(3, 700))
def test_the_shipped_seizure_model_is_chunk_invariant_at_a_non_integer_rate(cuts, step):
    global SHIPPED_104
    rate = 104.28  # the smartwatch set's rate; once crashed Detector.take with an IndexError
    acc = _wrist_signal(rate)
    info = device(accel_hz=rate, emg_channels=0)

    def replay_at(bounds):
        det = make_detector(info, placement="wrist")
        assert det.seizure is not None  # the trained model decides rhythmic jerking
        edges = [0] + sorted(set(b for b in bounds if 0 < b < len(acc))) + [len(acc)]
        outs = [det.process(Chunk("accel", a / rate, rate, acc[a:b])) for a, b in zip(edges[:-1], edges[1:])]
        return DetectorOutput.concat(outs + [det.finish()])

    if SHIPPED_104 is None:
        SHIPPED_104 = replay_at([])
        assert len(SHIPPED_104.windows) >= 170  # a window every 0.5 s
    out = replay_at(cuts + list(range(step, len(acc), step)))
    assert out.windows == SHIPPED_104.windows
    assert out.alerts == SHIPPED_104.alerts and out.episodes == SHIPPED_104.episodes
