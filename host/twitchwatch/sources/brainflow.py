"""BrainFlow boards as a source: OpenBCI Cyton/Ganglion, Callibri, Shimmer, ... and BrainFlow's own
synthetic and playback-file boards.

``BrainFlowSource(board, params)`` opens a board through ``brainflow.BoardShim`` (the PyPI wheel
bundles BrainFlow's native libraries) and yields the items of :mod:`twitchwatch.sources.base`:
a :class:`~twitchwatch.model.DeviceInfo`, then :class:`~twitchwatch.model.Chunk` s, connection
events and ``Fault("gap")`` s.

What the board has comes from BrainFlow's own board description (``BoardShim.get_board_descr``,
every preset): its ``accel_channels`` become the ``accel`` stream (BrainFlow reports accelerometer
data in g for the boards that have one), its first ``emg_channels`` (two at most, as the detector
reads) the ``emg`` stream in microvolts (BrainFlow's unit for all ExG data), each at its preset's
``sampling_rate``. A board with only one of them gives a source with one stream; ``kinds`` leaves
a stream out (the CLI leaves out a stream slower than the detector needs, and says so).

Layers, as for serial and BLE:

- :class:`BoardLink` is the transport: BoardShim calls (prepare, start, get data, release), run in
  a worker thread so the event loop never blocks on the native library;
- :class:`BoardStream` is pure (no I/O, no clock): BrainFlow's (rows x samples) arrays in, items
  out. Device time is BrainFlow's timestamp channel (seconds, the host's clock when the data
  arrived, or the file's own times for a playback file read with ``old_timestamps``) anchored at
  the first sample and carried on by sample count, so chunks are contiguous; data that arrives
  more than :data:`GAP_TOLERANCE_S` later than the samples received account for (a dropped
  link, lost packets, a reconnect) is a ``Fault("gap")`` spanning the missing time, and the clock
  re-anchors there.

A link that fails while streaming (an error from BrainFlow, or no data at all for
:data:`STALL_S`) is a ``disconnected`` event; the board is reopened with exponential backoff and
the hole becomes a gap fault, in the same session. Only a board that cannot be opened at the start
(unknown, absent, wrong port) raises :class:`~twitchwatch.errors.DeviceError`, one line naming it.
The playback-file board ends the stream when the whole file has been played.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twitchwatch.core.config import DetectorConfig
from twitchwatch.errors import ConfigError, DeviceError
from twitchwatch.model import Chunk, ConnectionChange, DeviceInfo, Fault, StreamInfo

#: Later-than-expected data beyond this is a gap, seconds. BrainFlow's timestamps are the host's
#: receive times: packets over BLE or Wi-Fi arrive in bursts tens of ms apart, so the tolerance is
#: far above that jitter and far below any real dropout.
GAP_TOLERANCE_S = 0.5
#: How often the board's buffer is read, seconds (a chunk is about this long).
POLL_S = 0.05
#: No data at all for this long while streaming: the link is considered lost, seconds.
STALL_S = 5.0
#: Samples BrainFlow buffers per preset (its ring buffer; we read it every POLL_S).
RING_SAMPLES = 450_000
#: EMG channels taken from the board's list (the detector reads one or two).
MAX_EMG_CHANNELS = 2
#: Accelerometer full scale when BrainFlow does not state one (it does not), g: the OpenBCI
#: boards' LIS3DH default is +-4 g, others differ; used only as the "clipping" hint.
UNSTATED_ACCEL_RANGE_G = 16.0
#: EMG full scale when not stated, uV (Cyton's ADS1299 at gain 24: +-187,500 uV).
UNSTATED_EMG_RANGE_UV = 187_500.0

#: BrainFlowInputParams fields and their types (names as BrainFlow spells them).
PARAM_TYPES: dict[str, type] = {
    "serial_port": str, "mac_address": str, "ip_address": str, "ip_address_aux": str,
    "ip_address_anc": str, "ip_port": int, "ip_port_aux": int, "ip_port_anc": int, "ip_protocol": int,
    "other_info": str, "timeout": int, "serial_number": str, "file": str, "file_aux": str, "file_anc": str,
    "master_board": int,
}


def _bf():
    """The brainflow modules, or a DeviceError saying how to get them."""
    try:
        from brainflow import board_shim
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise DeviceError(f"brainflow: not installed ({exc}); run scripts/setup.sh") from None
    board_shim.BoardShim.disable_board_logger()
    return board_shim


def resolve_board(text: str | int) -> int:
    """A BrainFlow board id from a name ("synthetic", "Cyton", "cyton_board", "PLAYBACK_FILE") or
    an id ("0", "-1").

    Raises
    ------
    DeviceError : no BrainFlow board of that name or id.
    """
    bs = _bf()
    ids = {b.value: b.name for b in bs.BoardIds}
    raw = str(text).strip()
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is not None:
        if number in ids:
            return number
        raise DeviceError(f"brainflow board {raw}: unknown board id (see `twitchwatch devices`)")
    key = raw.upper().replace("-", "_").replace(" ", "_")
    for candidate in (key, key + "_BOARD"):
        for value, name in ids.items():
            if name == candidate:
                return value
    raise DeviceError(f"brainflow board {raw!r}: unknown board name (see `twitchwatch devices`)")


def board_name(board_id: int) -> str:
    """BrainFlow's enum name of a board id, lower case without "_board": "cyton", "synthetic"."""
    bs = _bf()
    for b in bs.BoardIds:
        if b.value == board_id:
            name = b.name.lower()
            return name[: -len("_board")] if name.endswith("_board") else name
    return str(board_id)


