"""The native session file (``.twr``): append-only, crash-safe, lossless, fast to read.

Layout
------
An 8-byte magic ``b"TWATCH1\\n"``, then self-delimiting records, each::

    sync   4 bytes  b"\\x89TWR"
    type   u8       RecordType
    pad    3 bytes  zero
    length u32      payload length in bytes (little-endian)
    crc32  u32      zlib.crc32 of type byte + length + payload
    payload

The first record is a HEADER (JSON: format version, device info, wall-clock start). DATA records
hold one contiguous block of one stream: a small fixed header, an index of the device frames it
was made of (sequence number, device timestamp in microseconds, sample offset, sample count) and
the samples as one contiguous little-endian int16 array (float32 only for sources that have no
integer counts). Everything else (device info after a reconnect, faults, marks, status reports,
ground-truth annotations, detector outputs, the clean END) is a small JSON record.

Crash safety
------------
Every record is handed to the kernel with one ``os.write`` (no user-space buffer), so a ``kill -9``
of the recorder loses only samples still being coalesced, which the writer bounds to about one
second (``flush_interval_s``); ``fsync`` runs about every second too, so a power cut loses at most
about a second. A reader checks each record's length and CRC; a torn tail is reported
("replayed up to 12:34.5, lost the last 37 bytes"), a corrupt record in the middle is skipped by
resynchronising on the next valid record and reported as a gap.

Speed
-----
Samples are coalesced into blocks of up to ``flush_interval_s`` of device time, so a day of
208 Hz accelerometer + 2 x 1 kHz EMG (~450 MB) is ~170,000 records. The reader parses records
from 4 MB buffers, checks each CRC, joins the raw sample bytes of a whole output block and
decodes them with one ``np.frombuffer``; :meth:`SessionReader.items` reads sequentially with
bounded memory (``twitchwatch bench --part replay`` measures MB/s and peak memory).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import struct
import time
import zlib
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, AsyncIterator, BinaryIO, Iterator, NamedTuple

import numpy as np

from twitchwatch.errors import FileFormatError, RefuseOverwrite
from twitchwatch.model import (
    Alert,
    Annotation,
    Chunk,
    DetectorOutput,
    DeviceInfo,
    Episode,
    Event,
    Fault,
    Mark,
    Status,
    StreamInfo,
    WindowLabel,
)

MAGIC = b"TWATCH1\n"
SYNC = b"\x89TWR"
FORMAT_VERSION = 1
SUFFIX = ".twr"

_REC_HEAD = struct.Struct("<4sB3xII")  # sync, type, length, crc32
REC_HEAD_SIZE = _REC_HEAD.size  # 16 bytes
#: Largest payload a reader accepts (a block of one stream is far smaller: 1 s of 2 kHz x 8 ch
#: int16 is 32 kB). Anything bigger is corruption, never an allocation.
MAX_PAYLOAD = 64 * 1024 * 1024

_DATA_HEAD = struct.Struct("<BBHIIdd")  # stream code, dtype code, channels, n_frames, n_samples, rate_hz, scale
_FRAME_INDEX = np.dtype([("seq", "<i8"), ("t_us", "<i8"), ("offset", "<u4"), ("n", "<u4")])
_STREAM_CODES = {"accel": 0, "emg": 1}
_STREAM_NAMES = {v: k for k, v in _STREAM_CODES.items()}
_DTYPES = {0: np.dtype("<i2"), 1: np.dtype("<f4")}


class RecordType(IntEnum):
    HEADER = 1
    DATA = 2
    DEVICE_INFO = 3
    FAULT = 4
    MARK = 5
    STATUS = 6
    ANNOTATIONS = 7
    OUTPUT = 8
    END = 9


# --------------------------------------------------------------------------------------------
# JSON (de)serialisation of the shared dataclasses


def _to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(x) for x in obj]
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    return obj


def device_info_to_dict(info: DeviceInfo) -> dict:
    return _to_jsonable(info)


def device_info_from_dict(d: dict) -> DeviceInfo:
    streams = tuple(
        StreamInfo(**{**s, "channel_names": tuple(s.get("channel_names", ()))}) for s in d["streams"]
    )
    return DeviceInfo(**{**d, "streams": streams})


def output_to_dict(out: DetectorOutput) -> dict:
    return _to_jsonable(out)


def output_from_dict(d: dict) -> DetectorOutput:
    return DetectorOutput(
        events=tuple(Event(**e) for e in d.get("events", ())),
        windows=tuple(WindowLabel(**w) for w in d.get("windows", ())),
        episodes=tuple(Episode(**e) for e in d.get("episodes", ())),
        alerts=tuple(
            Alert(**{**a, "reasons": tuple((str(k), float(v)) for k, v in a.get("reasons", ()))})
            for a in d.get("alerts", ())
        ),
        faults=tuple(Fault(**f) for f in d.get("faults", ())),
    )


def _status_from_dict(d: dict) -> Status:
    return Status(**{**d, "lead_off": tuple(bool(x) for x in d["lead_off"])})


def format_clock(t_s: float) -> str:
    """Seconds as ``h:mm:ss.s`` (or ``m:ss.s`` under an hour), for messages."""
    sign = "-" if t_s < 0 else ""
    t = abs(t_s)
    h, rem = divmod(t, 3600.0)
    m, s = divmod(rem, 60.0)
    if h >= 1:
        return f"{sign}{int(h)}:{int(m):02d}:{s:04.1f}"
    return f"{sign}{int(m)}:{s:04.1f}"


# --------------------------------------------------------------------------------------------
# Writer


@dataclass
class _Pending:
    """Samples of one stream waiting to be written as one DATA record (all contiguous)."""

    stream: str
    rate_hz: float
    scale: float
    dtype_code: int
    channels: int
    blocks: list
    frames: list  # (seq, t_us, offset, n)
    n: int = 0
    t0_s: float = 0.0

    @property
    def t_end_s(self) -> float:
        return self.t0_s + self.n / self.rate_hz


class SessionWriter:
    """Append a live session to a native ``.twr`` file.

    Parameters
    ----------
    path : file to create. An existing file is never overwritten unless ``force``.
    device_info : what the source announced first.
    force : overwrite an existing file.
    started_at_unix : wall-clock start of the session, seconds since the epoch (default: now).
    flush_interval_s : at most this much device time (s) of samples is coalesced per block, and
        blocks are written and the file ``fsync``-ed at least this often in wall-clock time.
    fsync : fsync about every ``flush_interval_s`` (off only for files made offline).
    wall_clock : also flush by wall-clock time (live); off, blocks depend only on the data, so
        offline-made files are reproducible byte for byte.

    Raises
    ------
    RefuseOverwrite : ``path`` exists and ``force`` is false.
    FileFormatError : the file cannot be created (missing folder, permissions).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        device_info: DeviceInfo,
        force: bool = False,
        started_at_unix: float | None = None,
        flush_interval_s: float = 1.0,
        fsync: bool = True,
        wall_clock: bool = True,
    ):
        self.path = Path(path)
        self.device_info = device_info
        self.flush_interval_s = float(flush_interval_s)
        self._fsync = fsync
        self._wall_clock = wall_clock
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        flags |= os.O_TRUNC if force else os.O_EXCL
        try:
            self._fd: int | None = os.open(self.path, flags, 0o644)
        except FileExistsError:
            raise RefuseOverwrite(f"{self.path}: already exists; use --force to overwrite it") from None
        except OSError as exc:
            raise FileFormatError(f"{self.path}: cannot create session file: {exc.strerror}") from None
        try:  # held while recording: a session whose file is locked is live, not crashed
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (ImportError, OSError):
            pass
        self._pending: dict[str, _Pending] = {}
        self._last_flush = time.monotonic()
        self._last_sync = self._last_flush
        self.bytes_written = 0
        self.samples_written = 0
        self._t_first: float | None = None
        self._t_last: float | None = None
        self._os_write(MAGIC)
        header = {
            "format": "twitchwatch-session",
            "format_version": FORMAT_VERSION,
            "started_at_unix": time.time() if started_at_unix is None else float(started_at_unix),
            "device_info": device_info_to_dict(device_info),
        }
        self._write_json(RecordType.HEADER, header)
        self.sync()

    # ---- public API -------------------------------------------------------------------------

    def write_chunk(self, chunk: Chunk) -> None:
        """Queue one chunk; it reaches the file within ``flush_interval_s`` (device or wall time)."""
        self._check_open()
        stream = self.device_info.stream(chunk.stream)
        if chunk.counts is not None:
            data, dtype_code = np.ascontiguousarray(chunk.counts, dtype="<i2"), 0
            scale = stream.scale if stream is not None and stream.scale > 0 else _infer_scale(chunk)
        else:
            data, dtype_code, scale = np.ascontiguousarray(chunk.samples, dtype="<f4"), 1, 1.0
        if data.ndim == 1:
            data = data[:, None]
        p = self._pending.get(chunk.stream)
        if p is not None and not _continues(p, chunk, dtype_code, data.shape[1], scale):
            self._flush_stream(chunk.stream)
            p = None
        if p is None:
            p = _Pending(chunk.stream, float(chunk.rate_hz), float(scale), dtype_code, data.shape[1], [], [],
                         t0_s=float(chunk.t0_s))
            self._pending[chunk.stream] = p
        p.frames.append((chunk.seq_first, int(round(chunk.t0_s * 1e6)), p.n, data.shape[0]))
        p.blocks.append(data)
        p.n += data.shape[0]
        t_end = chunk.t_end_s
        self._t_first = chunk.t0_s if self._t_first is None else min(self._t_first, chunk.t0_s)
        self._t_last = t_end if self._t_last is None else max(self._t_last, t_end)
        if p.n / p.rate_hz >= self.flush_interval_s:
            self._flush_stream(chunk.stream)
        self.tick()

    def write_fault(self, fault: Fault) -> None:
        self._write_json(RecordType.FAULT, _to_jsonable(fault))
        self.tick()

    def write_mark(self, mark: Mark) -> None:
        self._write_json(RecordType.MARK, _to_jsonable(mark))
        self.tick()

    def write_status(self, status: Status) -> None:
        self._write_json(RecordType.STATUS, _to_jsonable(status))
        self.tick()

    def write_device_info(self, info: DeviceInfo) -> None:
        """A DeviceInfo announced again (after a reconnect)."""
        self.device_info = info
        self._write_json(RecordType.DEVICE_INFO, device_info_to_dict(info))
        self.tick()

    def write_annotations(self, annotations, kind: str = "truth") -> None:
        """Ground truth or a file's own labels (``kind``), as (onset_s, duration_s, label)."""
        anns = [_to_jsonable(a) for a in annotations]
        if anns:
            self._write_json(RecordType.ANNOTATIONS, {"kind": kind, "annotations": anns})
            self.tick()

    def write_output(self, output: DetectorOutput) -> None:
        """What the detector made final (events, windows, episodes, alerts, faults)."""
        if output:
            self._write_json(RecordType.OUTPUT, output_to_dict(output))
            self.tick()

    def tick(self) -> None:
        """Write coalesced samples and fsync when ``flush_interval_s`` of wall time has passed."""
        if not self._wall_clock:
            return
        now = time.monotonic()
        if now - self._last_flush >= self.flush_interval_s:
            self.flush()
        if self._fsync and now - self._last_sync >= self.flush_interval_s:
            self.sync()

    def flush(self) -> None:
        """Hand every coalesced sample to the kernel (survives a crash of this process)."""
        for stream in list(self._pending):
            self._flush_stream(stream)
        self._last_flush = time.monotonic()

    def sync(self) -> None:
        """flush() and fsync (survives a power cut)."""
        self.flush()
        if self._fd is not None and self._fsync:
            os.fsync(self._fd)
        self._last_sync = time.monotonic()

    def close(self, summary: dict | None = None) -> None:
        """Write the END record and close. Idempotent."""
        if self._fd is None:
            return
        self.flush()
        end = {
            "t_first_s": self._t_first,
            "t_last_s": self._t_last,
            "samples": self.samples_written,
            "closed_at_unix": time.time(),
            **(summary or {}),
        }
        try:
            self._write_json(RecordType.END, end)
            self.sync()
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- internals ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path}: session writer is closed")

    def _flush_stream(self, stream: str) -> None:
        p = self._pending.pop(stream, None)
        if p is None or p.n == 0:
            return
        samples = p.blocks[0] if len(p.blocks) == 1 else np.concatenate(p.blocks, axis=0)
        index = np.array(p.frames, dtype=_FRAME_INDEX)
        head = _DATA_HEAD.pack(_STREAM_CODES[p.stream], p.dtype_code, p.channels, len(index), p.n, p.rate_hz, p.scale)
        self._write_record(RecordType.DATA, b"".join((head, index.tobytes(), samples.tobytes())))
        self.samples_written += p.n

    def _write_json(self, rtype: RecordType, obj: dict) -> None:
        self._check_open()
        self._write_record(rtype, json.dumps(obj, separators=(",", ":"), allow_nan=True).encode())

    def _write_record(self, rtype: RecordType, payload: bytes) -> None:
        length = len(payload)
        crc = zlib.crc32(payload, zlib.crc32(_CRC_PREFIX.pack(int(rtype), length)))
        self._os_write(_REC_HEAD.pack(SYNC, int(rtype), length, crc) + payload)

    def _os_write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:
            raise FileFormatError(f"{self.path}: cannot write the session file: {exc.strerror or exc} "
                                  f"(everything before byte {self.bytes_written} is saved)") from None
        self.bytes_written += len(data)


