"""Lab Streaming Layer in: any LSL stream whose channels are typed as accelerometer or EMG.

``LslSource(query)`` resolves streams by name (``twitchwatch-accel``), by name prefix
(``twitchwatch-*``) or by an LSL XPath predicate (``type='EMG' and hostname='lab1'``; anything
with ``=`` or ``(`` is a predicate), waits at most ``timeout_s`` for the first one, and reads every
stream found whose channels are typed (``desc/channels/channel/type``, or the stream's own type
when a channel has none) as accelerometer (``ACC``, ``Accel``, ``Accelerometer``) or ``EMG``.
The first stream of each kind is used, with up to two EMG channels, as the detector reads.

Units come from ``desc/channels/channel/unit``: ``g`` and ``m/s^2`` for acceleration,
``microvolts``/``uV``, ``millivolts`` and ``volts`` for EMG; a channel without a unit is taken to
be in g or microvolts; any other unit is a DeviceError naming the stream.

Time: device time is the stream's LSL timestamp (the sender's clock, corrected to this host's with
``time_correction()``) of the first sample, rounded to the microsecond, then carried on by sample
count so chunks are contiguous; data later than that by more than :data:`GAP_TOLERANCE_S` (an
outlet that went away and came back, an inlet buffer that overflowed and dropped samples) is a
``Fault("gap")`` and the clock re-anchors there. Inlets recover by themselves when their outlet
returns (LSL's ``recover``).

Layers: :class:`InletStream` is pure (samples and timestamps in, items out); :class:`LslSource`
does the LSL calls.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from twitchwatch.errors import DeviceError
from twitchwatch.lsl import _pylsl
from twitchwatch.model import Chunk, DeviceInfo, Fault, StreamInfo

#: Later-than-accounted-for data beyond this is a gap, seconds (LSL timestamps of a regular
#: stream are the sender's, so jitter is far below this).
GAP_TOLERANCE_S = 0.1
#: How long an inlet may buffer before LSL drops its oldest samples, seconds (then a gap).
INLET_BUFFER_S = 360
POLL_S = 0.02
#: Channel (or stream) type -> our stream kind.
KIND_OF_TYPE = {"acc": "accel", "accel": "accel", "accelerometer": "accel", "accelerometry": "accel",
                "accelerations": "accel", "emg": "emg"}
#: unit (lower case) -> factor to g / microvolts.
UNIT_FACTORS = {
    "accel": {"": 1.0, "g": 1.0, "m/s^2": 1 / 9.80665, "m/s2": 1 / 9.80665, "ms^-2": 1 / 9.80665},
    "emg": {"": 1.0, "microvolts": 1.0, "microvolt": 1.0, "uv": 1.0, "µv": 1.0, "μv": 1.0,
            "millivolts": 1e3, "mv": 1e3, "volts": 1e6, "v": 1e6},
}
MAX_EMG_CHANNELS = 2
UNSTATED_RANGE = {"accel": 16.0, "emg": 1e5}


def predicate(query: str) -> str:
    """The LSL XPath predicate for a name, a ``prefix*`` or a predicate."""
    q = query.strip()
    if "=" in q or "(" in q:
        return q
    if q.endswith("*"):
        return f"starts-with(name,'{q[:-1]}')"
    return f"name='{q}'"


@dataclass(frozen=True)
class InletPlan:
    """Which channels of one LSL stream become one of our streams.

    Attributes
    ----------
    kind : "accel" or "emg"
    columns : channel indices in the LSL sample
    factor : multiply to get g or microvolts
    rate_hz : the stream's nominal rate
    names : channel labels
    """

    kind: str
    columns: tuple[int, ...]
    factor: float
    rate_hz: float
    names: tuple[str, ...]


def plan_from_xml(xml: str) -> list[InletPlan]:
    """The accel/EMG streams in one LSL stream's full description (``StreamInfo.as_xml()``).

    Raises
    ------
    DeviceError : a typed channel with a unit we cannot convert, or an irregular rate.
    """
    root = ET.fromstring(xml)
    name = root.findtext("name") or "?"
    stype = (root.findtext("type") or "").strip().lower()
    rate = float(root.findtext("nominal_srate") or 0.0)
    count = int(root.findtext("channel_count") or 0)
    chans = root.findall("./desc/channels/channel")
    by_kind: dict[str, list[tuple[int, str, str]]] = {}
    for i in range(count):
        ch = chans[i] if i < len(chans) else None
        ctype = ((ch.findtext("type") if ch is not None else "") or stype).strip().lower()
        kind = KIND_OF_TYPE.get(ctype)
        if kind is None:
            continue
        unit = ((ch.findtext("unit") if ch is not None else "") or "").strip()
        label = ((ch.findtext("label") if ch is not None else "") or f"{kind}{i}").strip()
        by_kind.setdefault(kind, []).append((i, unit, label))
    plans = []
    for kind, chs in by_kind.items():
        if not rate > 0:
            raise DeviceError(f"lsl stream {name}: irregular rate; twitchwatch needs a regular sampling rate")
        if kind == "emg":
            chs = chs[:MAX_EMG_CHANNELS]
        units = {u.lower() for _, u, _ in chs}
        if len(units) > 1:
            raise DeviceError(f"lsl stream {name}: {kind} channels in different units ({', '.join(sorted(units))})")
        unit = units.pop()
        factor = UNIT_FACTORS[kind].get(unit.replace(" ", ""))
        if factor is None:
            raise DeviceError(f"lsl stream {name}: {kind} unit {unit!r} is not one twitchwatch converts "
                              f"({', '.join(k for k in UNIT_FACTORS[kind] if k)})")
        plans.append(InletPlan(kind, tuple(i for i, _, _ in chs), factor, rate, tuple(lbl for _, _, lbl in chs)))
    return plans


class InletStream:
    """LSL samples + timestamps -> Chunks and gap Faults for one of our streams (pure)."""

    def __init__(self, plan: InletPlan, gap_tolerance_s: float = GAP_TOLERANCE_S):
        self.plan = plan
        self.gap_tolerance_s = gap_tolerance_s
        self.anchor: float | None = None
        self.count = 0
        self.gaps = 0

    def expected_t(self) -> float | None:
        return None if self.anchor is None else self.anchor + self.count / self.plan.rate_hz

    def feed(self, samples: np.ndarray, timestamps: np.ndarray, correction_s: float = 0.0) -> list:
        if samples.shape[0] == 0:
            return []
        out: list = []
        t_first = round(float(timestamps[0]) + correction_s, 6)
        expected = self.expected_t()
        if expected is None:
            self.anchor, self.count = t_first, 0
        elif t_first - expected > self.gap_tolerance_s:
            self.gaps += 1
            out.append(Fault("gap", expected, t_first, stream=self.plan.kind,
                             detail=f"about {(t_first - expected) * self.plan.rate_hz:.0f} sample(s) missing "
                                    "on the LSL clock"))
            self.anchor, self.count = t_first, 0
        data = np.asarray(samples, dtype=np.float64)[:, list(self.plan.columns)]
        if self.plan.factor != 1.0:
            data = data * self.plan.factor
        data.flags.writeable = False
        out.append(Chunk(self.plan.kind, self.anchor + self.count / self.plan.rate_hz, self.plan.rate_hz, data))
        self.count += data.shape[0]
        return out


def _twitchwatch_facts(xml: str) -> dict[str, str]:
    root = ET.fromstring(xml)
    node = root.find("./desc/twitchwatch")
    return {c.tag: (c.text or "") for c in node} if node is not None else {}


class LslSource:
    """Items from LSL streams (see the module docstring).

    Parameters
    ----------
    query : a stream name, ``prefix*`` or an XPath predicate
    timeout_s : how long to look for a stream before saying none was found
    placement : what the DeviceInfo announces (default: the stream's own, if twitchwatch sent it,
        else "foot")
    """

    def __init__(self, query: str, timeout_s: float = 5.0, placement: str | None = None, poll_s: float = POLL_S):
        self.query = query
        self.timeout_s = float(timeout_s)
        self.placement = placement
        self.poll_s = poll_s
        self.inlets: list[tuple[object, list[InletStream]]] = []
        self.device_info: DeviceInfo | None = None
        self._closed = False

    @property
    def name(self) -> str:
        return f"lsl:{self.query}"

    def open(self) -> DeviceInfo:
        """Resolve and open the inlets (blocking); the DeviceInfo they make.

        Raises
        ------
        DeviceError : nothing found within the timeout, or nothing with accel/EMG channels.
        """

        pylsl = _pylsl()
        pred = predicate(self.query)
        try:
            found = pylsl.resolve_bypred(pred, 1, self.timeout_s)
        except Exception as exc:  # a malformed predicate
            raise DeviceError(f"lsl {self.query}: cannot search ({exc})") from None
        if not found:
            raise DeviceError(f"lsl {self.query}: no stream found within {self.timeout_s:g} s")
        # the siblings of what was found (a device's accel, EMG and marker outlets) come together;
        # one more short round makes sure every one of them is seen
        more = pylsl.resolve_bypred(pred, 1000, 0.5)
        by_uid = {i.uid(): i for i in list(found) + list(more)}
        streams: dict[str, tuple] = {}
        facts: dict[str, str] = {}
        names = []
        hosts: list[str] = []
        for info in sorted(by_uid.values(), key=lambda i: (i.name(), i.source_id())):
            names.append(f"{info.name()} ({info.type()})")
            inlet = pylsl.StreamInlet(info, max_buflen=INLET_BUFFER_S, recover=True)
            full = inlet.info(timeout=self.timeout_s)
            xml = full.as_xml()
            plans = [p for p in plan_from_xml(xml) if p.kind not in streams]
            if not plans:
                inlet.close_stream()
                continue
            facts = facts or _twitchwatch_facts(xml)
            inlet.open_stream(timeout=self.timeout_s)
            parts = [InletStream(p) for p in plans]
            for p in plans:
                streams[p.kind] = (p, full.name())
            self.inlets.append((inlet, parts))
            hosts.append(full.hostname())
        if not self.inlets:
            raise DeviceError(f"lsl {self.query}: found {', '.join(names)}, none with channels typed as "
                              "accelerometer or EMG")
        infos = []
        for kind in ("accel", "emg"):
            if kind in streams:
                p, _ = streams[kind]
                rng = float(facts.get("range") or UNSTATED_RANGE[kind]) if facts and len(streams) == 1 else UNSTATED_RANGE[kind]
                infos.append(StreamInfo(kind, p.rate_hz, len(p.columns), rng, 0.0, p.names))
        source = "lsl:" + ",".join(sorted({n for _, n in streams.values()}))
        self.device_info = DeviceInfo(device_id=facts.get("device_id") or source, firmware_version="",
                                      protocol_version=0,
                                      placement=self.placement or facts.get("placement") or "foot",
                                      streams=tuple(infos), source=source)
        # one clock correction per sending host, so the streams of one device stay aligned to each
        # other exactly (separate measurements differ by tens of microseconds)
        per_host: dict[str, float] = {}
        self._corrections = []
        for inlet, host in zip((i for i, _ in self.inlets), hosts):
            if host not in per_host:
                per_host[host] = inlet.time_correction(timeout=self.timeout_s)
            self._corrections.append(per_host[host])
        return self.device_info

    def read(self) -> list:
        """Pull whatever the inlets have (non-blocking): items."""
        out: list = []
        for (inlet, parts), corr in zip(self.inlets, self._corrections):
            while True:
                samples, stamps = inlet.pull_chunk(timeout=0.0, max_samples=4096)
                if not stamps:
                    break
                arr = np.asarray(samples, dtype=np.float64)
                ts = np.asarray(stamps, dtype=np.float64)
                for part in parts:
                    out.extend(part.feed(arr, ts, corr))
                if len(stamps) < 4096:
                    break
        return out

    def __aiter__(self) -> AsyncIterator:
        return self._items()

    async def _items(self):
        loop = asyncio.get_running_loop()
        info = await loop.run_in_executor(None, self.open)
        yield info
        try:
            while not self._closed:
                await asyncio.sleep(self.poll_s)
                for item in self.read():
                    yield item
        finally:
            self._close_inlets()

    def _close_inlets(self) -> None:
        inlets, self.inlets = self.inlets, []
        for inlet, _ in inlets:
            try:
                inlet.close_stream()
            except Exception:
                pass

    async def aclose(self) -> None:
        self._closed = True
