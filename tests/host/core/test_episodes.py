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


def test_a_trained_model_brings_its_own_alert_settings_to_the_detector():
    from twitchwatch.core.detector import make_detector
    from twitchwatch.model import DeviceInfo, StreamInfo

    for placement in ("wrist", "foot"):
        info = DeviceInfo("t", "0", 1, placement, (StreamInfo("accel", 25.0, 1, 16.0, 0.0, ("magnitude",)),), "t")
        det = make_detector(info)
        s = det.seizure.settings
        assert det.c.rj_on_windows == s.on_windows >= 1
        assert 0.0 < s.threshold <= 1.0 and s.veto_windows >= 1
    assert det.seizure.settings.veto_threshold > 1.0  # the foot model does not use OSD's warning


def test_an_instant_window_opens_at_once_and_a_sustaining_one_only_keeps_an_episode_open():
    t = EpisodeTracker(DetectorConfig(rj_on_windows=6, rj_off_windows=2))
    labels = ["quiet", "rhythmic_jerking", "quiet", "quiet", "quiet", "quiet", "quiet"]
    starts = np.arange(len(labels)) * HOP
    instant = np.array([False, True, False, False, False, False, False])
    sustain = np.array([True, False, True, True, True, False, False])
    episodes, alerts = t.step(labels, starts, starts + WIN, np.zeros(7), np.zeros(7, bool), [()] * 7, instant, sustain)
    assert [a.level for a in alerts] == ["warning"] and alerts[0].t_s == starts[1] + WIN
    # sustained through windows 2-4 (a sustaining window before it opened did nothing), closed by 5-6
    assert len(episodes) == 1 and episodes[0].end_s == starts[4] + WIN