def _infer_scale(chunk: Chunk) -> float:
    c = np.asarray(chunk.counts, dtype=float)
    nz = c != 0
    if not nz.any():
        return 1.0
    return float(np.median(np.asarray(chunk.samples)[nz] / c[nz]))


def _continues(p: _Pending, chunk: Chunk, dtype_code: int, channels: int, scale: float) -> bool:
    if p.dtype_code != dtype_code or p.channels != channels or p.rate_hz != chunk.rate_hz or p.scale != scale:
        return False
    # contiguous within half a sample period on the device clock
    return abs(chunk.t0_s - p.t_end_s) <= 0.5 / p.rate_hz


# --------------------------------------------------------------------------------------------
# Reader


class _Record(NamedTuple):
    type: int
    offset: int  # file offset of the payload
    length: int
    payload: memoryview


class SessionReader:
    """Read a native session file. Offers the FileSource interface.

    Attributes
    ----------
    device_info : DeviceInfo from the header (source set to ``file:<name>``)
    started_at_unix : wall-clock start, seconds since the epoch
    annotations : tuple[Annotation], the ground-truth / file labels recorded in it
    outputs : DetectorOutput, everything the live detector recorded (read on first use)
    complete : the recorder closed the file cleanly (END record present)
    lost_bytes : bytes at the end (torn tail) or in the middle (corrupt records) that could not be read
    t_start_s, t_end_s : device time of the first sample and just after the last one, seconds
    problem : None, or one line saying what was lost ("replayed up to 12:34.5, lost the last 37 bytes")

    Raises
    ------
    FileFormatError : missing file, not a session file, or unreadable header.
    """

    format = "native"

    def __init__(self, path: str | os.PathLike, placement: str | None = None):
        self.path = Path(path)
        self._name = str(path)
        try:
            self._f = open(self.path, "rb")
        except FileNotFoundError:
            raise FileFormatError(f"{self._name}: no such file") from None
        except IsADirectoryError:
            raise FileFormatError(f"{self._name}: is a folder, not a session file") from None
        except OSError as exc:
            raise FileFormatError(f"{self._name}: cannot open: {exc.strerror}") from None
        self.size = os.fstat(self._f.fileno()).st_size
        magic = self._f.read(len(MAGIC))
        if magic != MAGIC:
            self._f.close()
            if len(magic) < len(MAGIC) and MAGIC.startswith(magic):
                raise FileFormatError(f"{self._name}: truncated session file (only {self.size} bytes)")
            raise FileFormatError(f"{self._name}: not a twitchwatch session file (bad magic bytes)")
        self._scanner = _RecordScanner(self._f, self.size)
        rec, _ = self._scanner.read_record_at(len(MAGIC))
        if rec is None or rec.type != RecordType.HEADER:
            self._f.close()
            raise FileFormatError(f"{self._name}: session file header is truncated or corrupt")
        try:
            header = json.loads(self._payload(rec))
            info = device_info_from_dict(header["device_info"])
        except (ValueError, KeyError, TypeError) as exc:
            self._f.close()
            raise FileFormatError(f"{self._name}: session header is unreadable ({exc})") from None
        if header.get("format_version", 0) > FORMAT_VERSION:
            self._f.close()
            raise FileFormatError(
                f"{self._name}: session format version {header.get('format_version')} is newer than "
                f"this twitchwatch reads ({FORMAT_VERSION})"
            )
        if placement:
            info = dataclasses.replace(info, placement=placement)
        self.device_info = dataclasses.replace(info, source=f"file:{self.path.name}")
        self.started_at_unix = float(header.get("started_at_unix", 0.0))
        self._scanner.first_record = rec.offset + rec.length
        self._scanned = False
        self._annotations: tuple[Annotation, ...] = ()
        self._outputs: DetectorOutput | None = None

    # ---- metadata (one cheap pass that seeks over sample payloads) ----------------------------

    def _scan(self) -> None:
        """Annotations and detector outputs (one pass over the file, read on first use)."""
        if self._scanned:
            return
        anns: list[Annotation] = []
        outs: list[DetectorOutput] = []
        for rec in self._scanner.records():
            if rec.type == RecordType.ANNOTATIONS:
                d = json.loads(self._payload(rec))
                anns.extend(Annotation(**a) for a in d.get("annotations", ()))
            elif rec.type == RecordType.OUTPUT:
                outs.append(output_from_dict(json.loads(self._payload(rec))))
        self._annotations = tuple(sorted(anns, key=lambda a: a.onset_s))
        self._outputs = DetectorOutput.concat(outs)
        self._scanned = True

    def _ensure_pass(self) -> _RecordScanner:
        """The scanner, after a full pass: span, completeness and losses are known after any
        (items() or _scan())."""
        if not self._scanner.pass_done:
            for _ in self._scanner.records():
                pass
        return self._scanner

    @property
    def complete(self) -> bool:
        """The recorder closed the file cleanly (its END record is present)."""
        return self._ensure_pass().complete

    @property
    def lost_bytes(self) -> int:
        """Bytes in corrupt records and a torn tail that could not be read."""
        return self._ensure_pass().lost_bytes

    @property
    def tail_lost_bytes(self) -> int:
        """Bytes of a torn tail (the recorder stopped mid-record)."""
        return self._ensure_pass().tail_lost_bytes

    @property
    def corrupt_regions(self) -> list[tuple[int, int]]:
        """(first, end) file offsets of the corrupt regions skipped."""
        return self._ensure_pass().corrupt_regions

    @property
    def annotations(self) -> tuple[Annotation, ...]:
        self._scan()
        return self._annotations

    @property
    def outputs(self) -> DetectorOutput:
        """Everything the live detector recorded (events, windows, episodes, alerts, faults)."""
        self._scan()
        assert self._outputs is not None
        return self._outputs

    @property
    def t_start_s(self) -> float | None:
        """Device time of the first sample, seconds (reads only the start of the file)."""
        sc = self._scanner
        if sc.t_start is None and not sc.pass_done:
            for rec in sc.records():
                if rec.type == _DATA:
                    break
        return sc.t_start

    @property
    def t_end_s(self) -> float | None:
        return self._ensure_pass().t_end

    @property
    def duration_s(self) -> float:
        sc = self._ensure_pass()
        if sc.t_start is None or sc.t_end is None:
            return 0.0
        return sc.t_end - sc.t_start

    @property
    def progress(self) -> float:
        """Fraction of the file read by the current pass (0..1), for progress bars."""
        return min(1.0, self._scanner.position / self.size) if self.size else 1.0

    @property
    def problem(self) -> str | None:
        """One line about what could not be read, or None when the file is whole."""
        sc = self._ensure_pass()
        parts = []
        if sc.corrupt_regions:
            n = sum(b - a for a, b in sc.corrupt_regions)
            parts.append(f"skipped {n} corrupt bytes in {len(sc.corrupt_regions)} place(s)")
        if sc.tail_lost_bytes:
            up_to = "the start" if sc.t_end is None else format_clock(sc.t_end - (sc.t_start or 0.0))
            parts.append(f"replayed up to {up_to}, lost the last {sc.tail_lost_bytes} bytes")
        elif not sc.complete:
            parts.append("the recorder did not close it cleanly (all records intact)")
        if not parts:
            return None
        return f"{self._name}: " + "; ".join(parts)

    # ---- items ------------------------------------------------------------------------------

    def cases(self) -> tuple:
        """A session has no cases (see :class:`~twitchwatch.sources.base.FileSource`)."""
        return ()

    def items(self, block_s: float = 10.0) -> Iterator[Chunk | Fault | Mark | Status | DeviceInfo]:
        """Chunks of about ``block_s`` seconds per stream (contiguous samples only), with the
        faults, marks and status reports in between; bounded memory. A corrupt region in the
        middle of the file becomes a Fault("gap", detail="corrupt ...").

        DeviceInfo items appear only where the device announced itself again (a reconnect).
        """
        # stream code -> [t0, rate, scale, seq_first, seq_last, [sample bytes], n, dtype_code, channels]
        pending: dict[int, list] = {}
        others: list = []
        unpack_head = _DATA_HEAD.unpack_from
        unpack_seq_t = _SEQ_T.unpack_from
        unpack_seq = _SEQ.unpack_from
        index_size = _FRAME_INDEX.itemsize
        head_size = _DATA_HEAD.size

        def flush_stream(code: int):
            st = pending.pop(code, None)
            if st is None:
                return None
            t0, rate, scale, seq_first, seq_last, parts, n, dtype_code, channels = st
            raw = parts[0] if len(parts) == 1 else b"".join(parts)
            counts = np.frombuffer(raw, dtype=_DTYPES[dtype_code], count=n * channels).reshape(n, channels)
            if dtype_code == 0:
                samples = counts * scale
            else:
                samples = counts.astype(np.float64)
                counts = None
            samples.flags.writeable = False
            return Chunk(_STREAM_NAMES[code], t0, rate, samples, seq_first, seq_last, counts)

        def flush_all():
            out = [c for code in list(pending) if (c := flush_stream(code)) is not None]
            out.extend(others)
            others.clear()
            return out

        for rec in self._scanner.records(report_corrupt=True):
            if isinstance(rec, Fault):
                others.append(rec)
                continue
            t = rec.type
            if t == _DATA:
                buf = rec.payload
                code, dtype_code, channels, n_frames, n, rate, scale = unpack_head(buf, 0)
                seq_first, t_us = unpack_seq_t(buf, head_size)
                (seq_last,) = unpack_seq(buf, head_size + (n_frames - 1) * index_size)
                start = head_size + n_frames * index_size
                data = buf[start:start + n * channels * _DTYPES[dtype_code].itemsize]
                t0 = t_us / 1e6
                st = pending.get(code)
                if st is not None and (st[1] != rate or st[2] != scale or st[7] != dtype_code or st[8] != channels
                                       or abs(t0 - (st[0] + st[6] / st[1])) > 0.5 / rate):
                    c = flush_stream(code)
                    if c is not None:
                        yield c
                    st = None
                if st is None:
                    pending[code] = st = [t0, rate, scale, seq_first, seq_last, [data], n, dtype_code, channels]
                else:
                    st[4] = seq_last
                    st[5].append(data)
                    st[6] += n
                if st[6] >= block_s * st[1]:
                    yield from flush_all()
            elif t == RecordType.FAULT:
                others.append(Fault(**json.loads(self._payload(rec))))
            elif t == RecordType.MARK:
                others.append(Mark(**json.loads(self._payload(rec))))
            elif t == RecordType.STATUS:
                others.append(_status_from_dict(json.loads(self._payload(rec))))
            elif t == RecordType.DEVICE_INFO:
                yield from flush_all()
                info = device_info_from_dict(json.loads(self._payload(rec)))
                yield dataclasses.replace(info, source=self.device_info.source, placement=self.device_info.placement)
        yield from flush_all()

    def __aiter__(self) -> AsyncIterator:
        return self._aiter()

    async def _aiter(self):
        yield self.device_info
        for item in self.items():
            yield item
            await asyncio.sleep(0)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- low level ----------------------------------------------------------------------------

    def _payload(self, rec: _Record) -> bytes:
        return bytes(rec.payload)

    def frame_index(self) -> Iterator[tuple[str, np.ndarray]]:
        """(stream, structured array of seq, t_us, offset, n) per DATA record: the device frames
        as they arrived, with their own timestamps and sequence numbers (lossless)."""
        for rec in self._scanner.records():
            if rec.type == RecordType.DATA:
                code, _, _, n_frames, _, _, _ = _DATA_HEAD.unpack_from(rec.payload, 0)
                idx = np.frombuffer(rec.payload, dtype=_FRAME_INDEX, count=n_frames, offset=_DATA_HEAD.size)
                yield _STREAM_NAMES[code], idx


