import numpy as np
import pytest

from twitchwatch.core.blocks import block_of, block_runs
from twitchwatch.core.events import EventDetector, EventSettings

FS = 1000.0
SETTINGS = EventSettings(on_ratio=4.0, off_ratio=2.0, refractory_s=0.02, twitch_max_s=0.03, min_floor=0.5, history_blocks=20)


def run(env, cuts=()):
    det = EventDetector("emg", ("ta",), 0.0, FS, SETTINGS)
    edges = [0, *cuts, len(env)]
    events = []
    for a, b in zip(edges[:-1], edges[1:]):
        evs, _ = det.process(env[a:b, None], block_runs(0.0, FS, a, b - a, 0.5), block_of(0.0, FS, b, 0.5))
        events += evs
    return events + det.finish()


def noise_env(seconds, seed=0):
    """A smoothed rectified-noise envelope (like the detector's low-passed EMG envelope), ~2.4 uV."""
    rectified = np.abs(np.random.default_rng(seed).normal(0, 3.0, int(seconds * FS) + 19))
    return np.convolve(rectified, np.ones(20) / 20, mode="valid")


def test_spikes_in_noise_become_twitch_events_at_their_times():
    env = noise_env(20)
    times = [3.0, 5.5, 9.25, 14.0]
    for t in times:
        env[int(t * FS) : int(t * FS) + 8] = 100.0
    events = run(env)
    assert [round(e.t_s, 3) for e in events] == times
    assert all(e.kind == "twitch" and e.amplitude == 100.0 and e.channel == "ta" for e in events)


def test_long_burst_is_one_burst_event_and_close_spikes_merge():
    env = noise_env(20)
    env[6000:6300] = 80.0  # 300 ms burst
    env[10000:10005] = 90.0
    env[10012:10017] = 90.0  # 7 ms later: within the 20 ms refractory time -> one event
    events = run(env)
    assert [(round(e.t_s, 3), e.kind) for e in events] == [(6.0, "burst"), (10.0, "twitch")]
    assert abs(events[0].duration_s - 0.3) < 0.002


def test_noise_floor_adapts_to_a_louder_background():
    env = np.concatenate([noise_env(10, 1), 10 * noise_env(20, 2)])  # background 10x louder from 10 s
    events = run(env)
    assert not [e for e in events if e.t_s > 16.0]  # after ~5 s the louder noise is the new floor


def test_events_do_not_depend_on_chunking():
    env = noise_env(15, 3)
    for t in (2.0, 4.4995, 7.0):
        env[int(t * FS) : int(t * FS) + 10] = 60.0
    assert run(env) == run(env, cuts=[1, 4499, 4500, 4503, 7001, 9000])


def test_a_twitch_seen_on_both_emg_channels_is_one_event():
    from twitchwatch.core.events import merge_channel_twitches
    from twitchwatch.model import Event

    events = [
        Event(1.000, 0.010, "twitch", "emg", "ta", 50.0),
        Event(1.004, 0.012, "twitch", "emg", "gc", 20.0),  # cross-talk of the same twitch
        Event(1.010, 0.010, "twitch", "emg", "ta", 30.0),  # same channel again: a second twitch
        Event(1.500, 0.300, "burst", "emg", "gc", 90.0),
        Event(2.000, 0.010, "twitch", "emg", "gc", 40.0),  # not yet decidable (after the cut)
    ]
    ready, waiting = merge_channel_twitches(events, cut_s=1.99, window_s=0.02)
    assert [(e.t_s, e.channel, e.amplitude) for e in ready] == [(1.0, "ta+gc", 50.0), (1.01, "ta", 30.0), (1.5, "gc", 90.0)]
    assert ready[0].duration_s == pytest.approx(0.016) and waiting == events[4:]
