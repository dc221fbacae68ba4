"""Seizure styles, new confounders and the calibration statistics they are checked with."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.sim import SimConfig, draw_subject, parse_scenario, simulate, simulate_blocks
from twitchwatch.sim import calibration as cal

NEW_WRIST = ["electric_toothbrush", "shaving", "clapping", "vehicle", "turning", "stand_walk", "brushing_teeth",
             "typing", "rhythmic_jerking[style=irregular]", "rhythmic_jerking[style=shaking]",
             "rhythmic_jerking[style=random;tonic=1]"]
NEW_FOOT = ["vehicle", "turning", "stand_walk", "stairs[direction=down]", "walking",
            "rhythmic_jerking[style=irregular]", "rhythmic_jerking[style=shaking;tonic=8;tonic_g=0.1]",
            "rhythmic_jerking[style=random;generalized=1]"]
CASES = [("wrist", a) for a in NEW_WRIST] + [("foot", a) for a in NEW_FOOT]


@pytest.mark.parametrize("placement, activity", CASES)
def test_new_activities_render_deterministically_and_blockwise(placement, activity):
    sc = parse_scenario(f"quiet:3,{activity}:25", placement=placement)
    cfg = SimConfig(accel_rate_hz=52.0, emg_rate_hz=500.0, tile_s=4.0)
    subject = draw_subject(3, placement)
    a = simulate(sc, subject, cfg, seed=11)
    b = simulate(sc, subject, cfg, seed=11)
    c = simulate(sc, subject, cfg, seed=12)
    assert a.accel_counts.shape == (round(28 * 52.0), 3) and np.isfinite(a.accel_g).all()
    assert np.array_equal(a.accel_counts, b.accel_counts) and a.annotations == b.annotations
    assert not np.array_equal(a.accel_counts, c.accel_counts)
    blocks = list(simulate_blocks(sc, subject, cfg, seed=11, block_s=0.7))
    assert np.array_equal(np.concatenate([x.accel_counts for x in blocks]), a.accel_counts)
    if a.emg_counts is not None:
        assert np.array_equal(np.concatenate([x.emg_counts for x in blocks]), a.emg_counts)
    moving = a.accel_g[int(5 * 52):]
    assert np.std(np.linalg.norm(moving, axis=1)) > 0.003  # the activity moves the sensor


def _seizure_stats(placement: str, style: str, n: int = 6) -> tuple[cal.WindowStats, list[float]]:
    parts, drifts = [], []
    for i in range(n):
        rec = simulate(parse_scenario(f"quiet:10,rhythmic_jerking[style={style}]:80,quiet:5", placement=placement),
                       draw_subject(100 + i, placement), SimConfig(accel_rate_hz=25.0, emg_channels=0), seed=i)
        ex = cal.seizure_excerpt(cal.magnitude(rec.accel_g), 25.0, 10.0, 90.0)
        st = cal.window_stats(ex, 25.0)
        parts.append(st)
        drifts.append(st.frequency_drift_hz_per_min())
    return cal.WindowStats.concat(parts), drifts


@pytest.mark.parametrize("placement", ["wrist", "foot"])
def test_irregular_seizures_match_the_real_convulsion_statistics(placement):
    # targets: PHYSIOLOGY.md / DETECTION_NOTES.md (the measured OSDB quartiles are in the sim README)
    st, drifts = _seizure_stats(placement, "irregular")
    q = cal.quartiles(st)
    assert 100.0 <= q["band_rms_mg"][1] <= 800.0
    assert 1.0 <= q["kurtosis"][1] <= 8.0
    assert 0.4 <= q["jerk_amp_cv"][1] <= 0.8
    assert 0.5 <= q["iei_cv"][1] <= 1.0
    assert 2.0 <= q["dominant_hz"][1] <= 6.0
    assert q["autocorr_peak"][1] < 0.4  # not a sinusoid
    assert np.median(drifts) < 0.0  # slowing


def test_shaking_seizures_are_large_sinusoidal_3_to_5_hz_and_slow_down():
    st, drifts = _seizure_stats("wrist", "shaking", n=4)
    q = cal.quartiles(st)
    assert 300.0 <= q["band_rms_mg"][1] <= 800.0
    assert 3.0 <= q["dominant_hz"][1] <= 5.0
    assert cal.is_sinusoidal_shaking(st).mean() > 0.5
    assert np.median(drifts) < 0.0


def test_clonic_style_stays_the_default():
    sub = draw_subject(2, "wrist")
    a = simulate(parse_scenario("rhythmic_jerking:20", placement="wrist"), sub, SimConfig(accel_rate_hz=25.0), seed=1)
    b = simulate(parse_scenario("rhythmic_jerking[style=clonic]:20", placement="wrist"), sub, SimConfig(accel_rate_hz=25.0), seed=1)
    assert np.array_equal(a.accel_counts, b.accel_counts)


def test_tonic_prelude_vibrates_at_8_to_12_hz():
    from scipy import signal

    rec = simulate(parse_scenario("rhythmic_jerking[style=irregular;tonic=15;tonic_g=0.1]:40", placement="wrist"),
                   draw_subject(1, "wrist"), SimConfig(accel_rate_hz=100.0), seed=0)
    assert rec.events("tonic_phase") and rec.events("tonic_phase")[0].duration_s == pytest.approx(15.0)
    z = rec.accel_g[300:1400, 2]
    f, p = signal.welch(z - z.mean(), fs=100.0, nperseg=512)
    band = (f >= 3.0)
    assert 8.0 <= f[band][np.argmax(p[band])] <= 12.5


def test_electric_toothbrush_vibrates_above_60_hz_and_aliases_at_low_rates():
    from scipy import signal

    sc = parse_scenario("electric_toothbrush:20", placement="wrist")
    fast = simulate(sc, draw_subject(5, "wrist"), SimConfig(accel_rate_hz=1600.0), seed=2).accel_g[:, 1]
    f, p = signal.welch(fast - fast.mean(), fs=1600.0, nperseg=4096)
    assert f[np.argmax(p)] > 60.0
    slow = simulate(sc, draw_subject(5, "wrist"), SimConfig(accel_rate_hz=25.0), seed=2).accel_g
    # the leaked vibration lands inside the 1-12 Hz band of a 25 Hz watch
    assert cal.window_stats(cal.magnitude(slow[50:]), 25.0).band_rms_mg.mean() > 3.0


def test_typing_taps_are_small_and_irregular():
    st = cal.WindowStats.concat([
        cal.window_stats(cal.magnitude(simulate(parse_scenario("typing:60", placement="wrist"), draw_subject(i, "wrist"),
                                                SimConfig(accel_rate_hz=25.0), seed=i).accel_g[50:]), 25.0)
        for i in range(3)])
    q = cal.quartiles(st)
    assert 20.0 <= q["band_rms_mg"][1] <= 200.0 and q["autocorr_peak"][1] < 0.4


def test_foot_walking_heel_strikes_are_several_g_at_about_1_hz_per_foot():
    for i in range(3):
        rec = simulate(parse_scenario("walking:40"), draw_subject(i), SimConfig(), seed=i)
        strikes = [e for e in rec.segments if e.label == "walking"]
        m = np.linalg.norm(rec.accel_g, axis=1)
        assert np.percentile(m, 99.5) > 1.8  # heel strikes of several g over 1 g of gravity
        spec = np.abs(np.fft.rfft(m - m.mean())) ** 2
        f = np.fft.rfftfreq(len(m), 1 / rec.accel_rate_hz)
        lo = (f > 0.5) & (f < 1.3)
        assert 0.75 <= f[lo][np.argmax(spec[lo])] <= 1.1 and strikes


def test_stand_walk_alternates_standing_rest_and_walking_bouts():
    rec = simulate(parse_scenario("stand_walk:90"), draw_subject(4), SimConfig(accel_rate_hz=52.0), seed=3)
    starts = np.arange(0.0, 85.0, 1.0)
    labels = rec.window_labels(starts, 2.0)
    assert {"quiet", "voluntary_movement"} <= set(labels) or {"fasciculation", "voluntary_movement"} <= set(labels)
    assert len(rec.events("movement")) >= 2


def test_calibration_statistics_on_known_signals():
    rate = 25.0
    t = np.arange(0, 20, 1 / rate)
    sine = 1.0 + 0.3 * np.sin(2 * np.pi * 4.0 * t)
    st = cal.window_stats(sine, rate)
    assert np.allclose(st.dominant_hz, 4.0, atol=0.21)
    assert np.all(st.kurtosis < -1.2) and np.all(st.autocorr_peak > 0.9)
    assert np.all(st.jerk_amp_cv < 0.1) and np.all(st.iei_cv < 0.25)  # 25 Hz sampling of |sin| peaks
    assert np.allclose(st.band_rms_mg, 300 / np.sqrt(2), rtol=0.05)
    rng = np.random.default_rng(0)
    x = np.ones_like(t)
    on = np.cumsum(rng.exponential(0.5, 60))
    for a, o in zip(rng.lognormal(0, 0.6, 60), on[on < 19.5]):
        i = int(o * rate)
        x[i : i + 3] += a * np.array([0.5, -0.3, 0.1])
    st = cal.window_stats(x, rate)
    assert np.nanmedian(st.kurtosis) > 1.0 and np.nanmedian(st.iei_cv) > 0.4
    assert np.isnan(cal.window_stats(np.ones(10), rate).band_rms_mg).all()
    chirp = 1.0 + 0.3 * np.sin(2 * np.pi * (5.0 * t - 0.05 * t * t))
    assert cal.window_stats(chirp, rate).frequency_drift_hz_per_min() < -3.0
