"""The array form of the alert logic gives the EpisodeTracker's first alerts, and seizure matching."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.episodes import EpisodeTracker
from twitchwatch.learn.alerts import match_seizures, notifications


def tracker_first_alerts(hit, unit, on, off, instant, sustain):
    """Window indices of the warnings the detector's own tracker raises (fresh tracker per unit)."""
    out = []
    for u in np.unique(unit):
        idx = np.flatnonzero(unit == u)
        tr = EpisodeTracker(DetectorConfig(rj_on_windows=on, rj_off_windows=off))
        starts = idx * 0.5
        labels = ["rhythmic_jerking" if h else "quiet" for h in hit[idx]]
        _, alerts = tr.step(labels, starts, starts + 4.0, np.zeros(idx.size), np.zeros(idx.size, bool),
                            [()] * idx.size, instant[idx], sustain[idx])
        ends = {round(s + 4.0, 6): i for s, i in zip(starts, idx)}
        out += [ends[round(a.t_s, 6)] for a in alerts if a.level == "warning"]
    return sorted(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=0, max_size=120),
       st.lists(st.integers(0, 119), max_size=4), st.integers(1, 8), st.integers(1, 6))
def test_array_notifications_equal_the_episode_trackers_warnings(bits, cuts, on, off):
    hit = np.array([b for b, _, _ in bits], bool)
    instant = np.array([b and i for b, i, _ in bits], bool)
    sustain = np.array([(not b) and k for b, _, k in bits], bool)
    unit = np.zeros(hit.size, int)
    for c in sorted(set(cuts)):
        unit[c:] += 1
    assert (notifications(hit, unit, on, off, instant, sustain).tolist()
            == tracker_first_alerts(hit, unit, on, off, instant, sustain))
    if not instant.any():
        assert notifications(hit, unit, on, off).tolist() == notifications(hit, unit, on, off, instant).tolist()


def test_notifications_are_matched_to_the_seizure_of_their_own_recording():
    t = np.array([5.0, 50.0, 12.0, 99.0])
    t_unit = np.array([0, 0, 1, 2])
    which, found = match_seizures(t, t_unit, np.array([0, 1, 1]), np.array([0.0, 0.0, 40.0]),
                                  np.array([10.0, 10.0, 60.0]))
    assert which.tolist() == [0, -1, -1, -1]
    assert found.tolist() == [True, False, False]
