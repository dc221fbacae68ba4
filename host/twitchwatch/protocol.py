"""Wire protocol v1: frame codec shared by USB serial and BLE (normative text: firmware/PROTOCOL.md).

A frame on the wire is ``0x00 | COBS(header | payload | crc16) | 0x00`` where ``header`` is
``version u8, type u8, seq u32`` (little endian) and ``crc16`` is CRC-16/CCITT-FALSE of
``header | payload``, little endian. The decoded frame (header + payload + CRC) is at most
:data:`MAX_FRAME_LEN` bytes.

This module is pure: no I/O, no clock, no global state. :class:`FrameDecoder` never raises on bad
bytes, keeps at most :data:`MAX_ENCODED_LEN` bytes of an unfinished frame, and counts every byte
and frame it drops in :attr:`FrameDecoder.counters`.

Examples
--------
>>> dec = FrameDecoder()
>>> dec.feed(encode(MarkFrame(seq=0, t_us=1_000_000)))
[MarkFrame(seq=0, t_us=1000000)]
"""

from __future__ import annotations

import re
import struct
from binascii import crc_hqx
from dataclasses import dataclass
from enum import IntEnum
from typing import Union

import numpy as np

from twitchwatch.model import DeviceInfo, StreamInfo

#: The protocol version this host speaks (header byte 0 of every frame).
PROTOCOL_VERSION = 1
#: Largest decoded frame: header (6) + payload + CRC (2), bytes.
MAX_FRAME_LEN = 1024
HEADER_LEN = 6
CRC_LEN = 2
MAX_PAYLOAD_LEN = MAX_FRAME_LEN - HEADER_LEN - CRC_LEN
#: Largest COBS-encoded frame between delimiters: n + ceil(n / 254) for n = MAX_FRAME_LEN.
MAX_ENCODED_LEN = MAX_FRAME_LEN + (MAX_FRAME_LEN + 253) // 254
#: Frame delimiter.
DELIMITER = b"\x00"
#: Sample blocks and names: bounds every receiver checks.
MAX_CHANNELS = 8
MAX_STREAMS = 4
#: Sample-block payload header: t_first_us u64, n u16, channels u8, reserved u8.
SAMPLE_HEADER_LEN = 12

_U32 = 0xFFFFFFFF


class FrameType(IntEnum):
    HELLO = 1
    ACCEL = 2
    EMG = 3
    STATUS = 4
    MARK = 5
    COMMAND = 6
    ACK = 7


class CommandCode(IntEnum):
    START = 1
    STOP = 2
    SET_RATES = 3
    SEND_HELLO = 4
    PING = 5


class AckStatus(IntEnum):
    OK = 0
    UNKNOWN_COMMAND = 1
    BAD_LENGTH = 2
    BAD_ARGUMENT = 3
    BUSY = 4


#: HELLO stream kind codes.
STREAM_KIND_CODES: dict[str, int] = {"accel": 1, "emg": 2}
_STREAM_KIND_NAMES = {v: k for k, v in STREAM_KIND_CODES.items()}
_SAMPLE_FRAME_TYPES = {"accel": FrameType.ACCEL, "emg": FrameType.EMG}


# ----------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class Hello:
    """Device announcement. ``protocol_version`` is the header version of the HELLO frame."""

    seq: int
    device_id: str
    firmware_version: str
    placement: str
    streams: tuple[StreamInfo, ...]
    protocol_version: int = PROTOCOL_VERSION

    def device_info(self, source: str = "") -> DeviceInfo:
        """The :class:`~twitchwatch.model.DeviceInfo` this HELLO announces."""
        return DeviceInfo(
            device_id=self.device_id,
            firmware_version=self.firmware_version,
            protocol_version=self.protocol_version,
            placement=self.placement,
            streams=self.streams,
            source=source,
        )


