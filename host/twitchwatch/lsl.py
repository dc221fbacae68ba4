"""Lab Streaming Layer out: the live session's raw samples and a marker stream of what it found.

``record --lsl`` / ``demo --lsl`` attach an :class:`LslPublisher` to the live pipeline's hub:

- one outlet per sampled stream, named ``<name>-accel`` / ``<name>-emg`` (``name`` defaults to
  ``twitchwatch``), stream type ``Accelerometer`` / ``EMG``, float32 samples at the device's own
  rate, and in the stream description what LabRecorder and other LSL tools read:
  ``desc/channels/channel/{label,unit,type}`` (units ``g`` and ``microvolts``, types ``ACC`` and
  ``EMG``), ``desc/acquisition/{manufacturer,model,serial_number}`` and ``desc/twitchwatch``
  (device id, placement, full-scale range);
- one marker outlet ``<name>-markers`` (type ``Markers``, one string channel, irregular rate):
  each event, episode, alert and fault as one JSON object with its device time (``t_device``,
  seconds on the device clock), stamped at that same moment on the LSL clock.

Timestamps: the device clock is mapped to LSL's ``local_clock()`` once, at the first chunk
(``lsl_time = device_time + offset_s``, the end of that chunk being "now"), so samples and markers
share one mapping and line up exactly; the device's own sample timing is kept (no re-stamping on
arrival). Outlets exist from the moment the device announces itself, so an LSL recorder can
connect before data flows.

The publisher is a hub subscriber: it never slows the detector. Its queue is large (minutes of
chunks); if it ever falls behind, the hub drops its oldest items and counts them in ``dropped``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from dataclasses import dataclass

import numpy as np

from twitchwatch.errors import DeviceError
from twitchwatch.model import Chunk, DetectorOutput, DeviceInfo, Fault, StreamInfo

#: Outlet stream type and channel type per stream kind (XDF meta-data conventions).
STREAM_TYPES = {"accel": "Accelerometer", "emg": "EMG"}
CHANNEL_TYPES = {"accel": "ACC", "emg": "EMG"}
CHANNEL_UNITS = {"accel": "g", "emg": "microvolts"}
MARKER_TYPE = "Markers"
#: Items the publisher's hub queue holds (chunks are ~20-125 ms each: minutes of data).
QUEUE_ITEMS = 65536
DEFAULT_NAME = "twitchwatch"


_configured = False


def _pylsl():
    """pylsl, with liblsl's own log limited to errors (its INFO lines would break our one-line
    messages) unless the user points ``LSLAPICFG`` at a config of their own."""
    global _configured
    try:
        import pylsl
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise DeviceError(f"lsl: pylsl is not installed ({exc}); run scripts/setup.sh") from None
    if not _configured:
        _configured = True
        if not os.environ.get("LSLAPICFG"):
            try:
                pylsl.set_config_content("[log]\nlevel = -2\n")
            except Exception:  # an old liblsl without it, or liblsl already in use: its log stays
                pass
    return pylsl


@dataclass(frozen=True)
class OutletNames:
    """Names of the outlets one publisher creates."""

    accel: str
    emg: str
    markers: str

    @staticmethod
    def of(name: str) -> "OutletNames":
        return OutletNames(f"{name}-accel", f"{name}-emg", f"{name}-markers")


def stream_info_for(info: DeviceInfo, s: StreamInfo, name: str):
    """The pylsl StreamInfo (with its description) of one sampled stream."""
    pylsl = _pylsl()
    lsl = pylsl.StreamInfo(f"{name}-{s.kind}", STREAM_TYPES[s.kind], s.channels, s.rate_hz, pylsl.cf_float32,
                           f"twitchwatch:{info.device_id}:{s.kind}")
    desc = lsl.desc()
    chans = desc.append_child("channels")
    names = s.channel_names if len(s.channel_names) == s.channels else tuple(f"{s.kind}{i}" for i in range(s.channels))
    for label in names:
        ch = chans.append_child("channel")
        ch.append_child_value("label", str(label))
        ch.append_child_value("unit", CHANNEL_UNITS[s.kind])
        ch.append_child_value("type", CHANNEL_TYPES[s.kind])
    acq = desc.append_child("acquisition")
    acq.append_child_value("manufacturer", "twitchwatch")
    acq.append_child_value("model", info.source or "twitchwatch sensor")
    acq.append_child_value("serial_number", info.device_id)
    tw = desc.append_child("twitchwatch")
    tw.append_child_value("device_id", info.device_id)
    tw.append_child_value("placement", info.placement)
    tw.append_child_value("range", repr(float(s.range)))
    return lsl


class LslPublisher:
    """Publish a live session to LSL (see the module docstring).

    Parameters
    ----------
    name : outlet name prefix ("twitchwatch": outlets twitchwatch-accel, -emg, -markers)

    Attributes
    ----------
    offset_s : LSL time minus device time, seconds (None before the first chunk)
    chunks, markers : how many were pushed
    """

    def __init__(self, name: str = DEFAULT_NAME):
        self.name = name
        self.names = OutletNames.of(name)
        self.outlets: dict[str, object] = {}
        self.marker_outlet = None
        self.offset_s: float | None = None
        self.device_info: DeviceInfo | None = None
        self.chunks = 0
        self.markers = 0
        self.subscription = None
        self._last_t: dict[str, float] = {}

    # ---- the items -------------------------------------------------------------------------------

    def on_device_info(self, info: DeviceInfo) -> None:
        """Create (or, when the streams changed, re-create) the outlets."""
        if self.device_info is not None and info.streams == self.device_info.streams:
            self.device_info = info
            return
        pylsl = _pylsl()
        self.device_info = info
        self.outlets = {s.kind: pylsl.StreamOutlet(stream_info_for(info, s, self.name))
                        for s in info.streams if s.kind in STREAM_TYPES and s.channels > 0}
        if self.marker_outlet is None:
            mi = pylsl.StreamInfo(self.names.markers, MARKER_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string,
                                  f"twitchwatch:{info.device_id}:markers")
            ch = mi.desc().append_child("channels").append_child("channel")
            ch.append_child_value("label", "twitchwatch")
            ch.append_child_value("type", "Marker")
            self.marker_outlet = pylsl.StreamOutlet(mi)

    def on_chunk(self, chunk: Chunk) -> None:
        """Push a chunk's samples, the last one stamped at its device time on the LSL clock."""
        outlet = self.outlets.get(chunk.stream)
        if outlet is None or chunk.n == 0:
            return
        t_last = chunk.t0_s + (chunk.n - 1) / chunk.rate_hz
        if self.offset_s is None:
            self.offset_s = _pylsl().local_clock() - (chunk.t_end_s)
        outlet.push_chunk(np.ascontiguousarray(chunk.samples, dtype=np.float32), t_last + self.offset_s)
        self.chunks += 1

    def marker(self, obj: dict, t_device: float) -> None:
        """Push one marker (a JSON object with ``t_device``) stamped at ``t_device`` on the LSL clock."""
        if self.marker_outlet is None or self.offset_s is None or not math.isfinite(t_device):
            return
        self.marker_outlet.push_sample([json.dumps({**obj, "t_device": t_device})], t_device + self.offset_s)
        self.markers += 1

    def on_output(self, out: DetectorOutput) -> None:
        for e in out.events:
            self.marker({"type": "event", "kind": e.kind, "stream": e.stream, "channel": e.channel,
                         "amplitude": e.amplitude, "duration": e.duration_s}, e.t_s)
        for ep in out.episodes:
            self.marker({"type": "episode", "kind": ep.kind, "start": ep.start_s, "end": ep.end_s,
                         "dominant_hz": ep.dominant_hz, "max_level": ep.max_level}, ep.start_s)
        for a in out.alerts:
            self.marker({"type": "alert", "level": a.level, "kind": a.kind, "episode_start": a.episode_start_s}, a.t_s)
        for f in out.faults:
            self.on_fault(f)

    def on_fault(self, f: Fault) -> None:
        self.marker({"type": "fault", "kind": f.kind, "start": f.start_s, "end": f.end_s, "stream": f.stream,
                     "detail": f.detail}, f.start_s)

    def publish(self, item) -> None:
        """Dispatch one hub item."""
        if isinstance(item, Chunk):
            self.on_chunk(item)
        elif isinstance(item, DetectorOutput):
            self.on_output(item)
        elif isinstance(item, Fault):
            self.on_fault(item)
        elif isinstance(item, DeviceInfo):
            self.on_device_info(item)

    # ---- wiring ----------------------------------------------------------------------------------

    def attach(self, hub) -> "LslPublisher":
        """Subscribe to ``hub`` now (so nothing published from here on is missed); run :meth:`run`."""
        self.subscription = hub.subscribe(QUEUE_ITEMS, name="lsl")
        return self

    async def run(self) -> None:
        """Publish until the hub closes."""
        async for item in self.subscription:
            self.publish(item)
            if self.chunks % 64 == 0:
                await asyncio.sleep(0)

    @property
    def dropped(self) -> int:
        return self.subscription.dropped if self.subscription is not None else 0

    def close(self) -> None:
        self.outlets = {}
        self.marker_outlet = None