@dataclass(frozen=True)
class BrainFlowParams:
    """BrainFlowInputParams as (field, value) pairs, checked; see :data:`PARAM_TYPES`."""

    items: tuple[tuple[str, str | int], ...] = ()

    @staticmethod
    def parse(pairs: Iterable[str]) -> "BrainFlowParams":
        """From ``KEY=VALUE`` strings (``--brainflow-param``); ``master_board`` also takes a name.

        Raises
        ------
        ConfigError : not KEY=VALUE, an unknown key, or a number that is not one.
        """
        out: list[tuple[str, str | int]] = []
        for pair in pairs:
            key, sep, value = pair.partition("=")
            key = key.strip().lower()
            if not sep or not key:
                raise ConfigError(f"--brainflow-param {pair!r}: expected KEY=VALUE")
            if key not in PARAM_TYPES:
                raise ConfigError(f"--brainflow-param {key}: unknown (known: {', '.join(PARAM_TYPES)})")
            if key == "master_board":
                out.append((key, resolve_board(value)))
            elif PARAM_TYPES[key] is int:
                try:
                    out.append((key, int(value)))
                except ValueError:
                    raise ConfigError(f"--brainflow-param {key}={value}: not a whole number") from None
            else:
                out.append((key, value))
        return BrainFlowParams(tuple(out))

    def get(self, key: str, default=None):
        for k, v in self.items:
            if k == key:
                return v
        return default

    def input_params(self):
        bs = _bf()
        p = bs.BrainFlowInputParams()
        for k, v in self.items:
            setattr(p, k, v)
        return p


@dataclass(frozen=True)
class StreamRows:
    """Where one of our streams lives in BrainFlow's data.

    Attributes
    ----------
    kind : "accel" or "emg"
    preset : BrainFlow preset number (0 default, 1 auxiliary, 2 ancillary)
    rows : row indices of the channels in that preset's data
    timestamp_row : row of the timestamp channel (seconds, unix time) in that preset
    rate_hz : the preset's sampling rate, Hz
    names : channel names
    """

    kind: str
    preset: int
    rows: tuple[int, ...]
    timestamp_row: int
    rate_hz: float
    names: tuple[str, ...]


@dataclass(frozen=True)
class BoardLayout:
    """A board as BrainFlow describes it: its name and the streams we can read from it."""

    board_id: int
    described_id: int  # the board whose description applies (the master board of a playback file)
    name: str
    streams: tuple[StreamRows, ...]

    def stream(self, kind: str) -> StreamRows | None:
        return next((s for s in self.streams if s.kind == kind), None)