@dataclass(frozen=True, eq=False)
class SampleBlock:
    """A block of int16 samples of one stream.

    Attributes
    ----------
    kind : "accel" or "emg"
    seq : sequence number of this frame in its stream (u32)
    t_first_us : device time of the first sample, microseconds (u64)
    counts : int16 array, shape (n, channels), read-only when decoded
    """

    kind: str
    seq: int
    t_first_us: int
    counts: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SampleBlock):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.seq == other.seq
            and self.t_first_us == other.t_first_us
            and self.counts.shape == other.counts.shape
            and bool(np.array_equal(self.counts, other.counts))
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class StatusFrame:
    """Device status. ``battery_pct`` 255 and ``battery_mv`` 0 mean unknown."""

    seq: int
    t_us: int
    battery_mv: int
    battery_pct: int
    dropped_samples: int
    lead_off: tuple[bool, ...]
    imu_saturation_count: int


@dataclass(frozen=True)
class MarkFrame:
    """The wearer pressed the button at device time ``t_us`` (microseconds)."""

    seq: int
    t_us: int


@dataclass(frozen=True)
class Command:
    """Host-to-device command. Rates (Hz) are used by SET_RATES only; 0 leaves a rate unchanged.

    Rates travel as millihertz (u32), so they round to 0.001 Hz.
    """

    seq: int
    code: CommandCode
    accel_rate_hz: float = 0.0
    emg_rate_hz: float = 0.0


@dataclass(frozen=True)
class BadCommand:
    """A COMMAND frame that passed the checksum but cannot be executed (unknown code or wrong
    length). A device answers it with ``Ack(status=status)``; it is counted as ``malformed``."""

    seq: int
    code: int
    status: AckStatus


@dataclass(frozen=True)
class Ack:
    """Device answer to the command with sequence ``command_seq``; ``code`` echoes its code (an
    int when the device did not know it), ``t_us`` is the device time of the answer."""

    seq: int
    command_seq: int
    code: int
    status: AckStatus
    t_us: int = 0


@dataclass(frozen=True)
class UnsupportedVersion:
    """A frame with an intact checksum but a protocol version this host does not speak.

    Returned by the decoder, never raised: a source that sees it on a HELLO stops the session
    with :class:`~twitchwatch.errors.ProtocolVersionError` naming both versions.
    """

    version: int
    frame_type: int


Frame = Union[Hello, SampleBlock, StatusFrame, MarkFrame, Command, BadCommand, Ack, UnsupportedVersion]


# ----------------------------------------------------------------------------- primitives


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

    ``crc16(b"123456789") == 0x29B1``.
    """
    return crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result holds no 0x00 byte (delimiters not added).

    Standard COBS (Cheshire & Baker 1999, the Wikipedia examples): each zero-free run of up to 254
    bytes is prefixed by its length + 1; a run of 254 (code 0xFF) implies no zero after it; data
    that ends right after such a run gets no extra code byte.
    """
    out = []
    segs = bytes(data).split(b"\x00")
    last = len(segs) - 1
    for k, seg in enumerate(segs):
        while len(seg) >= 254:
            out.append(b"\xff" + seg[:254])
            seg = seg[254:]
            if not seg and k == last:
                return b"".join(out)
        out.append(bytes((len(seg) + 1,)) + seg)
    return b"".join(out)


def cobs_decode(enc: bytes) -> bytes | None:
    """Inverse of :func:`cobs_encode`; ``None`` when a block runs past the end or a 0x00 appears.

    Fast path: walk the chain of code bytes and overwrite each (after the first) with the zero it
    stands for. That is exact unless a code is 0xFF (a 254-byte run that implies no zero), which
    shows as a zero-free run of 254 bytes in the result; only then the general decoder runs.
    """
    n = len(enc)
    if n == 0 or 0 in enc:
        return None
    out = bytearray(enc)
    i = enc[0]
    while i < n:
        out[i] = 0
        i += enc[i]
    if i != n:
        return None
    if n > 254 and 0xFF in enc and _ZERO_FREE_RUN.search(out, 1) is not None:
        return _cobs_decode_general(enc)
    del out[0]
    return bytes(out)


