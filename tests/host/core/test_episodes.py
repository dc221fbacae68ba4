import numpy as np

from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.episodes import EpisodeTracker, FaultTracker

HOP, WIN = 0.5, 4.0


def feed(tracker, labels, first=0, spread=None):
    n = len(labels)
    starts = (first + np.arange(n)) * HOP
    spread = np.zeros(n, bool) if spread is None else spread
    return tracker.step(list(labels), starts, starts + WIN, np.full(n, 2.0), spread, [()] * n)


def test_one_rhythmic_window_is_not_an_episode_two_raise_a_warning():
    t = EpisodeTracker(DetectorConfig())
    eps, alerts = feed(t, ["rhythmic_jerking", "quiet", "quiet", "quiet", "quiet", "quiet"])
    assert eps == [] and alerts == []
    eps, alerts = feed(t, ["rhythmic_jerking", "rhythmic_jerking"], first=6)
    assert [(a.level, a.t_s) for a in alerts] == [("warning", 7 * HOP + WIN)]


def test_persisting_episode_becomes_alarm_and_short_gaps_do_not_split_it():
    t = EpisodeTracker(DetectorConfig())
    labels = ["rhythmic_jerking"] * 10 + ["quiet"] * 3 + ["rhythmic_jerking"] * 20 + ["quiet"] * 4
    eps, alerts = feed(t, labels)
    assert [a.level for a in alerts] == ["warning", "alarm"]
    assert alerts[1].t_s - alerts[1].episode_start_s >= DetectorConfig().alarm_after_s
    assert len(eps) == 1 and eps[0].kind == "rhythmic_jerking" and eps[0].max_level == "alarm"
    assert eps[0].n_windows == 30


def test_spread_raises_the_alarm_at_once():
    t = EpisodeTracker(DetectorConfig())
    _, alerts = feed(t, ["rhythmic_jerking"] * 3, spread=np.array([False, True, True]))
    assert [a.level for a in alerts] == ["warning", "alarm"]


def test_tremor_and_fasciculation_clusters_are_episodes_without_alerts():
    t = EpisodeTracker(DetectorConfig())
    eps, alerts = feed(t, ["tremor"] * 8 + ["quiet"] * 4 + ["fasciculation"] * 6 + ["quiet"] * 4)
    assert alerts == [] and [e.kind for e in eps] == ["tremor", "fasciculation"]
    assert t.finish() == []


def test_fault_hysteresis_alerts_once_and_reports_the_span():
    f = FaultTracker({"saturated": 2}, off_windows=2)
    flags = np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0], bool)
    starts = np.arange(flags.size) * HOP
    faults, alerts = f.step("saturated", flags, starts, starts + WIN, "accel", "clipping")
    assert [(a.level, a.kind, a.episode_start_s) for a in alerts] == [("fault", "saturated", 1.0)]
    assert [(x.kind, x.start_s, x.end_s) for x in faults] == [("saturated", 1.0, 6 * HOP + WIN)]  # a single clean window does not end it


def test_wrist_detectors_need_a_longer_confident_run_than_foot_ones():
    from twitchwatch.core.config import config_for_placement

    wrist, foot = config_for_placement("wrist"), config_for_placement("foot")
    assert (wrist.rj_on_windows, wrist.rj_min_probability) == (6, 0.95)
    assert foot == DetectorConfig()
    t = EpisodeTracker(wrist)
    _, alerts = feed(t, ["rhythmic_jerking"] * 5 + ["quiet"] * 4)
    assert alerts == []
    _, alerts = feed(t, ["rhythmic_jerking"] * 6, first=9)
    assert [a.level for a in alerts] == ["warning"]
