"""Physiological signal simulator with ground truth (seeded, vectorized, pure).

Quick use::

    from twitchwatch.sim import SCENARIOS, SimConfig, draw_subject, simulate
    rec = simulate(SCENARIOS["demo"], draw_subject(1, "foot"), SimConfig(), seed=7)
    rec.accel_counts, rec.emg_counts, rec.annotations, rec.device_info()

``simulate_blocks(...)`` yields the same samples in blocks with bounded memory; ``Simulation``
plans once and offers ground truth, ``blocks()``, ``items()`` (a live source's items) and
``recording()``; ``window_labels`` gives the true label of analysis windows. README.md in this
folder summarises what is modelled and its limits.

See :mod:`twitchwatch.sim.scenario` (activities, scenario text, window labels),
:mod:`twitchwatch.sim.subject` (subject variability), :mod:`twitchwatch.sim.activities`
(modelling choices and sources) and :mod:`twitchwatch.sim.render` (how samples are made).
"""

from twitchwatch.sim.config import SimConfig
from twitchwatch.sim.generate import (
    SimBlock,
    SimRecording,
    Simulation,
    build_plan,
    device_info_for,
    simulate,
    simulate_blocks,
)
from twitchwatch.sim.scenario import (
    ACTIVITIES,
    EVENT_LABELS,
    SCENARIOS,
    Scenario,
    Segment,
    parse_scenario,
    window_label_for,
)
from twitchwatch.sim.subject import Subject, draw_subject
from twitchwatch.sim.truth import window_labels

__all__ = [
    "ACTIVITIES",
    "EVENT_LABELS",
    "SCENARIOS",
    "Scenario",
    "Segment",
    "SimBlock",
    "SimConfig",
    "SimRecording",
    "Simulation",
    "Subject",
    "build_plan",
    "device_info_for",
    "draw_subject",
    "parse_scenario",
    "simulate",
    "simulate_blocks",
    "window_label_for",
    "window_labels",
]
