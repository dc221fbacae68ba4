"""The simulator's ground truth matches the signal it produces, and its physiology is as stated."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from twitchwatch.sim import SimConfig, draw_subject, parse_scenario, simulate

CFG = SimConfig()


def _seg(rec, label):
    return next(a for a in rec.segments + rec.event_annotations if a.label == label)


def _envelope(x, rate, lo=20.0, hi=None, smooth_hz=8.0):
    """Offline analysis only: band-passed, rectified, low-passed EMG envelope."""
    hi = hi or 0.45 * rate
    sos = signal.butter(4, [lo, hi], "bandpass", fs=rate, output="sos")
    rect = np.abs(signal.sosfiltfilt(sos, x, axis=0))
    sos = signal.butter(2, smooth_hz, fs=rate, output="sos")
    return signal.sosfiltfilt(sos, rect, axis=0)


def _dominant_hz(x, rate, lo, hi):
    f, p = signal.welch(x - x.mean(), fs=rate, nperseg=min(len(x), int(8 * rate)))
    band = (f >= lo) & (f <= hi)
    return float(f[band][np.argmax(p[band])])


@pytest.fixture(scope="module")
def fasc():
    return simulate(parse_scenario("fasciculation[rate_per_min=30]:8m"), draw_subject(3), CFG, seed=11)


def test_fasciculations_are_poisson_at_the_requested_rate(fasc):
    onsets = np.array([a.onset_s for a in fasc.events("fasciculation")])
    expected = 30 * 8
    assert abs(len(onsets) - expected) < 4 * np.sqrt(expected)
    iv = np.diff(onsets)
    assert 0.8 < iv.std() / iv.mean() < 1.2  # Poisson: coefficient of variation ~1
    durs = np.array([a.duration_s for a in fasc.events("fasciculation")])
    assert durs.min() >= 0.002 and durs.max() <= 0.015


def test_each_annotated_fasciculation_is_a_potential_in_the_emg(fasc):
    rate = fasc.emg_rate_hz
    sos = signal.butter(4, [20, 450], "bandpass", fs=rate, output="sos")
    x = np.abs(signal.sosfiltfilt(sos, fasc.emg_uv, axis=0)).max(axis=1)
    onsets = np.array([a.onset_s for a in fasc.events("fasciculation")])
    at = np.array([x[int(t * rate) : int(t * rate) + 20].max() for t in onsets])
    rng = np.random.default_rng(0)
    away = np.array([x[i : i + 20].max() for i in rng.integers(0, len(x) - 20, 400)
                     if np.min(np.abs(onsets - i / rate)) > 0.05])
    assert np.median(at) > 3 * np.median(away)


@pytest.fixture(scope="module")
def seizure():
    subject = draw_subject(5)
    text = "quiet:5,rhythmic_jerking[tonic=12;generalized=0.6]:70,quiet:5"
    return subject, simulate(parse_scenario(text), subject, CFG, seed=2)


def test_clonic_jerks_are_in_band_and_slow_down(seizure):
    subject, rec = seizure
    jerks = np.array([a.onset_s for a in rec.events("jerk")])
    rate = 1.0 / np.diff(jerks)
    assert rate.min() > 0.2 and rate.max() < 5.0
    third = len(rate) // 3
    assert rate[:third].mean() > 1.3 * rate[-third:].mean()
    seg = _seg(rec, "rhythmic_jerking")
    # abrupt end: the last burst ends within one final period of the segment end, at full strength
    last = rec.events("jerk")[-1]
    assert seg.onset_s + seg.duration_s - (last.onset_s + last.duration_s) < 1.0 / subject.seizure_f_end_hz
    fe = rec.emg_rate_hz
    env = _envelope(rec.emg_uv[:, 0], fe)
    peaks = np.array([env[int(a.onset_s * fe) : int((a.onset_s + a.duration_s) * fe)].max() for a in rec.events("jerk")])
    assert peaks[-3:].mean() > 0.5 * np.median(peaks)
    late = [a.duration_s for a in rec.events("jerk") if a.onset_s > seg.onset_s + 40]
    assert np.median(late) >= 0.25  # bursts of >= 250 ms once jerking has slowed


def test_every_jerk_moves_the_foot(seizure):
    _, rec = seizure
    fa = rec.accel_rate_hz
    mag = np.linalg.norm(rec.accel_g, axis=1)
    sos = signal.butter(2, [0.5, 20], "bandpass", fs=fa, output="sos")
    hp = np.abs(signal.sosfiltfilt(sos, mag))
    clonic = [a for a in rec.events("jerk")]
    during = np.array([hp[int(a.onset_s * fa) : int((a.onset_s + a.duration_s + 0.1) * fa)].max() for a in clonic])
    quiet = hp[int(0.5 * fa) : int(4.5 * fa)].max()
    assert np.mean(during > 3 * quiet) > 0.95


def test_clonic_emg_co_activates_and_builds_up(seizure):
    _, rec = seizure
    fe = rec.emg_rate_hz
    first = rec.events("jerk")[0].onset_s
    last = rec.events("jerk")[-1].onset_s
    env = _envelope(rec.emg_uv[int(first * fe) : int(last * fe)], fe)
    r = np.corrcoef(env[:, 0], env[:, 1])[0, 1]
    assert r > 0.5  # agonist and antagonist fire together
    early = env[: int(2 * fe)].mean()
    later = env[int(12 * fe) : int(22 * fe)].mean()
    assert later > 1.5 * early


def test_tonic_phase_has_high_frequency_emg(seizure):
    _, rec = seizure
    fe = rec.emg_rate_hz
    tonic = _seg(rec, "tonic_phase")
    first = rec.events("jerk")[0].onset_s

    def hf_share(a, b):
        f, p = signal.welch(rec.emg_uv[int(a * fe) : int(b * fe), 0], fs=fe, nperseg=1024)
        return p[(f >= 150) & (f <= 270)].sum() / p[(f >= 10) & (f <= 450)].sum()

    assert hf_share(tonic.onset_s + 3, tonic.onset_s + tonic.duration_s - 1) > 2 * hf_share(first, first + 20)


@pytest.mark.parametrize("kind, lo, hi", [("rest", 4, 6), ("essential", 6, 12), ("orthostatic", 13, 18)])
def test_tremor_frequency_is_in_its_band_and_emg_alternates(kind, lo, hi):
    subject = draw_subject(7)
    rec = simulate(parse_scenario(f"tremor[kind={kind}]:30"), subject, CFG, seed=1)
    fa = rec.accel_rate_hz
    expected = getattr(subject, f"tremor_hz_{kind}")
    f = _dominant_hz(rec.accel_g[int(3 * fa) : int(27 * fa), 2], fa, 2.0, 30.0)
    assert lo <= f <= hi and abs(f - expected) < 0.5
    fe = rec.emg_rate_hz
    env = _envelope(rec.emg_uv[int(3 * fe) : int(27 * fe)], fe, smooth_hz=2.5 * hi)
    assert np.corrcoef(env[:, 0], env[:, 1])[0, 1] < 0.0  # agonist and antagonist alternate


def test_walking_cadence_and_heel_strikes_match_the_subject():
    subject = draw_subject(8)
    rec = simulate(parse_scenario("walking[vigour=1]:60"), subject, CFG, seed=4)
    fa = rec.accel_rate_hz
    mag = np.linalg.norm(rec.accel_g, axis=1)
    peaks, _ = signal.find_peaks(mag, height=1.0 + 0.5 * subject.heel_strike_g, distance=int(0.5 * fa))
    stride_hz = (len(peaks) - 1) / ((peaks[-1] - peaks[0]) / fa)
    assert abs(stride_hz - subject.cadence_spm / 120.0) < 0.08 * subject.cadence_spm / 120.0
    assert 0.75 <= stride_hz <= 1.1


def test_running_impacts_clip_at_the_sensor_range():
    seed = next(s for s in range(200) if draw_subject(s).run_impact_g > 25)
    rec = simulate(parse_scenario("running:20"), draw_subject(seed), CFG, seed=0)
    clipped = np.abs(rec.accel_counts.astype(int)) >= 32767
    assert clipped.any()
    walk = simulate(parse_scenario("walking:20"), draw_subject(seed), CFG, seed=0)
    assert not (np.abs(walk.accel_counts.astype(int)) >= 32767).any()


def test_tapping_is_regular_without_slowing_unlike_jerking():
    subject = draw_subject(9)
    rec = simulate(parse_scenario("tapping:60,rhythmic_jerking:60"), subject, CFG, seed=3)
    taps = rec.events("tap")
    fa = rec.accel_rate_hz
    mag = np.linalg.norm(rec.accel_g, axis=1)
    hp = np.abs(signal.sosfiltfilt(signal.butter(2, 12.0, "highpass", fs=fa, output="sos"), mag))
    quiet = np.median(hp[: int(0.2 * fa)]) + 1e-3
    hit = [hp[int(a.onset_s * fa) : int((a.onset_s + a.duration_s + 0.05) * fa)].max() > 5 * quiet for a in taps]
    assert np.mean(hit) > 0.95  # every annotated tap is an impact in the accelerometer
    iv = np.diff([a.onset_s for a in taps])
    gaps = iv > 1.5 / subject.tap_hz / 0.7  # pauses between bouts
    bouts = [b for b in np.split(iv, np.flatnonzero(gaps) + 1) if len(b) > 6]
    bouts = [b[:-1] if b[-1] > 1.5 / subject.tap_hz / 0.7 else b for b in bouts]
    assert len(bouts) >= 2
    assert np.median([b.std() / b.mean() for b in bouts]) < 0.08  # regular within a bout
    for b in bouts:  # no slowing within a bout
        h = len(b) // 2
        assert abs(b[:h].mean() - b[h:].mean()) < 0.1 * b.mean()
    jerk_iv = np.diff([a.onset_s for a in rec.events("jerk")])
    h = len(jerk_iv) // 2
    assert jerk_iv[h:].mean() > 1.3 * jerk_iv[:h].mean()
    fe = rec.emg_rate_hz
    env = _envelope(rec.emg_uv[: int(60 * fe)], fe, smooth_hz=15)
    jerk_env = _envelope(rec.emg_uv[int(62 * fe) :], fe, smooth_hz=15)
    assert np.corrcoef(env[:, 0], env[:, 1])[0, 1] < np.corrcoef(jerk_env[:, 0], jerk_env[:, 1])[0, 1] - 0.3


def test_not_worn_is_still_in_an_odd_orientation_with_no_emg_contact():
    subject = draw_subject(10)
    rec = simulate(parse_scenario("quiet:20,not_worn:40,quiet:20"), subject, CFG, seed=6)
    fa, fe = rec.accel_rate_hz, rec.emg_rate_hz
    off = rec.accel_g[int(25 * fa) : int(55 * fa)]
    on = rec.accel_g[int(2 * fa) : int(18 * fa)]
    assert off.std(axis=0).max() < 0.01
    assert np.linalg.norm(off.mean(axis=0) - on.mean(axis=0)) > 0.3
    emg_off = rec.emg_uv[int(25 * fe) : int(55 * fe)]
    emg_on = rec.emg_uv[int(2 * fe) : int(18 * fe)]
    assert emg_off.std() < 0.6 * emg_on.std()
    assert emg_off.std() < 8.0  # front-end noise only (a few uV)
    assert not [a for a in rec.events("fasciculation") if 20 <= a.onset_s < 60]


def _bursts(env, rate, threshold):
    on = np.flatnonzero(np.diff((env > threshold).astype(np.int8)) == 1)
    off = np.flatnonzero(np.diff((env > threshold).astype(np.int8)) == -1)
    off = off[off > on[0]] if len(on) else off
    k = min(len(on), len(off))
    return on[:k] / rate, (off[:k] - on[:k]) / rate


def test_periodic_limb_movements_are_single_slow_movements_5_to_90_s_apart():
    rec = simulate(parse_scenario("plm:6m"), draw_subject(12), CFG, seed=2)
    fe = rec.emg_rate_hz
    env = _envelope(rec.emg_uv[:, 0], fe, smooth_hz=2.0)
    quiet = np.median(env)
    on, dur = _bursts(env, rate=fe, threshold=6 * quiet)
    assert len(on) >= 4  # a series, as scored by AASM
    assert np.all(np.diff(on) >= 4.5) and np.all(np.diff(on) <= 91)
    assert np.all((dur >= 0.3) & (dur <= 10.5))


def test_a_cramp_is_sustained_calf_emg_without_rhythm():
    rec = simulate(parse_scenario("quiet:10,cramp:60,quiet:10"), draw_subject(13), CFG, seed=2)
    fe = rec.emg_rate_hz
    env = _envelope(rec.emg_uv[:, 1], fe, smooth_hz=2.0)
    middle = env[int(25 * fe) : int(55 * fe)]
    assert middle.min() > 5 * np.median(env[int(1 * fe) : int(9 * fe)])  # never lets go
    assert middle.std() / middle.mean() < 0.5
    assert rec.emg_uv[int(25 * fe) : int(55 * fe), 1].std() > 3 * rec.emg_uv[int(25 * fe) : int(55 * fe), 0].std()


def test_an_end_frequency_above_the_start_is_clamped_so_jerking_never_speeds_up():
    rec = simulate(parse_scenario("rhythmic_jerking[f_start_hz=1.0;f_end_hz=1.4]:30"), draw_subject(2), CFG, seed=0)
    iv = np.diff([a.onset_s for a in rec.events("jerk")])
    assert 0.8 < np.median(iv) < 1.25


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_mains_hum_sits_at_the_configured_frequency(mains_hz):
    subject = next(draw_subject(s) for s in range(100) if draw_subject(s).electrode_quality < 0.5)
    rec = simulate(parse_scenario("quiet:20"), subject, SimConfig(mains_hz=mains_hz), seed=0)
    f, p = signal.welch(rec.emg_uv[:, 0], fs=rec.emg_rate_hz, nperseg=4000)
    band = (f > 30) & (f < 200)
    assert abs(f[band][np.argmax(p[band])] - mains_hz) <= 0.5
    assert p[np.argmin(np.abs(f - 3 * mains_hz))] > 5 * np.median(p[band])  # 3rd harmonic


def test_annotated_electrode_pops_are_baseline_jumps_in_the_emg():
    subject = max((draw_subject(s) for s in range(60)), key=lambda s: s.pops_per_h)
    rec = simulate(parse_scenario("quiet:20m"), subject, CFG, seed=3)
    pops = rec.events("electrode_pop")
    assert len(pops) >= 1
    fe = rec.emg_rate_hz
    jump = [np.abs(rec.emg_uv[int(p.onset_s * fe) + 1 : int(p.onset_s * fe) + 5]).max(axis=0).max() for p in pops]
    assert np.median(jump) > 10 * rec.emg_uv[: int(5 * fe)].std()


def test_shuffling_gait_has_softer_impacts_than_vigorous_gait():
    subject = draw_subject(8)
    peak = {}
    for v in (1.0, 0.15):
        rec = simulate(parse_scenario(f"walking[vigour={v}]:30"), subject, CFG, seed=4)
        peak[v] = np.percentile(np.linalg.norm(rec.accel_g, axis=1), 99)
    assert peak[0.15] - 1.0 < 0.5 * (peak[1.0] - 1.0)


def test_wrist_jerk_intervals_are_less_regular_when_asked():
    def interval_cv(cv):
        sc = parse_scenario(f"rhythmic_jerking[f_start_hz=3;f_end_hz=3;interval_cv={cv}]:30", placement="wrist")
        rec = simulate(sc, draw_subject(3, "wrist"), SimConfig(accel_rate_hz=32.0, emg_channels=0), seed=2)
        iv = np.diff([e.onset_s for e in rec.events("jerk")])
        return iv.std() / iv.mean()

    assert interval_cv(0.3) > 2.0 * interval_cv(0.05)