class _RecordScanner:
    """The record layer of an open session file: every valid record after the header in file
    order, corrupt regions skipped (and reported as gaps on request), a torn tail measured. After
    a whole pass it knows the span of the samples, whether the END record came, and what was lost.

    Parameters
    ----------
    f : the file, open for binary reading
    size : its size, bytes
    """

    def __init__(self, f: BinaryIO, size: int):
        self._f = f
        self.size = size
        self.first_record = len(MAGIC)  # set past the header by the reader
        self.position = 0
        self.complete = False
        self.corrupt_regions: list[tuple[int, int]] = []
        self.tail_lost_bytes = 0
        self.lost_bytes = 0
        self.t_start: float | None = None
        self.t_end: float | None = None
        self.pass_done = False

    def read_record_at(self, pos: int) -> tuple[_Record | None, str]:
        """The valid record starting at ``pos``, or (None, why)."""
        self._f.seek(pos)
        head = self._f.read(REC_HEAD_SIZE)
        if len(head) < REC_HEAD_SIZE:
            return None, "short"
        sync, rtype, length, crc = _REC_HEAD.unpack(head)
        if sync != SYNC or length > MAX_PAYLOAD:
            return None, "bad"
        if pos + REC_HEAD_SIZE + length > self.size:
            return None, "short"
        payload = self._f.read(length)
        if zlib.crc32(payload, zlib.crc32(_CRC_PREFIX.pack(rtype, length))) != crc:
            return None, "bad"
        return _Record(rtype, pos + REC_HEAD_SIZE, length, payload), ""

    def resync(self, pos: int) -> int | None:
        """Offset of the next valid record after ``pos``, or None."""
        chunk = 1 << 20
        start = pos + 1
        while start < self.size:
            self._f.seek(start)
            buf = self._f.read(chunk + len(SYNC))
            i = buf.find(SYNC)
            while i != -1:
                rec, _ = self.read_record_at(start + i)
                if rec is not None:
                    return start + i
                i = buf.find(SYNC, i + 1)
            start += chunk
        return None

    def records(self, report_corrupt: bool = False) -> Iterator:
        """Every valid record after the header, in file order. With ``report_corrupt``, a
        Fault("gap") is yielded in place of a corrupt region (its time span is filled in from the
        samples around it). Records the corrupt regions and a torn tail.

        Reads the file in large buffers and parses records from memory (the fast path); only a
        record that fails its checks falls back to seeking and resynchronising."""
        pos = self.first_record
        corrupt: list[tuple[int, int]] = []
        last_data: memoryview | None = None
        first_by_stream: dict[int, memoryview] = {}
        last_by_stream: dict[int, memoryview] = {}
        fault_pending: tuple[int, int] | None = None
        buf = memoryview(b"")
        buf_pos = pos  # file offset of buf[0]
        unpack_head = _REC_HEAD.unpack_from
        crc32 = zlib.crc32
        while pos < self.size:
            i = pos - buf_pos
            rec = None
            if i + REC_HEAD_SIZE <= len(buf):
                sync, rtype, length, crc = unpack_head(buf, i)
                end = i + REC_HEAD_SIZE + length
                if sync == SYNC and length <= MAX_PAYLOAD and end <= len(buf):
                    payload = buf[i + REC_HEAD_SIZE:end]
                    if crc32(payload, crc32(_CRC_PREFIX.pack(rtype, length))) == crc:
                        rec = _Record(rtype, pos + REC_HEAD_SIZE, length, payload)
                elif sync == SYNC and length <= MAX_PAYLOAD and pos + REC_HEAD_SIZE + length <= self.size:
                    # the record runs past the buffer: refill from pos and retry
                    buf = self._read_span(pos, max(_READ_SIZE, REC_HEAD_SIZE + length))
                    buf_pos = pos
                    continue
            elif pos + REC_HEAD_SIZE <= self.size and (len(buf) - i) < REC_HEAD_SIZE and buf_pos + len(buf) < self.size:
                buf = self._read_span(pos, _READ_SIZE)
                buf_pos = pos
                continue
            if rec is None:
                rec, _ = self.read_record_at(pos)
            if rec is None:
                nxt = self.resync(pos)
                if nxt is None:
                    self.tail_lost_bytes = self.size - pos
                    break
                corrupt.append((pos, nxt))
                fault_pending = (pos, nxt)
                pos = nxt
                continue
            if rec.type == _DATA:
                code = rec.payload[0]
                if code not in first_by_stream:
                    first_by_stream[code] = rec.payload
                    t0 = _data_span(rec.payload)[0]
                    if self.t_start is None or t0 < self.t_start:
                        self.t_start = t0
                last_by_stream[code] = rec.payload
            elif rec.type == _END:
                self.complete = True
            if report_corrupt and rec.type == _DATA:
                if fault_pending is not None:
                    t0 = _data_span(rec.payload)[0]
                    if last_data is not None:
                        t_prev, n, rate = _data_span(last_data)
                        t_prev += n / rate
                    else:
                        t_prev = t0
                    a, b = fault_pending
                    yield Fault("gap", min(t_prev, t0), t0, detail=f"corrupt file region, bytes {a}-{b} skipped")
                    fault_pending = None
                last_data = rec.payload
            pos = rec.offset + rec.length
            self.position = pos
            yield rec
        self._finish_pass(last_by_stream, corrupt)

    def _finish_pass(self, last_by_stream: dict[int, memoryview], corrupt: list[tuple[int, int]]) -> None:
        """After a whole pass: the end time (last sample of any stream), the corrupt regions and
        the bytes lost to them and to a torn tail."""
        self.position = self.size
        for payload in last_by_stream.values():
            t_last, n, rate = _data_span(payload)
            t1 = t_last + n / rate
            if self.t_end is None or t1 > self.t_end:
                self.t_end = t1
        self.corrupt_regions = corrupt
        self.lost_bytes = sum(b - a for a, b in corrupt) + self.tail_lost_bytes
        self.pass_done = True

    def _read_span(self, pos: int, size: int) -> memoryview:
        self._f.seek(pos)
        return memoryview(self._f.read(size))


