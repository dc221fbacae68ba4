import numpy as np
import pytest
from scipy import signal

from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.filters import (
    AccelFilters,
    EmgFilters,
    StreamingSOS,
    clip_band,
    design_bandpass,
    design_notches,
)
from twitchwatch.errors import ConfigError


def test_streaming_filter_equals_scipy_whole_signal_for_any_cut():
    sos = design_bandpass((20.0, 450.0), 1000.0, 2, 0.9, "EMG band")
    x = np.random.default_rng(1).normal(size=(5000, 2))
    f = StreamingSOS(sos, 2)
    pieces = [f(x[a:b]) for a, b in [(0, 1), (1, 333), (333, 334), (334, 5000)]]
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    reference, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
    assert np.array_equal(np.concatenate(pieces), reference)


def test_band_edges_are_clipped_below_nyquist_and_absurd_bands_refused():
    assert clip_band((20.0, 450.0), 500.0, 0.9, "EMG") == (20.0, 225.0)
    with pytest.raises(ConfigError, match="not usable at 16 Hz"):
        clip_band((20.0, 450.0), 16.0, 0.9, "EMG band")


def test_notches_only_below_usable_nyquist():
    assert design_notches((50.0, 60.0), 1000.0, 30.0, 0.9).shape == (2, 6)
    assert design_notches((50.0, 60.0), 120.0, 30.0, 0.9).shape == (1, 6)  # 60 Hz is at Nyquist


def test_mains_hum_is_removed_and_muscle_band_kept():
    fs = 1000.0
    t = np.arange(int(4 * fs)) / fs
    hum = 100 * np.sin(2 * np.pi * 50 * t)
    muscle = 20 * np.sin(2 * np.pi * 120 * t)
    out = EmgFilters(fs, 1, DetectorConfig())((hum + muscle)[:, None])
    tail = out.band[2000:, 0]
    assert abs(np.std(tail) - np.std(muscle)) < 0.15 * np.std(muscle)


def test_too_slow_streams_are_configuration_errors():
    with pytest.raises(ConfigError, match="needs >= 16 Hz"):
        AccelFilters(10.0, 3, DetectorConfig())
    with pytest.raises(ConfigError, match="needs >= 500 Hz"):
        EmgFilters(250.0, 1, DetectorConfig())


def test_accel_gravity_does_not_ring_at_start_and_magnitude_streams_work():
    for channels, still in ((3, np.array([0.0, 0.0, 1.0])), (1, np.array([1.0]))):
        f = AccelFilters(25.0, channels, DetectorConfig())
        out = f(np.tile(still, (250, 1)))
        assert np.abs(out.move).max() < 1e-9
        assert np.allclose(out.gravity, still)


def test_zero_crossings_are_counted_across_chunk_boundaries():
    fs = 1000.0
    x = np.sin(2 * np.pi * 100 * np.arange(2000) / fs)[:, None] * 50
    whole = EmgFilters(fs, 1, DetectorConfig())(x).zero_crossings.sum()
    f = EmgFilters(fs, 1, DetectorConfig())
    parts = sum(f(x[a:b]).zero_crossings.sum() for a, b in [(0, 7), (7, 1500), (1500, 2000)])
    assert whole == parts
    assert 350 <= whole <= 420  # ~200 per second of a 100 Hz sine, after the filter settles
