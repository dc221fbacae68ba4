"""Frozen dataclasses that cross module boundaries.

Times are seconds on the device's (or file's) own clock unless a name says otherwise; rates are
hertz; accelerometer samples are in g, EMG samples in microvolts. Arrays inside these records are
never written to after construction (sources make them read-only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

StreamKind = Literal["accel", "emg"]
Placement = Literal["foot", "ankle", "wrist"]
PLACEMENTS: tuple[str, ...] = ("foot", "ankle", "wrist")

#: Window labels, in the order the classifiers use for their outputs.
WINDOW_LABELS: tuple[str, ...] = (
    "quiet",
    "fasciculation",
    "rhythmic_jerking",
    "tremor",
    "voluntary_movement",
)

#: Device-fault kinds (they are alerts of their own, never mixed with seizure alerts).
FAULT_KINDS: tuple[str, ...] = ("gap", "not_worn", "signal_lost", "saturated", "lead_off", "invalid_samples")

#: Fault kinds that last (the sensor off the body, an electrode off the skin): see :class:`Fault`.
INTERVAL_FAULT_KINDS: tuple[str, ...] = ("not_worn", "lead_off")

UNITS: dict[str, str] = {"accel": "g", "emg": "uV"}


@dataclass(frozen=True)
class StreamInfo:
    """One sampled stream as the device (or file) describes it.

    Attributes
    ----------
    kind : "accel" or "emg"
    rate_hz : sampling rate in Hz, from the device or the file, never assumed
    channels : number of channels (3 for accel, 1-2 for EMG)
    range : full-scale range in physical units (g for accel, uV for EMG); samples at or beyond it
        are clipped by the sensor
    scale : physical units per int16 count (g/count or uV/count); 0.0 when the source has no
        integer counts (a CSV in g, say)
    channel_names : e.g. ("x", "y", "z") or ("tibialis_anterior", "gastrocnemius")
    """

    kind: str
    rate_hz: float
    channels: int
    range: float
    scale: float
    channel_names: tuple[str, ...] = ()

    @property
    def unit(self) -> str:
        return UNITS[self.kind]


@dataclass(frozen=True)
class DeviceInfo:
    """What a source knows about the device or file it reads, announced before any chunk."""

    device_id: str
    firmware_version: str
    protocol_version: int
    placement: str
    streams: tuple[StreamInfo, ...]
    source: str = ""  # human-readable origin: "/dev/ttyACM0", "ble:AA:BB:..", "file:x.twr", "virtual:demo"

    def stream(self, kind: str) -> StreamInfo | None:
        for s in self.streams:
            if s.kind == kind:
                return s
        return None


@dataclass(frozen=True, eq=False)
class Chunk:
    """A block of consecutive samples of one stream.

    Attributes
    ----------
    stream : "accel" or "emg"
    t0_s : device time of the first sample, seconds
    rate_hz : sampling rate, Hz
    samples : float64 array, shape (n, channels), physical units (g or uV)
    seq_first, seq_last : device sequence numbers of the first and last frame in this chunk
        (-1 where the source has none, e.g. a CSV file)
    counts : the raw int16 samples, shape (n, channels), as the device sent them, or None where the
        source has no integer counts. ``samples == counts * scale`` when present.
    """

    stream: str
    t0_s: float
    rate_hz: float
    samples: np.ndarray
    seq_first: int = -1
    seq_last: int = -1
    counts: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n / self.rate_hz

    @property
    def t_end_s(self) -> float:
        """Device time just after the last sample, seconds."""
        return self.t0_s + self.n / self.rate_hz


@dataclass(frozen=True)
class Fault:
    """Something wrong with the signal or the link: data, never an exception.

    kind is one of :data:`FAULT_KINDS`. ``end_s`` may equal ``start_s`` for an instant.

    A fault of a kind in :data:`INTERVAL_FAULT_KINDS` is reported twice by a live source: when it
    begins (``end_s == start_s``: it is *open*, so an alert can go out at once) and when it ends
    (same kind, stream and ``start_s``, with the real ``end_s``). The store extends the open one;
    recordings keep only the closed one (:func:`is_fault_onset`).
    """

    kind: str
    start_s: float
    end_s: float
    stream: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Mark:
    """The wearer pressed the button: "I felt something now"."""

    t_s: float
    note: str = ""


@dataclass(frozen=True)
class Status:
    """A device status report (battery, drops, contact, saturation)."""

    t_s: float
    battery_pct: int
    battery_mv: int
    dropped_samples: int
    lead_off: tuple[bool, ...]
    imu_saturation_count: int


@dataclass(frozen=True)
class Annotation:
    """Ground truth or a file's own label: onset and duration in seconds, and a label string."""

    onset_s: float
    duration_s: float
    label: str