def board_layout(board_id: int, master_board: int | None = None, emg_channels: int = MAX_EMG_CHANNELS) -> BoardLayout:
    """The accelerometer and EMG streams of a board, from BrainFlow's board descriptions.

    ``master_board`` is the board a playback file or a streaming board carries (BrainFlow's
    ``master_board`` parameter); their own description is empty.

    Raises
    ------
    DeviceError : BrainFlow has no description of the board, or a playback/streaming board without
        a master board.
    """
    bs = _bf()
    playback_like = board_id in (bs.BoardIds.PLAYBACK_FILE_BOARD.value, bs.BoardIds.STREAMING_BOARD.value)
    described = board_id
    if playback_like:
        if master_board is None or master_board < -1:
            raise DeviceError(f"brainflow board {board_name(board_id)}: needs --brainflow-param master_board=BOARD "
                              "(the board whose data the file or stream carries)")
        described = master_board
    streams: list[StreamRows] = []
    name = board_name(board_id)
    try:
        # only the presets the board has: asking for another one makes BrainFlow 5.x fail every
        # later start_stream of that board in this process ("num_rows is not found")
        presets = sorted(bs.BoardShim.get_board_presets(described))
    except bs.BrainFlowError:
        raise DeviceError(f"brainflow board {board_name(described)}: BrainFlow has no description of it") from None
    for number in presets:
        preset = bs.BrainFlowPresets(number)
        try:
            descr = bs.BoardShim.get_board_descr(described, preset)
        except bs.BrainFlowError:
            continue
        if preset == bs.BrainFlowPresets.DEFAULT_PRESET:
            name = str(descr.get("name") or name)
        rate = float(descr.get("sampling_rate") or 0.0)
        ts_row = descr.get("timestamp_channel")
        if ts_row is None or not rate > 0:
            continue
        accel = tuple(descr.get("accel_channels") or ())
        if accel and not any(s.kind == "accel" for s in streams):
            streams.append(StreamRows("accel", int(preset.value), accel, int(ts_row), rate, ("x", "y", "z")[: len(accel)]
                                      if len(accel) <= 3 else tuple(f"a{i}" for i in range(len(accel)))))
        emg = tuple(descr.get("emg_channels") or ())[:emg_channels]
        if emg and not any(s.kind == "emg" for s in streams):
            labels = str(descr.get("eeg_names") or "").split(",")
            all_emg = tuple(descr.get("emg_channels") or ())
            eeg = tuple(descr.get("eeg_channels") or ())
            names = tuple(labels[eeg.index(r)] if r in eeg and eeg.index(r) < len(labels) and labels[eeg.index(r)]
                          else f"emg{all_emg.index(r)}" for r in emg)
            streams.append(StreamRows("emg", int(preset.value), emg, int(ts_row), rate, names))
    if playback_like:
        name = f"{name} ({board_name(board_id)})"
    return BoardLayout(board_id, described, name, tuple(streams))


@dataclass(frozen=True)
class BoardSummary:
    """A board BrainFlow can open, for ``twitchwatch devices``."""

    board_id: int
    name: str  # the name --brainflow takes
    described_name: str
    streams: tuple[tuple[str, float, int], ...]  # (kind, rate Hz, channels)


def list_boards() -> list[BoardSummary]:
    """Every board BrainFlow describes that has an accelerometer or EMG, and the two file/stream
    boards (which take ``master_board``)."""
    bs = _bf()
    out = []
    for b in bs.BoardIds:
        if b.value == bs.BoardIds.NO_BOARD.value:
            continue
        if b.value in (bs.BoardIds.PLAYBACK_FILE_BOARD.value, bs.BoardIds.STREAMING_BOARD.value):
            out.append(BoardSummary(b.value, board_name(b.value), "(needs master_board=BOARD)", ()))
            continue
        try:
            layout = board_layout(b.value)
        except DeviceError:
            continue
        if layout.streams:
            out.append(BoardSummary(b.value, board_name(b.value), layout.name,
                                    tuple((s.kind, s.rate_hz, len(s.rows)) for s in layout.streams)))
    return out


