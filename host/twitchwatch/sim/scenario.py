"""Scenarios as data: a sequence of (activity, duration, params) segments.

A whole simulated day is a few lines of text, e.g. ``"quiet:60,walking:2m,rhythmic_jerking:45"``.
Durations take an optional unit suffix ``s``, ``m`` or ``h``; parameters go in brackets,
``"tremor[kind=rest]:60"``, ``"rhythmic_jerking[tonic=1;generalized=1]:90"`` (numbers become floats,
anything else stays a string). A repeated block is written ``(walking:5m,quiet:10m)*4``.

Window labels
-------------
Every activity maps to one of :data:`twitchwatch.model.WINDOW_LABELS` (:func:`window_label_for`).
Choices worth stating:

- ``plm`` (periodic limb movements of sleep) and ``cramp`` map to ``voluntary_movement``. Neither
  is voluntary, but the label is the detector's catch-all for "non-seizure movement or muscle
  activity that must not alarm". PLMs are periodic (5-90 s apart) but each is a single slow
  0.5-10 s movement, not clonic jerking; a cramp is sustained EMG without rhythm.
- ``tapping`` (voluntary foot tapping, 2-5 Hz) is ``voluntary_movement`` although it is rhythmic
  at clonic rates: it is the hardest confounder on purpose.
- ``not_worn`` maps to ``quiet`` (no movement, no muscle); the detector reports it as a fault.
- ``fasciculation`` segments are rest with the subject's fasciculation rate; ``quiet`` segments
  are rest with only a low background rate (see :mod:`twitchwatch.sim.subject`).
- Event annotations: ``fasciculation`` -> ``fasciculation``; ``jerk``, ``tonic_phase`` and
  ``generalized_phase`` -> ``rhythmic_jerking``; ``electrode_pop`` -> ``quiet`` (an artifact);
  ``tap`` (one voluntary foot tap, from TA burst onset to forefoot impact), ``plm_movement`` (one
  periodic limb movement) and ``movement`` (one fidget) -> ``voluntary_movement``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from twitchwatch.errors import ConfigError
from twitchwatch.model import PLACEMENTS, WINDOW_LABELS


@dataclass(frozen=True)
class ActivitySpec:
    """What the simulator knows about one activity name."""

    window_label: str
    placements: tuple[str, ...]
    foot_posture: str = "sitting"
    wrist_posture: str = "lap"
    description: str = ""


_BOTH = ("foot", "ankle", "wrist")
_FOOT = ("foot", "ankle")
_WRIST = ("wrist",)

#: Every activity the simulator can render.
ACTIVITIES: dict[str, ActivitySpec] = {
    "quiet": ActivitySpec("quiet", _BOTH, "sitting", "lap", "rest, low background fasciculation rate"),
    "fasciculation": ActivitySpec("fasciculation", _BOTH, "sitting", "lap", "rest with the subject's fasciculation rate"),
    "sleep": ActivitySpec("quiet", _BOTH, "lying", "lying", "lying still, occasional turns"),
    "rhythmic_jerking": ActivitySpec("rhythmic_jerking", _BOTH, "sitting", "lap", "focal clonic jerking (optional tonic phase, spread)"),
    "walking": ActivitySpec("voluntary_movement", _BOTH, "standing", "arm_hanging", "level walking"),
    "running": ActivitySpec("voluntary_movement", _BOTH, "standing", "arm_bent", "running; foot impacts clip at +-16 g"),
    "stairs": ActivitySpec("voluntary_movement", _BOTH, "standing", "arm_hanging", "stair climbing"),
    "tapping": ActivitySpec("voluntary_movement", _FOOT, "sitting", "lap", "voluntary seated foot tapping 2-5 Hz"),
    "tremor": ActivitySpec("tremor", _BOTH, "sitting", "lap", "tremor: kind=rest|essential|orthostatic or hz=..."),
    "plm": ActivitySpec("voluntary_movement", _FOOT, "lying", "lying", "periodic limb movements of sleep"),
    "cramp": ActivitySpec("voluntary_movement", _FOOT, "lying", "lying", "calf cramp: sustained EMG"),
    "fidget": ActivitySpec("voluntary_movement", _BOTH, "sitting", "lap", "irregular small movements"),
    "not_worn": ActivitySpec("quiet", _BOTH, "table", "table", "sensor off the body: still, no EMG contact"),
    "brushing_teeth": ActivitySpec("voluntary_movement", _WRIST, "standing", "hand_at_mouth", "tooth brushing 3-6 Hz scrubbing, forearm raised"),
    "combing_hair": ActivitySpec("voluntary_movement", _WRIST, "standing", "above_head", "hair combing strokes"),
    "typing": ActivitySpec("voluntary_movement", _WRIST, "sitting", "desk", "typing at a keyboard"),
    "eating": ActivitySpec("voluntary_movement", _WRIST, "sitting", "desk", "meal: cutting and hand-to-mouth"),
    "washing_dishes": ActivitySpec("voluntary_movement", _WRIST, "standing", "sink", "scrubbing and rinsing"),
    "electric_toothbrush": ActivitySpec("voluntary_movement", _WRIST, "standing", "hand_at_mouth",
                                        "electric toothbrush: motor vibration (aliased) and small hand moves"),
    "shaving": ActivitySpec("voluntary_movement", _WRIST, "standing", "hand_at_mouth", "electric shaver: vibration and slow strokes"),
    "clapping": ActivitySpec("voluntary_movement", _WRIST, "standing", "arm_bent", "clapping bouts 2-4.5 Hz"),
    "vehicle": ActivitySpec("voluntary_movement", _BOTH, "sitting", "lap", "passenger or driver: road vibration, bumps"),
    "turning": ActivitySpec("voluntary_movement", _BOTH, "standing", "arm_hanging", "walking with frequent turns"),
    "stand_walk": ActivitySpec("voluntary_movement", _BOTH, "standing", "arm_hanging", "stand-walk-stand transitions"),
}

#: Labels of event-level annotations (individual ground-truth events, not segments).
EVENT_LABELS: dict[str, str] = {
    "fasciculation": "fasciculation",
    "jerk": "rhythmic_jerking",
    "tonic_phase": "rhythmic_jerking",
    "generalized_phase": "rhythmic_jerking",
    "electrode_pop": "quiet",
    "tap": "voluntary_movement",
    "plm_movement": "voluntary_movement",
    "movement": "voluntary_movement",
}

#: Activities made of separate movements with rest in between: windows of theirs that overlap
#: none of these events are rest windows in :func:`twitchwatch.sim.truth.window_labels`.
SPARSE_ACTIVITIES: dict[str, tuple[str, ...]] = {
    "plm": ("plm_movement",),
    "tapping": ("tap",),
    "fidget": ("movement",),
    "stand_walk": ("movement",),
}

#: Parameters every activity accepts: ``posture`` (see below) and the fasciculation rate
#: (``rate_per_min`` or its alias ``fasciculation_per_min``, per minute, 0-600).
COMMON_PARAMS = ("posture", "rate_per_min", "fasciculation_per_min")

#: Activity-specific parameters: name -> (low, high) for numbers or a tuple of allowed words.
ACTIVITY_PARAMS: dict[str, dict[str, tuple]] = {
    "rhythmic_jerking": {
        "f_start_hz": (0.2, 5.0),  # jerk frequency at onset, Hz
        "f_end_hz": (0.2, 5.0),  # towards the end, Hz; above f_start_hz it is clamped to it (never speeds up)
        "decay_s": (1.0, 600.0),  # time constant of the slowing, s
        "build_s": (0.1, 30.0),  # amplitude build-up time constant, s
        "amplitude": (0.05, 5.0),  # scale on the subject's jerk size (wrist default: random, WRIST_JERK_SCALE)
        "interval_cv": (0.0, 1.5),  # clonic at the wrist: jerk-interval CV (default random 0.08-0.3; foot 0.08);
        # irregular (both placements): CV of the gamma intervals (default random 0.5-0.95)
        "style": ("clonic", "irregular", "shaking", "random"),  # movement model (activities.JERK_STYLES)
        "tonic_g": (0.0, 1.0),  # peak of the tonic phase's 8-12 Hz vibration, g (default 0.05)
        "tonic": (0.0, 60.0),  # 0: none, 1: tonic phase of 10-20 s, > 1: its length, s
        "generalized": (0.0, 1.0),  # 0: focal, 1: spread at half-time, (0, 1): spread at that fraction
    },
    "tremor": {
        "kind": ("rest", "essential", "orthostatic"),
        "hz": (2.0, 25.0),
        "amplitude_g": (0.001, 3.0),
        "pattern": ("alternating", "synchronous"),
    },
    "walking": {"cadence_spm": (40.0, 160.0),
                "vigour": (0.05, 2.0)},  # scale of impacts and swing (default random, WALK_VIGOUR)
    "tapping": {"hz": (0.5, 8.0)},
    "brushing_teeth": {"hz": (1.0, 10.0)},  # scrubbing frequency (default random 3-6 Hz)
    "stairs": {"direction": ("up", "down")},
    "turning": {"cadence_spm": (40.0, 160.0), "vigour": (0.05, 2.0)},
    "stand_walk": {"cadence_spm": (40.0, 160.0), "vigour": (0.05, 2.0)},
    "plm": {"interval_s": (5.0, 90.0)},
    "fidget": {"rate_per_s": (0.01, 5.0)},
}

#: Postures a segment may ask for with ``posture=...``, per placement.
FOOT_POSTURES = ("standing", "sitting", "sitting_crossed", "lying", "lying_side", "prone", "table")
WRIST_POSTURES = ("arm_hanging", "arm_bent", "lap", "desk", "hand_at_mouth", "above_head", "sink", "lying", "table")


def window_label_for(activity: str) -> str:
    """The window label (one of ``model.WINDOW_LABELS``) an activity or event label stands for.

    Raises
    ------
    ConfigError
        for a name the simulator does not know.
    """
    spec = ACTIVITIES.get(activity)
    if spec is not None:
        return spec.window_label
    if activity in EVENT_LABELS:
        return EVENT_LABELS[activity]
    raise ConfigError(f"simulator: unknown activity {activity!r} (known: {', '.join(sorted(ACTIVITIES))})")


assert all(s.window_label in WINDOW_LABELS for s in ACTIVITIES.values())


@dataclass(frozen=True)
class Segment:
    """One stretch of a scenario: an activity for a duration (seconds), with optional parameters."""

    activity: str
    duration_s: float
    params: dict | None = None

    def param(self, name: str, default=None):
        return default if not self.params else self.params.get(name, default)


@dataclass(frozen=True)
class Scenario:
    """A named sequence of segments, played back to back from t = 0 s."""

    name: str
    segments: tuple[Segment, ...]
    placement: str = "foot"
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.segments))
        validate_scenario(self)

    @property
    def duration_s(self) -> float:
        return float(sum(s.duration_s for s in self.segments))


def validate_scenario(scenario: Scenario) -> None:
    """Raise ConfigError naming the first thing wrong with a scenario."""
    if scenario.placement not in PLACEMENTS:
        raise ConfigError(f"scenario {scenario.name!r}: unknown placement {scenario.placement!r} (known: {', '.join(PLACEMENTS)})")
    if not scenario.segments:
        raise ConfigError(f"scenario {scenario.name!r}: has no segments")
    postures = WRIST_POSTURES if scenario.placement == "wrist" else FOOT_POSTURES
    for i, seg in enumerate(scenario.segments):
        spec = ACTIVITIES.get(seg.activity)
        where = f"scenario {scenario.name!r} segment {i + 1} ({seg.activity})"
        if spec is None:
            raise ConfigError(f"{where}: unknown activity (known: {', '.join(sorted(ACTIVITIES))})")
        if scenario.placement not in spec.placements:
            raise ConfigError(f"{where}: not available at placement {scenario.placement!r}")
        if not (0.0 < float(seg.duration_s) <= 7 * 86400.0):
            raise ConfigError(f"{where}: duration {seg.duration_s} s must be > 0 and at most a week")
        posture = seg.param("posture")
        if posture is not None and posture not in postures:
            raise ConfigError(f"{where}: unknown posture {posture!r} for {scenario.placement} (known: {', '.join(postures)})")
        allowed = ACTIVITY_PARAMS.get(seg.activity, {})
        for key, value in (seg.params or {}).items():
            if key in ("rate_per_min", "fasciculation_per_min"):
                allowed_range: tuple = (0.0, 600.0)
            elif key == "posture":
                continue
            elif key in allowed:
                allowed_range = allowed[key]
            else:
                known = ", ".join(COMMON_PARAMS + tuple(allowed))
                raise ConfigError(f"{where}: unknown parameter {key!r} (known: {known})")
            if isinstance(allowed_range[0], str):
                if value not in allowed_range:
                    raise ConfigError(f"{where}: {key}={value!r} must be one of {', '.join(allowed_range)}")
            elif not isinstance(value, (int, float)) or not (allowed_range[0] <= float(value) <= allowed_range[1]):
                raise ConfigError(f"{where}: {key}={value!r} must be a number from {allowed_range[0]:g} to {allowed_range[1]:g}")


_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_SEG_RE = re.compile(r"^\s*([a-z_]+)\s*(?:\[([^\]]*)\])?\s*:\s*([0-9]*\.?[0-9]+)\s*(s|min|m|h)?\s*$")


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in (p.strip() for p in parts) if p]


def _parse_value(v: str):
    v = v.strip()
    try:
        return float(v)
    except ValueError:
        return v


def _parse_items(text: str, where: str) -> list[Segment]:
    out: list[Segment] = []
    for item in _split_top(text):
        rep = re.match(r"^\((.*)\)\s*\*\s*(\d+)$", item, re.S)
        if rep:
            inner = _parse_items(rep.group(1), where)
            n = int(rep.group(2))
            if n < 1 or n > 100_000:
                raise ConfigError(f"{where}: repeat count {n} must be 1-100000")
            out.extend(inner * n)
            continue
        m = _SEG_RE.match(item)
        if not m:
            raise ConfigError(f"{where}: cannot read segment {item!r} (expected activity[:key=value;...]:duration, e.g. walking:90 or quiet:10m)")
        name, ptext, num, unit = m.groups()
        params = None
        if ptext:
            params = {}
            for kv in ptext.split(";"):
                if not kv.strip():
                    continue
                if "=" not in kv:
                    raise ConfigError(f"{where}: parameter {kv!r} in {item!r} is not key=value")
                k, v = kv.split("=", 1)
                params[k.strip()] = _parse_value(v)
        out.append(Segment(name, float(num) * _UNITS[unit or ""], params))
    return out


def parse_scenario(text: str, placement: str = "foot", name: str | None = None) -> Scenario:
    """Build a scenario from text, or return a built-in one by name.

    Parameters
    ----------
    text : a key of :data:`SCENARIOS`, or segments like ``"quiet:60,walking:2m,tremor[kind=rest]:30"``
    placement : "foot", "ankle" or "wrist" (ignored for a built-in name, which has its own)
    name : name given to the scenario (default: the text itself)

    Raises
    ------
    ConfigError
        on unreadable text, unknown activities or parameters that cannot work.
    """
    key = text.strip()
    if key in SCENARIOS:
        return SCENARIOS[key]
    where = f"scenario {key[:60]!r}"
    segments = _parse_items(key, where)
    if not segments:
        raise ConfigError(f"{where}: no segments (expected e.g. quiet:60,walking:120)")
    return Scenario(name or key, tuple(segments), placement)


def _scenario(name: str, text: str, placement: str = "foot", description: str = "") -> Scenario:
    return Scenario(name, tuple(_parse_items(text, f"scenario {name!r}")), placement, description)


#: Built-in scenarios. Times in the comments are offsets from the start.
SCENARIOS: dict[str, Scenario] = {}


def _register(*scenarios: Scenario) -> None:
    for s in scenarios:
        SCENARIOS[s.name] = s


_register(
    # 2 min. Jerking starts at 30 s with a fast, strong onset so a detector with <= 5-10 s latency
    # alerts well within the first 60 s of the demo.
    _scenario(
        "demo",
        "fasciculation[rate_per_min=30]:15,walking:15,"
        "rhythmic_jerking[f_start_hz=3;f_end_hz=1.2;build_s=3;amplitude=1.3]:35,"
        "quiet:10,tremor[kind=rest]:25,quiet:20",
        description="2-minute tour: fasciculations, walking, a rhythmic-jerking episode at 30-65 s, rest tremor",
    ),
    _scenario(
        "quiet_day",
        "(fasciculation:20m,quiet[posture=sitting_crossed]:10m,fidget:1m,quiet[posture=standing]:5m,"
        "fasciculation[posture=lying]:30m,sleep:20m)*4",
        description="about 6 h at rest: sitting, crossed legs, standing, lying, with fasciculations",
    ),
    _scenario(
        "walk",
        "quiet[posture=standing]:30,walking:5m,stairs:1m,walking:2m,running:1m,walking:1m,quiet:30",
        description="about 11 min of gait: walking, stairs, running (clips at +-16 g)",
    ),
    _scenario(
        "seizure",
        "quiet:60,rhythmic_jerking[tonic=1;generalized=1]:90,quiet[posture=lying]:2m",
        description="a focal-to-bilateral tonic-clonic seizure: tonic phase, clonic jerking, spread, postictal rest",
    ),
    _scenario(
        "focal_seizures",
        "quiet:60,rhythmic_jerking:30,quiet:2m,rhythmic_jerking[posture=lying]:60,quiet:2m,"
        "rhythmic_jerking[posture=standing]:20,walking:1m,rhythmic_jerking:2m,quiet:60",
        description="four focal clonic episodes of 20 s to 2 min in different postures",
    ),
    _scenario(
        "tremor",
        "quiet:30,tremor[kind=rest]:60,quiet:30,tremor[kind=essential]:60,quiet[posture=standing]:20,"
        "tremor[kind=orthostatic;posture=standing]:60,quiet:30",
        description="rest, essential and orthostatic tremor",
    ),
    _scenario(
        "confounders",
        "quiet:30,tapping:60,quiet:20,tremor[kind=rest]:40,fidget:60,walking:60,running:40,stairs:40,"
        "quiet:20,cramp:45,plm:3m,quiet:30",
        description="every foot confounder in a few minutes",
    ),
    _scenario(
        "faults",
        "quiet:60,not_worn:2m,quiet:30,fidget:30,quiet:30",
        description="sensor taken off and put back on",
    ),
    _scenario(
        "daily_mix",
        # 24 h: night with PLMs and a cramp, morning routine, desk work with tapping and fidgeting,
        # walks, a run, stairs, a shower (sensor off), evening rest with fasciculations.
        "sleep:3h,plm:20m,sleep:2h,cramp:2m,sleep[posture=lying_side]:2h,"
        "quiet[posture=standing]:5m,walking:3m,not_worn:20m,quiet:15m,walking:10m,stairs:2m,"
        "(quiet:25m,tapping:3m,fidget:2m,quiet[posture=sitting_crossed]:20m,walking:4m,fasciculation:15m,tapping:1m)*4,"
        "walking:20m,running:25m,walking:10m,stairs:1m,quiet:30m,tremor[kind=essential]:5m,"
        "fidget:10m,walking:15m,quiet[posture=standing]:10m,fasciculation:1h,"
        "quiet[posture=sitting_crossed]:1h,tapping:5m,fidget:20m,walking:20m,quiet:2h,stairs:1m,"
        "fasciculation[posture=lying]:1h,sleep:191m",
        description="24 h of everyday activity without seizures (false-alarm corpus)",
    ),
    _scenario(
        "wrist_demo",
        "quiet:15,brushing_teeth:20,rhythmic_jerking[f_start_hz=3;f_end_hz=1.2;build_s=3]:35,quiet:10,walking:20,typing:20",
        "wrist",
        description="2-minute wrist tour with a clonic episode at 35-70 s",
    ),
    _scenario(
        "wrist_day",
        "sleep:2h,quiet[posture=arm_hanging]:5m,brushing_teeth:2m,combing_hair:1m,eating:15m,washing_dishes:10m,"
        "walking:15m,(typing:40m,quiet:10m,fidget:5m,walking:5m)*3,eating:20m,running:20m,walking:10m,"
        "washing_dishes:8m,quiet:30m,tremor[kind=essential]:3m,brushing_teeth:3m,combing_hair:2m,sleep:1h",
        "wrist",
        description="about 10 h of wrist activities known to trigger false alarms",
    ),
    _scenario(
        "wrist_seizure",
        "quiet:60,brushing_teeth:2m,quiet:30,rhythmic_jerking[tonic=1;generalized=1]:80,quiet[posture=lying]:90,"
        "walking:60,rhythmic_jerking:40,quiet:60",
        "wrist",
        description="two wrist clonic episodes among brushing and walking",
    ),
)
