import numpy as np

from twitchwatch.core.features import (
    FEATURE_NAMES,
    NO_CV,
    AccelWindows,
    EmgWindows,
    WindowBatch,
    column,
    compute_features,
    onset_statistics,
    rhythmicity,
    spectral_features,
)

FR = 50.0
N = 200  # 4 s at 50 Hz


def test_dominant_frequency_and_sharp_peak_of_sinusoids_in_one_batch():
    t = np.arange(N) / FR
    x = np.stack([np.sin(2 * np.pi * f * t) for f in (1.0, 5.0, 11.0)])[:, :, None]
    spec = spectral_features(x, FR, (0.3, 20.0))
    assert np.allclose(spec["dom_hz"], [1.0, 5.0, 11.0], atol=0.2)
    assert (spec["peak_frac"] > 0.8).all()
    assert spec["high_frac"][2] > 0.9 and spec["low_frac"][0] > 0.9


def test_frequency_trend_of_a_slowing_oscillation_is_negative():
    t = np.arange(N) / FR
    phase = 2 * np.pi * np.cumsum(np.linspace(4.0, 2.0, N)) / FR
    spec = spectral_features(np.sin(phase)[None, :, None], FR, (0.3, 20.0))
    assert spec["trend_hz"][0] < -1.0


def bursts(times, n=N, width=10):
    env = np.full(n, 1.0)
    for t in times:
        i = int(t * FR)
        env[i : i + width] = 20.0
    return env


def test_periodic_bursts_are_rhythmic_at_their_rate_and_poisson_bursts_are_not():
    periodic = bursts(np.arange(0.1, 4.0, 0.5))
    poisson = bursts(np.cumsum(np.random.default_rng(3).exponential(0.5, 12))[:8] % 3.8)
    rhythm, hz = rhythmicity(np.stack([periodic, poisson]), FR)
    assert rhythm[0] > 0.7 and abs(hz[0] - 2.0) < 0.15
    assert rhythm[1] < rhythm[0] - 0.3


def test_inter_onset_cv_is_near_zero_for_clonic_and_near_one_for_poisson():
    rng = np.random.default_rng(7)
    n = 20000  # long windows make the Poisson estimate stable
    periodic = np.zeros(n)
    periodic[::50] = 10.0
    poisson = np.zeros(n)
    poisson[np.unique(rng.integers(0, n, 300))] = 10.0
    stats = onset_statistics(np.stack([periodic, poisson]), FR)
    assert stats["iei_cv"][0] < 0.05
    assert 0.8 < stats["iei_cv"][1] < 1.2
    assert np.allclose(stats["onset_rate"], [n / 50 / (n / FR), stats["onset_rate"][1]], rtol=0.02)
    assert onset_statistics(np.zeros((1, N)), FR)["iei_cv"][0] == NO_CV


def test_emg_co_activation_vs_alternation():
    t = np.arange(N) / FR
    a = 10 + 5 * np.sin(2 * np.pi * 1.5 * t)
    together = np.stack([a, a], axis=-1)[None]
    alternating = np.stack([a, 20 - a], axis=-1)[None]
    env = np.concatenate([together, alternating])
    emg = EmgWindows(FR, env, env / 2.0, np.array([100.0, 100.0]))
    f = compute_features(WindowBatch(2, None, emg))
    assert f[0, column("emg_coact")] > 0.95 and f[1, column("emg_coact")] < -0.95


def test_absent_streams_give_defaults_and_indicators_never_nan():
    accel = AccelWindows(FR, np.zeros((3, N, 1)), np.ones((3, N, 1)), np.zeros((3, N)), np.zeros((3, N)), np.zeros(3))
    f = compute_features(WindowBatch(3, accel, None))
    assert f.shape == (3, len(FEATURE_NAMES)) and np.isfinite(f).all()
    assert (f[:, column("acc_present")] == 1).all() and (f[:, column("emg_present")] == 0).all()
    assert (f[:, column("acc_3axis")] == 0).all() and (f[:, column("emg_iei_cv")] == NO_CV).all()
    assert compute_features(WindowBatch(0, None, None)).shape == (0, len(FEATURE_NAMES))
