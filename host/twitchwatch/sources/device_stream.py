"""Bytes from a device (serial or BLE) -> source items, with gaps and faults made explicit.

:class:`DeviceStream` is pure (no I/O, no clock): feed it the bytes a transport received and it
returns the items a source yields. Serial and BLE share it.

- HELLO -> :class:`~twitchwatch.model.DeviceInfo` (a HELLO of another protocol version ->
  :class:`~twitchwatch.errors.ProtocolVersionError` naming the device and both versions);
- ACCEL / EMG blocks -> :class:`~twitchwatch.model.Chunk` (``t0_s = t_first_us / 1e6``,
  ``samples = counts * scale``, counts kept); a jump in a stream's sequence numbers or its device
  time -> ``Fault("gap")`` spanning the missing time, before the chunk that follows it;
- STATUS -> :class:`~twitchwatch.model.Status`, plus a lasting fault when EMG electrodes lose
  contact: ``Fault("not_worn")`` when every channel lost it at once (the sensor is off the skin),
  ``Fault("lead_off")`` when some did; reported when contact is lost (``end_s == start_s``, open)
  and again with its end when contact returns (see :class:`~twitchwatch.model.Fault`); and
  ``Fault("saturated")`` when the IMU's saturation counter grows;
- MARK -> :class:`~twitchwatch.model.Mark`; ACKs are collected in :attr:`DeviceStream.acks`.

Samples that arrive before any HELLO cannot be scaled: they are counted (``before_hello``) and
dropped, and the source asks the device for a HELLO.
"""

from __future__ import annotations

from collections import deque

from twitchwatch.core.config import GAP_TOLERANCE_SAMPLES
from twitchwatch.errors import ProtocolVersionError
from twitchwatch.model import Chunk, DeviceInfo, Fault, Mark, Status
from twitchwatch.protocol import (
    PROTOCOL_VERSION,
    Ack,
    FrameDecoder,
    FrameType,
    Hello,
    MarkFrame,
    SampleBlock,
    StatusFrame,
    UnsupportedVersion,
)

_U32 = 0xFFFFFFFF
#: Frames of another protocol version seen before any valid v1 HELLO that we accept as "this
#: device speaks another version" even without its HELLO (a lone CRC collision in line noise
#: is 1 in 65,536 per garbage candidate; three in a row is not noise).
UNSUPPORTED_BEFORE_HELLO_LIMIT = 3