_ZERO_FREE_RUN = re.compile(rb"[^\x00]{254}")


def _cobs_decode_general(enc: bytes) -> bytes | None:
    out = bytearray()
    n = len(enc)
    i = 0
    while i < n:
        c = enc[i]
        if c == 0:
            return None
        j = i + c
        if j > n:
            return None
        out += enc[i + 1 : j]
        if c < 0xFF and j < n:
            out.append(0)
        i = j
    return bytes(out)


def encode_raw(frame_type: int, seq: int, payload: bytes, version: int = PROTOCOL_VERSION) -> bytes:
    """Complete wire bytes of one frame from its parts (any version/type, for tests and tools).

    Raises
    ------
    ValueError
        if the frame would exceed :data:`MAX_FRAME_LEN` or a field is out of range (a caller bug,
        not bad input).
    """
    if not (0 <= version <= 0xFF and 0 <= frame_type <= 0xFF and 0 <= seq <= _U32):
        raise ValueError(f"frame header out of range: version={version} type={frame_type} seq={seq}")
    body = struct.pack("<BBI", version, frame_type, seq) + payload
    if len(body) + CRC_LEN > MAX_FRAME_LEN:
        raise ValueError(f"frame of {len(body) + CRC_LEN} bytes exceeds MAX_FRAME_LEN={MAX_FRAME_LEN}")
    body += struct.pack("<H", crc16(body))
    return DELIMITER + cobs_encode(body) + DELIMITER


# ----------------------------------------------------------------------------- payloads