@dataclass(frozen=True, slots=True)  # slots: ~13,000 of each an hour are kept (issue 10 memory)
class Event:
    """A detected twitch or jerk burst.

    kind : "twitch" (short, < ~30 ms: fasciculation-like) or "burst" (longer muscle burst or
        movement impact)
    t_s : onset, seconds; duration_s : seconds; amplitude : peak of the envelope in the stream's
        physical unit (uV for EMG, g for accel); channel : channel name
    """

    t_s: float
    duration_s: float
    kind: str
    stream: str
    channel: str
    amplitude: float


@dataclass(frozen=True, slots=True)  # slots: ~13,000 of each an hour are kept (issue 10 memory)
class WindowLabel:
    """The classifier's verdict for one analysis window [start_s, end_s)."""

    start_s: float
    end_s: float
    label: str
    confidence: float
    dominant_hz: float
    rhythmicity: float


@dataclass(frozen=True)
class Episode:
    """A run of windows of one label, closed with hysteresis.

    kind : a window label ("rhythmic_jerking", "tremor", "fasciculation", ...)
    start_s, end_s : seconds
    dominant_hz : median dominant frequency over the episode, Hz
    max_level : the highest alert level reached ("", "warning", "alarm")
    """

    kind: str
    start_s: float
    end_s: float
    dominant_hz: float
    n_windows: int
    max_level: str = ""


@dataclass(frozen=True)
class Alert:
    """Something a person should look at now.

    level : "warning" or "alarm" for rhythmic jerking; "fault" for device faults
    kind : "rhythmic_jerking" or a fault kind ("not_worn", "signal_lost", "saturated")
    t_s : when the detector raised it, seconds (device clock)
    episode_start_s : start of the episode that caused it, seconds
    reasons : (name, value) pairs that explain the decision, e.g. ("dominant_hz", 2.1)
    """

    level: str
    kind: str
    t_s: float
    episode_start_s: float
    reasons: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class DetectorOutput:
    """Everything that became final during one ``Detector.process`` call."""

    events: tuple[Event, ...] = ()
    windows: tuple[WindowLabel, ...] = ()
    episodes: tuple[Episode, ...] = ()
    alerts: tuple[Alert, ...] = ()
    faults: tuple[Fault, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.events or self.windows or self.episodes or self.alerts or self.faults)

    @staticmethod
    def concat(outputs: "list[DetectorOutput] | tuple[DetectorOutput, ...]") -> "DetectorOutput":
        return DetectorOutput(
            events=tuple(e for o in outputs for e in o.events),
            windows=tuple(w for o in outputs for w in o.windows),
            episodes=tuple(e for o in outputs for e in o.episodes),
            alerts=tuple(a for o in outputs for a in o.alerts),
            faults=tuple(f for o in outputs for f in o.faults),
        )


#: How a live link can change (:class:`ConnectionChange`).
CONNECTION_STATES: tuple[str, ...] = ("connected", "disconnected", "reconnecting")


@dataclass(frozen=True)
class ConnectionChange:
    """A live source's link changed: ``state`` is one of :data:`CONNECTION_STATES`; ``device``
    names the device as in messages ("/dev/ttyACM0", "ble:AA:BB:..."); ``detail`` says why."""

    state: str
    device: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.state not in CONNECTION_STATES:
            raise ValueError(f"unknown connection state {self.state!r}")


@dataclass(frozen=True)
class DetectorFailure:
    """The detector raised: the live pipeline keeps recording and publishes this once."""

    detail: str


#: Everything a source yields: a DeviceInfo first, then these, in time order per stream
#: (live sources also yield ConnectionChange).
SourceItem = DeviceInfo | Chunk | Fault | Mark | Status | ConnectionChange


def is_fault_onset(fault: "Fault") -> bool:
    """The start of a lasting fault whose end is not known yet (see :class:`Fault`)."""
    return fault.kind in INTERVAL_FAULT_KINDS and fault.end_s <= fault.start_s