class DeviceStream:
    """Protocol frames -> items for one device link.

    Parameters
    ----------
    device : how to name the device in messages and ``DeviceInfo.source`` ("/dev/ttyACM0", ...)

    Attributes
    ----------
    device_info : the last DeviceInfo announced, or None before the first HELLO
    acks : the most recent ACK frames (bounded)
    counters : decoder counters plus ``gaps``, ``missing_frames``, ``before_hello``,
        ``unsupported_version_frames``
    """

    def __init__(self, device: str):
        self.device = device
        self.decoder = FrameDecoder()
        self.device_info: DeviceInfo | None = None
        self.acks: deque[Ack] = deque(maxlen=64)
        self._own = {"gaps": 0, "missing_frames": 0, "before_hello": 0, "unsupported_version_frames": 0,
                     "time_resets": 0}
        self._last_seq: dict[str, int] = {}
        self._t_end: dict[str, float] = {}  # device time just after the last sample, per stream
        self._scale: dict[str, float] = {}
        self._rate: dict[str, float] = {}
        self._lead_off: tuple[bool, ...] = ()
        self._contact_fault: Fault | None = None  # the open not_worn / lead_off fault
        self._saturation: int | None = None
        self._unsupported_run = 0
        self._offset_us = 0  # added to device timestamps after a device restart

    @property
    def counters(self) -> dict[str, int]:
        return {**self.decoder.counters, **self._own}

    def reset_link(self) -> None:
        """The link dropped: discard a half-received frame but keep sequence and time state, so
        the data after a reconnect is checked against the data before it (and the hole becomes a
        gap fault)."""
        counters = self.decoder.counters
        self.decoder = FrameDecoder()
        for k, v in counters.items():
            self.decoder.counters[k] += v

    def feed(self, data: bytes) -> list:
        """Decode ``data``; return the items it completes (DeviceInfo, Chunk, Fault, Mark, Status).

        Raises
        ------
        ProtocolVersionError : the device announced (or streams in) another protocol version.
        """
        out: list = []
        for frame in self.decoder.feed(data):
            if isinstance(frame, SampleBlock):
                self._unsupported_run = 0
                self._on_samples(frame, out)
            elif isinstance(frame, Hello):
                self._unsupported_run = 0
                self._on_hello(frame, out)
            elif isinstance(frame, StatusFrame):
                self._on_status(frame, out)
            elif isinstance(frame, MarkFrame):
                out.append(Mark((frame.t_us + self._offset_us) / 1e6))
            elif isinstance(frame, Ack):
                self.acks.append(frame)
            elif isinstance(frame, UnsupportedVersion):
                self._own["unsupported_version_frames"] += 1
                self._unsupported_run += 1
                if frame.frame_type == FrameType.HELLO or (
                    self.device_info is None and self._unsupported_run >= UNSUPPORTED_BEFORE_HELLO_LIMIT
                ):
                    raise ProtocolVersionError(self.device, frame.version, PROTOCOL_VERSION)
        return out

    # ---- frame handlers -------------------------------------------------------------------

    def _on_hello(self, hello: Hello, out: list) -> None:
        if hello.protocol_version != PROTOCOL_VERSION:  # pragma: no cover - decoder returns UnsupportedVersion
            raise ProtocolVersionError(self.device, hello.protocol_version, PROTOCOL_VERSION)
        info = hello.device_info(source=self.device)
        for s in info.streams:
            self._scale[s.kind] = float(s.scale)
            self._rate[s.kind] = float(s.rate_hz)
        if info != self.device_info:
            self.device_info = info
            out.append(info)

    def _on_samples(self, block: SampleBlock, out: list) -> None:
        kind = block.kind
        if self.device_info is None or kind not in self._scale:
            self._own["before_hello"] += 1
            return
        rate = self._rate[kind]
        t0 = (block.t_first_us + self._offset_us) / 1e6
        last = self._last_seq.get(kind)
        t_end = self._t_end.get(kind)
        if t_end is not None and t0 < t_end - GAP_TOLERANCE_SAMPLES / rate:
            # the device clock went backwards: the device restarted. Shift its clock so the session
            # stays monotonic (the new data follows the old, the restart is a gap of unknown length)
            latest = max(self._t_end.values())
            self._offset_us += int(round((latest - t0) * 1e6))
            self._own["time_resets"] += 1
            out.append(Fault("gap", latest, latest, stream="",
                             detail=f"device restarted (its clock went back to {block.t_first_us / 1e6:.3f} s); "
                                    "the time it was off is unknown"))
            t0 = (block.t_first_us + self._offset_us) / 1e6
            self._last_seq.clear()
            self._t_end = {k: latest for k in self._t_end}
            last = None
        if last is not None and t_end is not None:
            missing = (block.seq - last - 1) & _U32
            late = t0 - t_end
            if missing or late > GAP_TOLERANCE_SAMPLES / rate:
                self._own["gaps"] += 1
                self._own["missing_frames"] += missing
                what = f"{missing} frame(s) missing, seq {last + 1}..{(block.seq - 1) & _U32}" if missing else (
                    f"{late * rate:.0f} sample(s) missing on the device clock")
                out.append(Fault("gap", t_end, max(t0, t_end), stream=kind, detail=what))
        counts = block.counts
        samples = counts * self._scale[kind]
        samples.flags.writeable = False
        out.append(Chunk(kind, t0, rate, samples, block.seq, block.seq, counts))
        self._last_seq[kind] = block.seq
        self._t_end[kind] = t0 + counts.shape[0] / rate

    def _close_contact_fault(self, t: float, out: list) -> None:
        f = self._contact_fault
        if f is not None:
            out.append(Fault(f.kind, f.start_s, max(f.start_s, t), f.stream, f"{f.detail} for {max(0.0, t - f.start_s):.1f} s"))
            self._contact_fault = None

    def _on_status(self, st: StatusFrame, out: list) -> None:
        t = (st.t_us + self._offset_us) / 1e6
        status = Status(t, st.battery_pct, st.battery_mv, st.dropped_samples, tuple(st.lead_off),
                        st.imu_saturation_count)
        out.append(status)
        off = tuple(i for i, v in enumerate(st.lead_off) if v)
        was_off = tuple(i for i, v in enumerate(self._lead_off) if v)
        if off != was_off:
            self._close_contact_fault(t, out)
            if off:
                kind = "not_worn" if len(off) == len(st.lead_off) else "lead_off"
                what = ("sensor off the skin: electrode contact lost on every channel" if kind == "not_worn"
                        else "electrode contact lost on channel(s) " + ",".join(map(str, off)))
                self._contact_fault = Fault(kind, t, t, stream="emg", detail=what)
                out.append(self._contact_fault)
        self._lead_off = tuple(st.lead_off)
        if self._saturation is not None and st.imu_saturation_count > self._saturation:
            out.append(Fault("saturated", t, t, stream="accel",
                             detail=f"{st.imu_saturation_count - self._saturation} saturated IMU sample(s)"))
        self._saturation = st.imu_saturation_count