def device_info_for(layout: BoardLayout, kinds: Sequence[str] | None = None, placement: str = "foot") -> DeviceInfo:
    """The DeviceInfo a board announces (streams limited to ``kinds`` when given)."""
    streams = []
    for s in layout.streams:
        if kinds is not None and s.kind not in kinds:
            continue
        rng = UNSTATED_ACCEL_RANGE_G if s.kind == "accel" else UNSTATED_EMG_RANGE_UV
        streams.append(StreamInfo(s.kind, s.rate_hz, len(s.rows), rng, 0.0, s.names))
    return DeviceInfo(device_id=f"brainflow:{board_name(layout.board_id)}", firmware_version="",
                      protocol_version=0, placement=placement, streams=tuple(streams),
                      source=f"brainflow:{board_name(layout.board_id)}")


# ---- session logic (pure) ---------------------------------------------------------------------------

class BoardStream:
    """BrainFlow data arrays -> Chunks and gap Faults, for one board session (pure: no I/O, no clock).

    Parameters
    ----------
    streams : the streams to read (from :func:`board_layout`)
    gap_tolerance_s : later-than-accounted-for data beyond this is a gap, seconds
    """

    def __init__(self, streams: Sequence[StreamRows], gap_tolerance_s: float = GAP_TOLERANCE_S):
        self.streams = tuple(streams)
        self.gap_tolerance_s = float(gap_tolerance_s)
        self._anchor: dict[str, float] = {}  # device time of sample 0 since the last (re)anchor
        self._count: dict[str, int] = {}  # samples since that anchor
        self.counters = {"gaps": 0, "samples": 0}

    def expected_t(self, kind: str) -> float | None:
        """Device time of the next sample of ``kind`` the stream accounts for, seconds."""
        if kind not in self._anchor:
            return None
        s = next(s for s in self.streams if s.kind == kind)
        return self._anchor[kind] + self._count[kind] / s.rate_hz

    def feed(self, preset: int, data: np.ndarray) -> list:
        """Items from one ``get_board_data`` array of ``preset`` (rows x samples)."""
        out: list = []
        if data.ndim != 2 or data.shape[1] == 0:
            return out
        for s in self.streams:
            if s.preset != preset:
                continue
            ts = data[s.timestamp_row]
            samples = np.ascontiguousarray(data[list(s.rows)].T, dtype=np.float64)
            t_first = float(ts[0])
            expected = self.expected_t(s.kind)
            if expected is None or not math.isfinite(t_first):
                self._anchor[s.kind], self._count[s.kind] = (t_first if math.isfinite(t_first) else 0.0), 0
            elif t_first - expected > self.gap_tolerance_s:
                self.counters["gaps"] += 1
                missing = (t_first - expected) * s.rate_hz
                out.append(Fault("gap", expected, t_first, stream=s.kind,
                                 detail=f"about {missing:.0f} sample(s) missing on the host clock"))
                self._anchor[s.kind], self._count[s.kind] = t_first, 0
            t0 = self._anchor[s.kind] + self._count[s.kind] / s.rate_hz
            samples.flags.writeable = False
            out.append(Chunk(s.kind, t0, s.rate_hz, samples))
            self._count[s.kind] += samples.shape[0]
            self.counters["samples"] += samples.shape[0]
        return out


# ---- transport ------------------------------------------------------------------------------------------

