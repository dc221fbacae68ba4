"""Scenario text, built-in scenarios, activities and their window labels."""

from __future__ import annotations

import pytest

from twitchwatch.errors import ConfigError
from twitchwatch.model import WINDOW_LABELS
from twitchwatch.sim import ACTIVITIES, EVENT_LABELS, SCENARIOS, Segment, parse_scenario, window_label_for
from twitchwatch.sim.scenario import Scenario


def test_text_with_units_params_and_repeats_becomes_segments():
    sc = parse_scenario("quiet:60,walking:2m,tremor[kind=rest;hz=5.5]:30s,(tapping:10,quiet:5)*2,sleep:1h")
    assert [s.activity for s in sc.segments] == ["quiet", "walking", "tremor", "tapping", "quiet", "tapping", "quiet", "sleep"]
    assert sc.segments[1].duration_s == 120.0
    assert sc.segments[2].params == {"kind": "rest", "hz": 5.5}
    assert sc.duration_s == 60 + 120 + 30 + 30 + 3600
    assert sc.placement == "foot"


def test_a_builtin_name_returns_the_builtin_scenario():
    assert parse_scenario("demo") is SCENARIOS["demo"]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("dancing:60", "unknown activity"),
        ("quiet", "cannot read segment"),
        ("quiet:0", "duration"),
        ("brushing_teeth:60", "not available at placement 'foot'"),
        ("quiet[posture=upside_down]:60", "unknown posture"),
        ("quiet[kind]:60", "not key=value"),
        ("tremor[kind=wobbly]:60", "kind='wobbly' must be one of"),
        ("tremor[speed=3]:60", "unknown parameter 'speed'"),
        ("rhythmic_jerking[f_start_hz=9]:60", "f_start_hz=9.0 must be a number from 0.2 to 5"),
    ],
)
def test_bad_scenario_text_is_one_clear_config_error(text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_scenario(text)


def test_wrist_activities_need_the_wrist_placement():
    sc = parse_scenario("brushing_teeth:60,typing:30", placement="wrist")
    assert sc.placement == "wrist"
    with pytest.raises(ConfigError, match="placement"):
        Scenario("x", (Segment("tapping", 10.0),), placement="wrist")


def test_required_scenarios_exist_and_demo_jerks_within_its_first_minute():
    for name in ("demo", "quiet_day", "walk", "seizure", "tremor", "daily_mix", "wrist_day", "wrist_seizure"):
        assert name in SCENARIOS
    demo = SCENARIOS["demo"]
    assert 100 <= demo.duration_s <= 150
    t, starts = 0.0, {}
    for seg in demo.segments:
        starts.setdefault(seg.activity, t)
        t += seg.duration_s
    assert starts["rhythmic_jerking"] < 45
    assert {"fasciculation", "walking", "tremor", "quiet"} <= set(starts)
    assert 23 * 3600 <= SCENARIOS["daily_mix"].duration_s <= 25 * 3600
    assert any(s.placement == "wrist" for s in SCENARIOS.values())


def test_every_activity_and_event_label_maps_to_a_window_label():
    for name in list(ACTIVITIES) + list(EVENT_LABELS):
        assert window_label_for(name) in WINDOW_LABELS
    assert window_label_for("rhythmic_jerking") == "rhythmic_jerking"
    assert window_label_for("tapping") == "voluntary_movement"
    assert window_label_for("plm") == "voluntary_movement"
    assert window_label_for("tremor") == "tremor"
    assert window_label_for("jerk") == "rhythmic_jerking"
    with pytest.raises(ConfigError):
        window_label_for("levitating")


def test_window_labels_follow_segments_and_fasciculation_events():
    import numpy as np

    from twitchwatch.model import Annotation
    from twitchwatch.sim import window_labels

    segments = [Annotation(0.0, 10.0, "fasciculation"), Annotation(10.0, 10.0, "rhythmic_jerking"), Annotation(20.0, 10.0, "tapping")]
    events = [Annotation(1.0, 0.01, "fasciculation"), Annotation(12.0, 0.3, "jerk"), Annotation(21.0, 0.2, "tap"), Annotation(26.0, 0.2, "tap")]
    labels = window_labels(segments, events, np.array([0.0, 4.0, 8.5, 9.0, 15.0, 18.5, 25.0]), 4.0)
    assert list(labels) == ["fasciculation", "quiet", "rhythmic_jerking", "rhythmic_jerking", "rhythmic_jerking", "voluntary_movement", "voluntary_movement"]


def test_windows_between_separate_movements_are_rest():
    import numpy as np

    from twitchwatch.model import Annotation
    from twitchwatch.sim import window_labels

    segments = [Annotation(0.0, 100.0, "plm")]
    events = [Annotation(10.0, 2.0, "plm_movement"), Annotation(40.0, 3.0, "plm_movement"), Annotation(70.5, 0.01, "fasciculation")]
    labels = window_labels(segments, events, np.array([0.0, 8.0, 11.5, 20.0, 38.0, 42.5, 70.0]), 5.0)
    assert list(labels) == ["quiet", "voluntary_movement", "voluntary_movement", "quiet", "voluntary_movement", "voluntary_movement", "fasciculation"]