_READ_SIZE = 4 * 1024 * 1024
_DATA = int(RecordType.DATA)
_END = int(RecordType.END)
_SEQ_T = struct.Struct("<qq")
_SEQ = struct.Struct("<q")
_CRC_PREFIX = struct.Struct("<BI")


def _data_span(payload: bytes) -> tuple[float, int, float]:
    """(t0_s, n_samples, rate_hz) of a DATA payload."""
    _, _, _, _, n, rate, _ = _DATA_HEAD.unpack_from(payload, 0)
    (t_us,) = struct.unpack_from("<q", payload, _DATA_HEAD.size + 8)
    return t_us / 1e6, n, rate


def default_session_name(tag: str, started_at_unix: float | None = None) -> str:
    """``YYYYmmdd-HHMMSS-<tag>.twr`` for a new live session (tag: the source, e.g. "virtual:demo")."""
    t = time.localtime(time.time() if started_at_unix is None else started_at_unix)
    safe = "".join(ch if ch.isalnum() else "-" for ch in (tag or "session"))
    safe = "-".join(p for p in safe.split("-") if p)[:40] or "session"
    return time.strftime("%Y%m%d-%H%M%S", t) + f"-{safe}{SUFFIX}"


def is_being_recorded(path: str | os.PathLike) -> bool:
    """True while a :class:`SessionWriter` (in any process) has ``path`` open."""
    try:
        import fcntl

        fd = os.open(path, os.O_RDONLY)
    except (ImportError, OSError):
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)