class BoardLink:
    """BoardShim calls for one board (blocking; :class:`BrainFlowSource` runs them in a thread).
    One call at a time: a close never runs while a read is still in the native library."""

    def __init__(self, board_id: int, params: BrainFlowParams, presets: Sequence[int], playback_old_times: bool):
        self.board_id = board_id
        self.params = params
        self.presets = tuple(sorted(set(presets)))
        self.playback_old_times = playback_old_times
        self.shim = None
        self._lock = threading.Lock()

    def open(self) -> None:
        """prepare_session + start_stream; DeviceError naming the board on failure."""
        with self._lock:
            self._open()

    def _open(self) -> None:
        bs = _bf()
        shim = bs.BoardShim(self.board_id, self.params.input_params())
        try:
            shim.prepare_session()
            if self.playback_old_times:
                shim.config_board("old_timestamps")
            shim.start_stream(RING_SAMPLES)
        except bs.BrainFlowError as exc:
            try:
                if shim.is_prepared():
                    shim.release_session()
            except Exception:
                pass
            raise DeviceError(f"brainflow board {board_name(self.board_id)}: cannot open it ({_bf_text(exc)})"
                              + _hint(self.board_id, self.params)) from None
        self.shim = shim

    def read(self) -> list[tuple[int, np.ndarray]]:
        """Everything buffered since the last read, per preset. Raises BrainFlowError when the link fails."""
        bs = _bf()
        out = []
        with self._lock:
            if self.shim is None:
                raise DeviceError("the board is closed")
            for preset in self.presets:
                out.append((preset, self.shim.get_board_data(preset=bs.BrainFlowPresets(preset))))
        return out

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        shim, self.shim = self.shim, None
        if shim is None:
            return
        for step in (shim.stop_stream, shim.release_session):
            try:
                step()
            except Exception:
                pass


def _bf_text(exc) -> str:
    text = str(exc).strip()
    return text.split(":", 1)[0] + ": " + text.split(" ", 1)[1] if ":" in text and " " in text else text


def _hint(board_id: int, params: BrainFlowParams) -> str:
    bs = _bf()
    if board_id == bs.BoardIds.PLAYBACK_FILE_BOARD.value and not params.get("file"):
        return "; give the file with --brainflow-param file=PATH"
    if board_id != bs.BoardIds.SYNTHETIC_BOARD.value and not any(
            params.get(k) for k in ("serial_port", "mac_address", "ip_address", "serial_number", "file")):
        return "; is it connected? most boards need --brainflow-param serial_port=PORT (or ip_address=, mac_address=)"
    return ""


# ---- the source ----------------------------------------------------------------------------------------