def _str8(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 0xFF:
        raise ValueError(f"string longer than 255 bytes: {text[:20]!r}...")
    return bytes((len(raw),)) + raw


def _rate_mhz(rate_hz: float) -> int:
    mhz = int(round(rate_hz * 1000.0))
    if not 0 <= mhz <= _U32:
        raise ValueError(f"rate {rate_hz} Hz out of range for u32 millihertz")
    return mhz


def _hello_payload(f: Hello) -> bytes:
    parts = [_str8(f.placement), _str8(f.device_id), _str8(f.firmware_version), bytes((len(f.streams),))]
    for s in f.streams:
        names = tuple(s.channel_names)
        if names and len(names) != s.channels:
            raise ValueError(f"stream {s.kind}: {len(names)} channel names for {s.channels} channels")
        parts.append(struct.pack("<BBIff", STREAM_KIND_CODES[s.kind], s.channels, _rate_mhz(s.rate_hz), s.range, s.scale))
        parts.append(bytes((len(names),)))
        parts.extend(_str8(name) for name in names)
    return b"".join(parts)


def _sample_payload(f: SampleBlock) -> bytes:
    counts = np.asarray(f.counts)
    if counts.ndim != 2:
        raise ValueError(f"sample block counts must be 2-D (n, channels), got shape {counts.shape}")
    n, ch = counts.shape
    return struct.pack("<QHBB", f.t_first_us, n, ch, 0) + np.ascontiguousarray(counts, dtype="<i2").tobytes()


def _status_payload(f: StatusFrame) -> bytes:
    bits = 0
    for i, off in enumerate(f.lead_off):
        bits |= int(bool(off)) << i
    return struct.pack(
        "<QIIHBBBB", f.t_us, f.dropped_samples, f.imu_saturation_count, f.battery_mv, f.battery_pct,
        len(f.lead_off), bits, 0,
    )


def _command_payload(f: Command) -> bytes:
    if f.code == CommandCode.SET_RATES:
        return struct.pack("<BII", f.code, _rate_mhz(f.accel_rate_hz), _rate_mhz(f.emg_rate_hz))
    return struct.pack("<B", f.code)


def encode(frame: Frame) -> bytes:
    """Complete wire bytes of ``frame``: leading 0x00, COBS body, trailing 0x00.

    A :class:`Hello` is sent with header version ``frame.protocol_version``; every other frame
    with :data:`PROTOCOL_VERSION`.
    """
    if isinstance(frame, SampleBlock):
        return encode_raw(_SAMPLE_FRAME_TYPES[frame.kind], frame.seq, _sample_payload(frame))
    if isinstance(frame, Hello):
        return encode_raw(FrameType.HELLO, frame.seq, _hello_payload(frame), version=frame.protocol_version)
    if isinstance(frame, StatusFrame):
        return encode_raw(FrameType.STATUS, frame.seq, _status_payload(frame))
    if isinstance(frame, MarkFrame):
        return encode_raw(FrameType.MARK, frame.seq, struct.pack("<Q", frame.t_us))
    if isinstance(frame, Command):
        return encode_raw(FrameType.COMMAND, frame.seq, _command_payload(frame))
    if isinstance(frame, Ack):
        return encode_raw(
            FrameType.ACK, frame.seq, struct.pack("<IBBHQ", frame.command_seq, frame.code, frame.status, 0, frame.t_us)
        )
    raise TypeError(f"cannot encode {type(frame).__name__}")


# ----------------------------------------------------------------------------- parsing
# Each parser takes the whole decoded frame (header + payload + CRC) and the header's seq, and
# returns a frame or None when the payload is malformed (wrong length, out-of-range field).

_P = HEADER_LEN  # payload offset
_SAMPLE_HDR = struct.Struct("<QHBB")
_STATUS = struct.Struct("<QIIHBBBB")
_ACK = struct.Struct("<IBBHQ")
_STREAM = struct.Struct("<BBIff")
_MARK = struct.Struct("<Q")
_RATES = struct.Struct("<II")


def _parse_samples(raw: bytes, seq: int, kind: str) -> SampleBlock | None:
    end = len(raw) - CRC_LEN
    if end - _P < SAMPLE_HEADER_LEN:
        return None
    t_first_us, n, ch, _ = _SAMPLE_HDR.unpack_from(raw, _P)
    if not 1 <= ch <= MAX_CHANNELS or end - _P - SAMPLE_HEADER_LEN != 2 * n * ch:
        return None
    counts = np.frombuffer(raw, dtype="<i2", count=n * ch, offset=_P + SAMPLE_HEADER_LEN).reshape(n, ch)
    # The hottest constructor of the decoder: filling __dict__ in one call skips the frozen
    # dataclass's per-field object.__setattr__ (same fields, same instance as SampleBlock(...)).
    block = _new_object(SampleBlock)
    block.__dict__.update(kind=kind, seq=seq, t_first_us=t_first_us, counts=counts)
    return block


_new_object = object.__new__


def _parse_accel(raw: bytes, seq: int) -> SampleBlock | None:
    return _parse_samples(raw, seq, "accel")


def _parse_emg(raw: bytes, seq: int) -> SampleBlock | None:
    return _parse_samples(raw, seq, "emg")


class _Reader:
    """Bounds-checked cursor over a payload; ``ok`` turns False on the first overrun."""

    __slots__ = ("buf", "pos", "end", "ok")

    def __init__(self, buf: bytes, pos: int, end: int):
        self.buf, self.pos, self.end, self.ok = buf, pos, end, True

    def take(self, n: int) -> bytes:
        if self.pos + n > self.end:
            self.ok = False
            return b""
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        b = self.take(1)
        return b[0] if b else 0

    def str8(self) -> str:
        return self.take(self.u8()).decode("utf-8", errors="replace")


def _parse_hello(raw: bytes, seq: int) -> Hello | None:
    r = _Reader(raw, _P, len(raw) - CRC_LEN)
    placement, device_id, firmware = r.str8(), r.str8(), r.str8()
    n_streams = r.u8()
    if not r.ok or not 1 <= n_streams <= MAX_STREAMS:
        return None
    streams = []
    for _ in range(n_streams):
        fixed = r.take(_STREAM.size)
        if not r.ok:
            return None
        kind, ch, rate_mhz, rng, scale = _STREAM.unpack(fixed)
        n_names = r.u8()
        names = tuple(r.str8() for _ in range(n_names))
        if not r.ok or kind not in _STREAM_KIND_NAMES or not 1 <= ch <= MAX_CHANNELS or rate_mhz == 0:
            return None
        if n_names not in (0, ch):
            return None
        streams.append(StreamInfo(_STREAM_KIND_NAMES[kind], rate_mhz / 1000.0, ch, float(rng), float(scale), names))
    if r.pos != r.end:
        return None
    return Hello(seq, device_id, firmware, placement, tuple(streams), raw[0])


def _parse_status(raw: bytes, seq: int) -> StatusFrame | None:
    if len(raw) - CRC_LEN - _P != _STATUS.size:
        return None
    t_us, dropped, sat, mv, pct, n_lead, bits, _ = _STATUS.unpack_from(raw, _P)
    if n_lead > MAX_CHANNELS:
        return None
    return StatusFrame(seq, t_us, mv, pct, dropped, tuple(bool(bits >> i & 1) for i in range(n_lead)), sat)


def _parse_mark(raw: bytes, seq: int) -> MarkFrame | None:
    if len(raw) - CRC_LEN - _P != _MARK.size:
        return None
    return MarkFrame(seq, _MARK.unpack_from(raw, _P)[0])


def command_status(payload: bytes) -> AckStatus:
    """Verdict on a COMMAND payload: OK, UNKNOWN_COMMAND or BAD_LENGTH (the firmware's rule too)."""
    if len(payload) == 0:
        return AckStatus.BAD_LENGTH
    code = payload[0]
    if code not in _COMMAND_LEN:
        return AckStatus.UNKNOWN_COMMAND
    if len(payload) != _COMMAND_LEN[code]:
        return AckStatus.BAD_LENGTH
    return AckStatus.OK


_COMMAND_LEN = {
    CommandCode.START: 1,
    CommandCode.STOP: 1,
    CommandCode.SET_RATES: 9,
    CommandCode.SEND_HELLO: 1,
    CommandCode.PING: 1,
}


def _parse_command(raw: bytes, seq: int) -> Command | BadCommand:
    payload = raw[_P:-CRC_LEN]
    status = command_status(payload)
    code = payload[0] if payload else 0
    if status != AckStatus.OK:
        return BadCommand(seq, code, status)
    if code == CommandCode.SET_RATES:
        a, e = _RATES.unpack_from(payload, 1)
        return Command(seq, CommandCode.SET_RATES, a / 1000.0, e / 1000.0)
    return Command(seq, CommandCode(code))


def _parse_ack(raw: bytes, seq: int) -> Ack | None:
    if len(raw) - CRC_LEN - _P != _ACK.size:
        return None
    command_seq, code, status, _, t_us = _ACK.unpack_from(raw, _P)
    if status > max(AckStatus):
        return None
    try:
        code = CommandCode(code)
    except ValueError:
        pass
    return Ack(seq, command_seq, code, AckStatus(status), t_us)


_PARSERS = {
    FrameType.HELLO: _parse_hello,
    FrameType.ACCEL: _parse_accel,
    FrameType.EMG: _parse_emg,
    FrameType.STATUS: _parse_status,
    FrameType.MARK: _parse_mark,
    FrameType.COMMAND: _parse_command,
    FrameType.ACK: _parse_ack,
}
_PARSER_BY_INT = {int(k): v for k, v in _PARSERS.items()}

#: Counter names of :class:`FrameDecoder`, in documentation order.
COUNTER_NAMES: tuple[str, ...] = (
    "bytes",  # bytes fed
    "frames",  # frames returned (every kind, including UnsupportedVersion and BadCommand)
    "checksum",  # candidates whose CRC did not match
    "truncated",  # candidates whose COBS blocks run past the delimiter, or too short for a header
    "oversize",  # candidates longer than MAX_ENCODED_LEN (or decoding to more than MAX_FRAME_LEN)
    "unknown_type",  # intact v1 frames of a type this host does not know (skipped)
    "unsupported_version",  # intact frames of another protocol version (returned as UnsupportedVersion)
    "malformed",  # intact v1 frames whose payload is inconsistent (skipped; BadCommand returned)
    "sequence_gap",  # discontinuities in a frame type's sequence numbers
    "garbage_bytes",  # bytes of candidates dropped as checksum/truncated/oversize
)


class FrameDecoder:
    """Streaming decoder: feed any byte chunks, get complete frames in order.

    Never raises on bad bytes; buffers at most :data:`MAX_ENCODED_LEN` bytes of an unfinished frame;
    counts everything it drops in :attr:`counters` (keys: :data:`COUNTER_NAMES`). Output and
    counters do not depend on how the byte stream is cut into chunks.
    """

    def __init__(self) -> None:
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self._pending = b""
        self._skipping = False  # inside an oversize candidate: drop until the next delimiter
        self._last_seq: dict[int, int] = {}

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished frame held until its delimiter arrives."""
        return len(self._pending)

    def feed(self, data: bytes) -> list[Frame]:
        """Decode every frame completed by ``data``; keep the unfinished tail.

        Parameters
        ----------
        data : bytes-like, any length (a serial read, a BLE notification, a file block)

        Returns
        -------
        list of frames in stream order (possibly empty)
        """
        c = self.counters
        c["bytes"] += len(data)
        if not data:
            return []
        parts = (self._pending + bytes(data)).split(b"\x00")
        tail = parts.pop()
        out: list[Frame] = []
        if parts:
            if self._skipping:
                c["garbage_bytes"] += len(parts[0])
                parts[0] = b""
                self._skipping = False
            for part in parts:
                if part:
                    frame = self._judge(cobs_decode(part) if len(part) <= MAX_ENCODED_LEN else None, len(part))
                    if frame is not None:
                        out.append(frame)
        if self._skipping:
            c["garbage_bytes"] += len(tail)
            tail = b""
        elif len(tail) > MAX_ENCODED_LEN:
            c["oversize"] += 1
            c["garbage_bytes"] += len(tail)
            self._skipping = True
            tail = b""
        self._pending = tail
        return out

    def _drop(self, kind: str, n: int) -> None:
        self.counters[kind] += 1
        self.counters["garbage_bytes"] += n

    def _judge(self, raw: bytes | None, enc_len: int) -> Frame | None:
        """Verdict on one candidate of ``enc_len`` encoded bytes that decoded to ``raw``
        (None: torn COBS), in the order of PROTOCOL.md section 2."""
        c = self.counters
        if enc_len > MAX_ENCODED_LEN:
            self._drop("oversize", enc_len)
            return None
        if raw is None or len(raw) < 4:
            self._drop("truncated", enc_len)
            return None
        if len(raw) > MAX_FRAME_LEN:
            self._drop("oversize", enc_len)
            return None
        if crc_hqx(raw[:-2], 0xFFFF) != raw[-2] | raw[-1] << 8:
            self._drop("checksum", enc_len)
            return None
        if raw[0] != PROTOCOL_VERSION:
            c["unsupported_version"] += 1
            c["frames"] += 1
            return UnsupportedVersion(raw[0], raw[1])
        if len(raw) < HEADER_LEN + CRC_LEN:
            self._drop("truncated", enc_len)
            return None
        ftype = raw[1]
        parser = _PARSER_BY_INT.get(ftype)
        if parser is None:
            c["unknown_type"] += 1
            return None
        seq = raw[2] | raw[3] << 8 | raw[4] << 16 | raw[5] << 24
        last = self._last_seq.get(ftype)
        if last is not None and seq != (last + 1) & _U32:
            c["sequence_gap"] += 1
        self._last_seq[ftype] = seq
        frame = parser(raw, seq)
        if frame is None:
            c["malformed"] += 1
            return None
        if isinstance(frame, BadCommand):
            c["malformed"] += 1
        c["frames"] += 1
        return frame

