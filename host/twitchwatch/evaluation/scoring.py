"""Episode- and alert-level scoring shared by the real-data evaluation (pure functions, no I/O).

Vocabulary:
- an *alert episode* is one run of rhythmic-jerking alerts with the same ``episode_start_s``; it
  notifies someone once, at its first alert. At level ``"any"`` the episode counts from its first
  alert (a warning or an alarm); at level ``"alarm"`` only episodes that reached an alarm count,
  from the alarm's time.
- a labelled seizure is *detected* when an alert episode's notification time falls in
  [start - grace_before_s, end + grace_after_s]; latency = notification time - labelled start.
- every other alert episode is a false alert.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.model import Alert

SEIZURE_KIND = "rhythmic_jerking"
LEVELS = ("any", "alarm")
#: An alert up to one OSDB datapoint (5 s) before a labelled start counts: labels are whole seconds on
#: 5 s datapoints whose timestamps jitter by +-1 s.
SEIZURE_GRACE_BEFORE_S = 5.0
#: An alert up to two datapoints (10 s) after the labelled end counts: a detector that needs > 10 s
#: of rhythm (OSD does) can only alarm after a short seizure's labelled end.
SEIZURE_GRACE_AFTER_S = 10.0


def notification_times(alerts: tuple[Alert, ...] | list[Alert], level: str = "any") -> np.ndarray:
    """Times (s) at which rhythmic-jerking episodes notified someone at ``level``.

    Parameters
    ----------
    alerts : a detector's alerts (fault alerts are ignored)
    level : "any" (first warning or alarm of each episode) or "alarm" (first alarm of each episode)

    Returns
    -------
    float64 array, shape (n_episodes,), sorted
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    first: dict[float, float] = {}
    for a in alerts:
        if a.kind != SEIZURE_KIND or a.level not in ("warning", "alarm"):
            continue
        if level == "alarm" and a.level != "alarm":
            continue
        key = round(a.episode_start_s, 6)
        first[key] = min(first.get(key, np.inf), a.t_s)
    return np.sort(np.fromiter(first.values(), dtype=np.float64, count=len(first)))


@dataclass(frozen=True)
class SeizureScore:
    detected: bool
    latency_s: float | None
    false_alerts: int
    non_seizure_s: float


def score_seizure(times: np.ndarray, start_s: float, end_s: float, recording_start_s: float,
                  recording_end_s: float, grace_before_s: float, grace_after_s: float) -> SeizureScore:
    """Score one recording holding one labelled seizure.

    The labelled interval is clipped to the recording; latency is measured from the clipped start
    (a seizure labelled as starting before the recording began is timed from the first sample).
    """
    start = max(start_s, recording_start_s)
    end = min(end_s, recording_end_s)
    lo, hi = start - grace_before_s, end + grace_after_s
    inside = times[(times >= lo) & (times <= hi)]
    detected = inside.size > 0
    latency = float(inside[0] - start) if detected else None
    false_alerts = int(np.count_nonzero((times < lo) | (times > hi)))
    non_seizure = max(0.0, min(lo, recording_end_s) - recording_start_s) + max(0.0, recording_end_s - max(hi, recording_start_s))
    return SeizureScore(detected, latency, false_alerts, non_seizure)


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return None if denominator == 0 else numerator / denominator


def per_hour(count: int, seconds: float) -> float | None:
    return None if seconds <= 0 else count / (seconds / 3600.0)


def median_or_none(values: list[float]) -> float | None:
    return None if not values else float(np.median(values))


def alerts_in(times: np.ndarray, start_s: float, end_s: float) -> int:
    """Number of notification times in [start_s, end_s)."""
    return int(np.count_nonzero((times >= start_s) & (times < end_s)))


def active_alert_intervals(alerts, episodes, level: str = "any") -> list[tuple[float, float]]:
    """[notification, episode end] for each alert episode at ``level`` (s).

    In a continuous stream an alarm that started in one labelled segment stays on through the
    following ones; this is the time during which someone has been notified and the episode is
    still going. An episode still open when the detector finished ends at its notification.
    """
    ends = {round(e.start_s, 6): e.end_s for e in episodes if e.kind == SEIZURE_KIND}
    first: dict[float, float] = {}
    for a in alerts:
        if a.kind != SEIZURE_KIND or a.level not in ("warning", "alarm") or (level == "alarm" and a.level != "alarm"):
            continue
        key = round(a.episode_start_s, 6)
        first[key] = min(first.get(key, np.inf), a.t_s)
    return sorted((t, max(t, ends.get(k, t))) for k, t in first.items())


def overlaps(intervals: list[tuple[float, float]], start_s: float, end_s: float) -> bool:
    """True when any closed interval touches [start_s, end_s)."""
    return any(a < end_s and b >= start_s for a, b in intervals)