@dataclass
class BrainFlowSource:
    """Items from a BrainFlow board.

    Parameters
    ----------
    board : board name or id (:func:`resolve_board`)
    params : BrainFlowInputParams
    kinds : streams to read ("accel", "emg"); None for every one the board has
    placement : what the DeviceInfo announces
    reconnect : reopen the board with backoff after a failure (default) or end the stream
    backoff_s, max_backoff_s : first wait before reopening and its cap, seconds (doubling)
    playback_old_times : playback-file board only: the file's own timestamps (True, default) or
        BrainFlow's "now" at playback (False)
    stall_s : no data at all for this long is a lost link, seconds
    """

    board: str | int
    params: BrainFlowParams = field(default_factory=BrainFlowParams)
    kinds: tuple[str, ...] | None = None
    placement: str = "foot"
    reconnect: bool = True
    backoff_s: float = 0.2
    max_backoff_s: float = 5.0
    playback_old_times: bool = True
    stall_s: float = STALL_S
    poll_s: float = POLL_S

    def __post_init__(self):
        self.board_id = resolve_board(self.board)
        master = self.params.get("master_board")
        self.layout = board_layout(self.board_id, master)
        chosen = tuple(s for s in self.layout.streams if self.kinds is None or s.kind in self.kinds)
        if not chosen:
            what = ", ".join(f"{s.kind} at {s.rate_hz:g} Hz" for s in self.layout.streams) or "no accelerometer or EMG"
            raise DeviceError(f"brainflow board {board_name(self.board_id)} ({self.layout.name}): nothing twitchwatch "
                              f"can analyse ({what})")
        self.device_info = device_info_for(self.layout, tuple(s.kind for s in chosen), self.placement)
        self.stream = BoardStream(chosen)
        bs = _bf()
        self.is_playback = self.board_id == bs.BoardIds.PLAYBACK_FILE_BOARD.value
        self._link = BoardLink(self.board_id, self.params, [s.preset for s in chosen],
                               self.is_playback and self.playback_old_times)
        self._closed = False
        self.reconnects = 0
        self._file_samples = self._count_file_samples() if self.is_playback else None

    @property
    def name(self) -> str:
        return f"brainflow:{board_name(self.board_id)}"

    def _count_file_samples(self) -> int | None:
        path = self.params.get("file")
        if not path:
            return None
        from brainflow.data_filter import DataFilter

        if not Path(path).is_file():
            raise DeviceError(f"brainflow board playback_file: {path}: no such file")
        DataFilter.disable_data_logger()
        try:
            return int(DataFilter.read_file(str(path)).shape[1])
        except Exception as exc:
            raise DeviceError(f"brainflow board playback_file: cannot read {path} ({exc})") from None

    def __aiter__(self) -> AsyncIterator:
        return self._items()

    async def _items(self):
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._link.open)  # first open: errors are the user's to fix
        yield self.device_info
        last_data = loop.time()
        first_preset = min(s.preset for s in self.stream.streams)
        played = 0
        try:
            while not self._closed:
                await asyncio.sleep(self.poll_s)
                if self._closed:
                    break
                try:
                    blocks = await loop.run_in_executor(None, self._link.read)
                    failure = ""
                except Exception as exc:  # BrainFlowError: the board went away
                    blocks, failure = [], _bf_text(exc)
                got = any(b.shape[1] for _, b in blocks)
                for preset, data in blocks:
                    for item in self.stream.feed(preset, data):
                        yield item
                    if preset == first_preset:
                        played += data.shape[1]
                if got:
                    last_data = loop.time()
                if self._file_samples is not None and played >= self._file_samples:
                    break  # the whole file has been played
                if not failure and loop.time() - last_data < self.stall_s:
                    continue
                if self.is_playback and not failure:
                    break  # a playback file that stopped giving data has ended
                await loop.run_in_executor(None, self._link.close)
                yield ConnectionChange("disconnected", self.name, failure or f"no data for {self.stall_s:g} s")
                if not self.reconnect or not await self._reopen(loop):
                    break
                self.reconnects += 1
                last_data = loop.time()
                yield ConnectionChange("connected", self.name, f"reconnected (#{self.reconnects})")
        finally:
            await loop.run_in_executor(None, self._link.close)

    async def _reopen(self, loop) -> bool:
        delay = self.backoff_s
        while not self._closed:
            await asyncio.sleep(delay)
            try:
                await loop.run_in_executor(None, self._link.open)
                return True
            except DeviceError:
                delay = min(self.max_backoff_s, delay * 2)
        return False

    async def aclose(self) -> None:
        """Stop streaming and release the board."""
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._link.close)


def source_for_detector(board: str, param_pairs: Iterable[str] = (), placement: str | None = None,
                        note=None) -> BrainFlowSource:
    """The source ``record --brainflow`` uses: every stream the detector can analyse.

    A stream slower than the detector's minimum (EMG below 500 Hz on most EEG boards) is left
    out, and ``note`` is told which and why; a board with nothing fast enough is a DeviceError.
    """

    cfg = DetectorConfig()
    minimum = {"accel": cfg.min_accel_rate_hz, "emg": cfg.min_emg_rate_hz}
    params = BrainFlowParams.parse(param_pairs)
    board_id = resolve_board(board)
    layout = board_layout(board_id, params.get("master_board"))
    kinds = tuple(s.kind for s in layout.streams if s.rate_hz >= minimum[s.kind])
    slow = [s for s in layout.streams if s.kind not in kinds]
    if not kinds:
        what = ", ".join(f"{s.kind} at {s.rate_hz:g} Hz" for s in layout.streams) or "no accelerometer or EMG"
        raise DeviceError(f"brainflow board {board_name(board_id)} ({layout.name}): nothing the detector can analyse "
                          f"({what}; it needs accel >= {minimum['accel']:g} Hz or EMG >= {minimum['emg']:g} Hz)")
    if note is not None:
        for s in slow:
            note(f"brainflow board {board_name(board_id)}: its {s.kind} at {s.rate_hz:g} Hz is below the "
                 f"detector's {minimum[s.kind]:g} Hz; left out")
    return BrainFlowSource(board_id, params, kinds=kinds, placement=placement or "foot")
