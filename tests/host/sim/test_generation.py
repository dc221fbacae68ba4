"""Determinism, block-wise generation, rates, channels, device info, subjects, faults."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from twitchwatch.errors import ConfigError
from twitchwatch.model import Chunk, DeviceInfo, Fault
from twitchwatch.sim import SCENARIOS, SimConfig, draw_subject, parse_scenario, simulate, simulate_blocks

SHORT = parse_scenario("fasciculation:20,walking:15,rhythmic_jerking:25,tremor:10,not_worn:5,fidget:10")


def _concat(blocks, attr):
    parts = [getattr(b, attr) for b in blocks]
    return None if parts[0] is None else np.concatenate(parts)


@pytest.mark.parametrize(
    "config, block_s",
    [
        (SimConfig(), 1.0),
        (SimConfig(), 0.37),
        (SimConfig(accel_rate_hz=16.0, emg_rate_hz=500.0, emg_channels=1), 2.5),
        (SimConfig(accel_rate_hz=100.3, emg_rate_hz=2048.0, tile_s=5.0), 7.0),
        (SimConfig(accel_rate_hz=52.0, emg_channels=0), 0.02),
    ],
)
def test_blocks_concatenate_to_exactly_the_whole_recording(config, block_s):
    subject = draw_subject(4)
    whole = simulate(SHORT, subject, config, seed=9)
    blocks = list(simulate_blocks(SHORT, subject, config, seed=9, block_s=block_s))
    assert np.array_equal(_concat(blocks, "accel_counts"), whole.accel_counts)
    if config.emg_channels:
        assert np.array_equal(_concat(blocks, "emg_counts"), whole.emg_counts)
    else:
        assert whole.emg_counts is None and blocks[0].emg_counts is None
    assert blocks[1].t0_s == pytest.approx(block_s)
    assert blocks[1].accel_t0_s == pytest.approx(blocks[1].accel_index / config.accel_rate_hz)
    assert blocks[1].accel_t0_s >= blocks[1].t0_s - 1e-9


@pytest.mark.parametrize("accel_hz, emg_hz, channels", [(10.0, 500.0, 0), (16.0, 500.0, 1), (25.0, 1000.0, 2), (208.0, 4000.0, 2), (833.0, 512.0, 0)])
def test_any_rate_gives_the_right_number_of_samples_in_range(accel_hz, emg_hz, channels):
    cfg = SimConfig(accel_rate_hz=accel_hz, emg_rate_hz=emg_hz, emg_channels=channels)
    rec = simulate(parse_scenario("walking:10,rhythmic_jerking:10,tremor[kind=orthostatic]:10"), draw_subject(2), cfg, seed=1)
    assert rec.accel_counts.shape == (round(30 * accel_hz), 3) and rec.accel_counts.dtype == np.int16
    g = rec.accel_g
    assert np.isfinite(g).all() and 0.5 < np.median(np.linalg.norm(g, axis=1)) < 1.5
    if channels:
        assert rec.emg_counts.shape == (round(30 * emg_hz), channels) and rec.emg_counts.dtype == np.int16
        assert 1.0 < rec.emg_uv.std() < 2000.0
    else:
        assert rec.emg_counts is None


def test_low_rate_tremor_above_nyquist_is_attenuated_not_aliased():
    sc = parse_scenario("tremor[kind=orthostatic;amplitude_g=0.3]:20")
    fast = simulate(sc, draw_subject(2), SimConfig(accel_rate_hz=208.0), seed=1).accel_g
    slow = simulate(sc, draw_subject(2), SimConfig(accel_rate_hz=16.0), seed=1).accel_g
    assert slow[40:-40].std(axis=0).max() < 0.3 * fast[500:-500].std(axis=0).max()


def test_same_inputs_give_the_same_recording_and_seeds_change_it():
    subject = draw_subject(6)
    a = simulate(SHORT, subject, SimConfig(), seed=3)
    b = simulate(SHORT, subject, SimConfig(), seed=3)
    c = simulate(SHORT, subject, SimConfig(), seed=4)
    assert np.array_equal(a.accel_counts, b.accel_counts) and np.array_equal(a.emg_counts, b.emg_counts)
    assert a.annotations == b.annotations
    assert not np.array_equal(a.emg_counts, c.emg_counts)
    assert [x.onset_s for x in a.events("jerk")] != [x.onset_s for x in c.events("jerk")]


def test_subjects_differ_and_are_reproducible():
    s1, s2 = draw_subject(1), draw_subject(2)
    assert draw_subject(1) == s1
    differing = [f.name for f in dataclasses.fields(s1) if getattr(s1, f.name) != getattr(s2, f.name)]
    assert len(differing) > 25
    rates = [draw_subject(i).fasciculation_per_min for i in range(40)]
    assert min(rates) < 5 and max(rates) > 20
    cad = [draw_subject(i).cadence_spm for i in range(40)]
    assert np.ptp(cad) > 10
    r1 = simulate(parse_scenario("quiet:10"), s1, SimConfig(), seed=0)
    r2 = simulate(parse_scenario("quiet:10"), s2, SimConfig(), seed=0)
    assert abs(r1.emg_uv.std() - r2.emg_uv.std()) > 0.05 * r1.emg_uv.std()


def test_device_info_describes_the_streams():
    cfg = SimConfig(accel_rate_hz=104.0, emg_rate_hz=1000.0, emg_channels=1)
    rec = simulate(parse_scenario("quiet:5"), draw_subject(1), cfg, seed=0)
    info = rec.device_info()
    assert isinstance(info, DeviceInfo) and info.device_id.startswith("virtual-")
    assert info.placement == "foot" and info.protocol_version == 1
    acc, emg = info.stream("accel"), info.stream("emg")
    assert (acc.rate_hz, acc.channels, acc.range, acc.scale) == (104.0, 3, 16.0, 16.0 / 32768)
    assert (emg.rate_hz, emg.channels, emg.scale) == (1000.0, 1, rec.emg_scale_uv)
    assert emg.channel_names == ("tibialis_anterior",)


def test_wrist_recordings_are_accelerometer_only_with_their_activities():
    sc = SCENARIOS["wrist_demo"]
    rec = simulate(sc, draw_subject(3, "wrist"), SimConfig(accel_rate_hz=25.0), seed=2)
    assert rec.emg_counts is None and rec.device_info().stream("emg") is None
    assert rec.device_info().placement == "wrist"
    assert len(rec.events("jerk")) > 20
    assert {"brushing_teeth", "rhythmic_jerking", "typing"} <= {s.label for s in rec.segments}
    with pytest.raises(ConfigError, match="placement"):
        simulate(sc, draw_subject(3, "foot"), SimConfig(), seed=0)


def test_brushing_teeth_scrubs_at_3_to_6_hz_per_axis():
    from scipy import signal

    rec = simulate(parse_scenario("brushing_teeth:40", placement="wrist"), draw_subject(1, "wrist"), SimConfig(accel_rate_hz=50.0), seed=0)
    f, p = signal.welch(rec.accel_g[:, 1] - rec.accel_g[:, 1].mean(), fs=50.0, nperseg=400)
    assert 3.0 <= f[np.argmax(p)] <= 6.2


def test_dropouts_are_reported_and_left_out_of_source_items():
    cfg = SimConfig(dropouts_per_hour=400.0, dropout_max_s=1.0)
    rec = simulate(parse_scenario("quiet:30,walking:30"), draw_subject(1), cfg, seed=5)
    assert rec.dropped and all(f.kind == "gap" for f in rec.dropped)
    assert {f.stream for f in rec.dropped} == {"accel", "emg"}
    items = list(rec.items(block_s=2.0))
    assert isinstance(items[0], DeviceInfo)
    chunks = [i for i in items if isinstance(i, Chunk)]
    faults = [i for i in items if isinstance(i, Fault)]
    assert len(faults) == len(rec.dropped)
    t = np.arange(len(rec.accel_counts)) / rec.accel_rate_hz
    lost = np.zeros(len(t), bool)
    for f in rec.dropped:
        if f.stream == "accel":
            lost |= (t >= f.start_s) & (t < f.end_s)
    delivered = sum(c.n for c in chunks if c.stream == "accel")
    assert delivered == (~lost).sum() > 0
    for stream in ("accel", "emg"):  # per stream, chunks and gap faults come in time order
        times = [i.t0_s if isinstance(i, Chunk) else i.start_s for i in items[1:] if getattr(i, "stream", "") == stream]
        assert times == sorted(times)
    first = next(c for c in chunks if c.stream == "accel")
    assert np.allclose(first.samples, first.counts * rec.accel_scale_g)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ConfigError, match="accel_rate_hz"):
        SimConfig(accel_rate_hz=5.0)
    with pytest.raises(ConfigError, match="emg_rate_hz"):
        SimConfig(emg_rate_hz=200.0)
    with pytest.raises(ConfigError, match="emg_channels"):
        SimConfig(emg_channels=3)
    with pytest.raises(ConfigError, match="placement"):
        draw_subject(1, "elbow")


def test_block_generation_of_a_long_day_keeps_memory_bounded():
    import itertools
    import tracemalloc

    from twitchwatch.sim import SCENARIOS, Simulation

    tracemalloc.start()
    try:
        sim = Simulation(SCENARIOS["daily_mix"], draw_subject(2), SimConfig(), seed=1)
        n = 0
        for block in itertools.islice(sim.blocks(block_s=10.0), 40):
            n += len(block.emg_counts)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 400 * 1000
    # plan of a 24 h day + noise banks (5 x 8 MB) + one tile per stream; nothing per hour of output
    assert peak < 80e6


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from twitchwatch.sim import ACTIVITIES  # noqa: E402

FOOT_ACTIVITIES = sorted(a for a, s in ACTIVITIES.items() if "foot" in s.placements)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segments=st.lists(st.tuples(st.sampled_from(FOOT_ACTIVITIES), st.floats(0.1, 12.0)), min_size=1, max_size=4),
    accel_hz=st.floats(10.0, 400.0),
    emg_hz=st.floats(500.0, 2500.0),
    channels=st.integers(0, 2),
    block_s=st.floats(0.03, 9.0),
    seed=st.integers(0, 10_000),
)
def test_any_scenario_rates_and_block_size_give_the_same_samples(segments, accel_hz, emg_hz, channels, block_s, seed):
    scenario = parse_scenario(",".join(f"{a}:{d:.3f}" for a, d in segments))
    cfg = SimConfig(accel_rate_hz=accel_hz, emg_rate_hz=emg_hz, emg_channels=channels, tile_s=4.0)
    subject = draw_subject(seed % 50)
    whole = simulate(scenario, subject, cfg, seed=seed)
    blocks = list(simulate_blocks(scenario, subject, cfg, seed=seed, block_s=block_s))
    assert np.array_equal(_concat(blocks, "accel_counts"), whole.accel_counts)
    if channels:
        assert np.array_equal(_concat(blocks, "emg_counts"), whole.emg_counts)
    assert np.isfinite(whole.accel_g).all()


WRIST_ACTIVITIES = sorted(a for a, s in ACTIVITIES.items() if "wrist" in s.placements) + [
    "rhythmic_jerking[style=irregular]", "rhythmic_jerking[style=shaking]", "rhythmic_jerking[style=random]"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segments=st.lists(st.tuples(st.sampled_from(WRIST_ACTIVITIES), st.floats(0.1, 12.0)), min_size=1, max_size=4),
    accel_hz=st.floats(10.0, 400.0),
    block_s=st.floats(0.03, 9.0),
    seed=st.integers(0, 10_000),
)
def test_any_wrist_scenario_rate_and_block_size_give_the_same_samples(segments, accel_hz, block_s, seed):
    scenario = parse_scenario(",".join(f"{a}:{d:.3f}" for a, d in segments), placement="wrist")
    cfg = SimConfig(accel_rate_hz=accel_hz, tile_s=4.0)
    subject = draw_subject(seed % 50, "wrist")
    whole = simulate(scenario, subject, cfg, seed=seed)
    blocks = list(simulate_blocks(scenario, subject, cfg, seed=seed, block_s=block_s))
    assert np.array_equal(_concat(blocks, "accel_counts"), whole.accel_counts)
    assert np.isfinite(whole.accel_g).all()
