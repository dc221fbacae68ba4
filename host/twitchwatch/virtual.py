"""The virtual device: a simulated sensor that speaks protocol v1 like the firmware does.

:class:`VirtualDevice` renders a simulator scenario (:mod:`twitchwatch.sim`) into the frames the
firmware would send (``firmware/PROTOCOL.md``): HELLO at start, on START / SEND_HELLO and every
60 s; ACCEL blocks of 26 samples and EMG blocks of 50 samples stamped with the device clock and
numbered per stream; STATUS every 5 s (battery, dropped samples, electrode contact, IMU
saturation); MARK where the device was told the wearer presses the button (``marks_s``); an ACK for every COMMAND. It is pure (no I/O): :meth:`VirtualDevice.frames`
yields ``(device_time_s, frame)`` and :func:`wire_bytes` the encoded bytes (for the BLE fake).

:class:`VirtualSerialPort` plays a device over a real pseudo-terminal (``os.openpty`` +
``tty.setraw``) in a background thread, in real time or ``speed`` times faster, and reads and
answers COMMANDs. Its :attr:`~VirtualSerialPort.path` is a stable symlink to the pty slave, so a
test can :meth:`~VirtualSerialPort.unplug` the device (the pty disappears, the host's read fails,
the device keeps sampling and its frames are lost) and :meth:`~VirtualSerialPort.replug` it (a new
pty behind the same path), like a USB cable pulled and pushed back.
"""

from __future__ import annotations

import dataclasses
import os
import re
import select
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import Iterator

import numpy as np

from twitchwatch.errors import ConfigError
from twitchwatch.model import Annotation, StreamInfo
from twitchwatch.protocol import (
    PROTOCOL_VERSION,
    Ack,
    AckStatus,
    BadCommand,
    Command,
    CommandCode,
    FrameDecoder,
    Hello,
    MarkFrame,
    SampleBlock,
    StatusFrame,
    encode,
)
from twitchwatch import sim

#: Samples per frame, as the firmware sends them (PROTOCOL.md section 3: 8 accel blocks/s at
#: 208 Hz, 20 EMG blocks/s at 1000 Hz).
ACCEL_BLOCK = 26
EMG_BLOCK = 50
#: Period of STATUS and of the periodic HELLO, seconds of device time (PROTOCOL.md section 3).
STATUS_EVERY_S = 5.0
HELLO_EVERY_S = 60.0
#: Simulated battery: a full 420 mAh cell at ~4.15 V draining ~5 %/h while streaming (a
#: nominal figure for the XIAO nRF52840 with IMU and EMG front end streaming; illustrative).
BATTERY_START_MV = 4150
BATTERY_DRAIN_PCT_PER_H = 5.0
#: How long the sim renders at a time, seconds of device time (memory vs. per-call overhead).
RENDER_BLOCK_S = 4.0
FIRMWARE_VERSION = "virtual-1.0"


def resolve_scenario(spec, placement: str | None = None):
    """A sim Scenario from a name in ``sim.SCENARIOS``, a scenario text, or a Scenario.

    Raises
    ------
    ConfigError : unknown name / unparsable text (the simulator's message).
    """
    return resolve_scenario_and_marks(spec, placement)[0]


_MARK_RE = re.compile(r"(?:^|;)\s*mark\s*=\s*([0-9]*\.?[0-9]+)\s*(?=;|$)")


def resolve_scenario_and_marks(spec, placement: str | None = None) -> tuple[object, tuple[float, ...]]:
    """(Scenario, button presses in seconds from its start). A scenario text may ask for a press
    with a ``mark=S`` segment parameter: ``"quiet[mark=3]:60,walking:60"`` presses the button 3 s
    into the first segment (the virtual device's own parameter; the simulator never sees it)."""

    if not isinstance(spec, str):
        return spec, ()
    if spec in sim.SCENARIOS:
        sc = sim.SCENARIOS[spec]
        if placement and placement != sc.placement:
            sc = dataclasses.replace(sc, placement=placement)
        return sc, ()
    if ":" not in spec:
        raise ConfigError(f"virtual device: unknown scenario {spec!r} "
                          f"(known: {', '.join(sorted(sim.SCENARIOS))}, or a text like 'quiet:60,walking:2m')")
    marks_in_segment: dict[int, list[float]] = {}
    if "mark" in spec:
        if "(" in spec:
            raise ConfigError(f"virtual device: scenario {spec!r}: mark= is not supported inside repeated blocks")
        parts = _split_top_level(spec)
        for i, part in enumerate(parts):
            m = re.search(r"\[([^\]]*)\]", part)
            if not m:
                continue
            params = m.group(1)
            found = [float(x) for x in _MARK_RE.findall(params)]
            if not found:
                continue
            marks_in_segment[i] = found
            rest = ";".join(p for p in params.split(";") if not p.strip().startswith("mark"))
            parts[i] = part[:m.start()] + (f"[{rest}]" if rest.strip() else "") + part[m.end():]
        spec = ",".join(parts)
    sc = sim.parse_scenario(spec, placement=placement or "foot", name="custom")
    marks: list[float] = []
    t = 0.0
    for i, seg in enumerate(sc.segments):
        marks.extend(t + m for m in marks_in_segment.get(i, ()))
        t += seg.duration_s
    return sc, tuple(sorted(marks))


def _split_top_level(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


class VirtualDevice:
    """A simulated sensor as a pure frame producer.

    Parameters
    ----------
    scenario : name in ``twitchwatch.sim.SCENARIOS``, a scenario text, or a ``sim.Scenario``
    seed : seeds the subject and the rendering (same seed -> same bytes)
    config : ``sim.SimConfig`` (rates, channels, ranges); default SimConfig()
    loop : play the scenario again (next seed) when it ends, forever; else the stream ends
    device_id : announced in HELLO
    t0_s : device clock at the first sample, seconds (a real device has been up a while)
    marks_s : the wearer presses the button at these times, seconds from the start of the
        scenario (again in every loop); a scenario text can also say ``quiet[mark=3]:60``

    Attributes
    ----------
    hello : the Hello frame it announces; device_info : the same as a DeviceInfo
    annotations : ground truth of everything rendered so far (device-clock seconds), a list
    """

    def __init__(self, scenario="demo", seed: int = 0, config=None, loop: bool = False,
                 device_id: str | None = None, t0_s: float = 0.0, placement: str | None = None,
                 marks_s: tuple[float, ...] = ()):
        self.scenario, text_marks = resolve_scenario_and_marks(scenario, placement)
        self.seed = int(seed)
        self.config = config or sim.SimConfig()
        self.loop = loop
        self.marks_s = tuple(sorted(float(m) for m in (*marks_s, *text_marks)))
        self.t0_us = int(round(t0_s * 1e6))
        self.placement = self.scenario.placement
        self._seq: dict[str, int] = {}
        self.annotations: list[Annotation] = []
        self.dropped_samples = 0
        self.saturation_count = 0
        self.streaming = True
        first = self._simulation(0)
        info = first.device_info()
        streams = tuple(dataclasses.replace(s, range=float(np.float32(s.range)), scale=float(np.float32(s.scale)))
                        for s in info.streams)
        self.device_id = device_id or info.device_id
        self.device_info = dataclasses.replace(info, streams=streams, device_id=self.device_id,
                                               firmware_version=FIRMWARE_VERSION, protocol_version=PROTOCOL_VERSION,
                                               placement=self.placement, source=f"virtual:{self.scenario.name}")
        self._first = first

    def _simulation(self, rep: int):
        seed = self.seed + rep
        return sim.Simulation(self.scenario, sim.draw_subject(seed, self.placement), self.config, seed)

    def annotations_until(self, t_s: float) -> list[Annotation]:
        """Ground truth of what has been fully rendered up to device time ``t_s``."""
        return [a for a in self.annotations if a.onset_s + a.duration_s <= t_s]

    @property
    def hello(self) -> Hello:
        return Hello(self._next("hello"), self.device_id, FIRMWARE_VERSION, self.placement,
                     self.device_info.streams, PROTOCOL_VERSION)

    def _next(self, kind: str) -> int:
        s = self._seq.get(kind, 0)
        self._seq[kind] = (s + 1) & 0xFFFFFFFF
        return s

    # ---- commands ---------------------------------------------------------------------------

    def answer(self, cmd, t_us: int) -> list:
        """The frames the firmware sends back for a COMMAND (an ACK, and a HELLO where due)."""
        if isinstance(cmd, BadCommand):
            return [Ack(self._next("ack"), cmd.seq, cmd.code, cmd.status, t_us)]
        out = [Ack(self._next("ack"), cmd.seq, int(cmd.code), AckStatus.OK, t_us)]
        if cmd.code == CommandCode.START:
            self.streaming = True
            out.append(self.hello)
        elif cmd.code == CommandCode.STOP:
            self.streaming = False
        elif cmd.code == CommandCode.SEND_HELLO:
            out.append(self.hello)
        elif cmd.code == CommandCode.SET_RATES:
            out[0] = dataclasses.replace(out[0], status=AckStatus.BUSY)  # the virtual device keeps its rates
        return out

    # ---- frames -----------------------------------------------------------------------------

    def frames(self) -> Iterator[tuple[float, object]]:
        """``(device_time_s, frame)`` in the order the firmware would send them; a frame's time
        is when it is complete (just after its last sample)."""
        yield self.t0_us / 1e6, self.hello
        accel = self.device_info.stream("accel")
        emg = self.device_info.stream("emg")
        next_status = STATUS_EVERY_S
        next_hello = HELLO_EVERY_S
        for t_rel, kind, item in self._sample_frames(accel, emg):
            # STATUS / HELLO / MARK due before this frame
            while next_status <= t_rel or next_hello <= t_rel:
                if next_status <= next_hello:
                    yield self._abs(next_status), self._status(next_status)
                    next_status += STATUS_EVERY_S
                else:
                    yield self._abs(next_hello), self.hello
                    next_hello += HELLO_EVERY_S
            if kind == "mark":
                yield self._abs(t_rel), MarkFrame(self._next("mark"), self.t0_us + int(round(t_rel * 1e6)))
            else:
                yield self._abs(t_rel), item

    def _abs(self, t_rel: float) -> float:
        return self.t0_us / 1e6 + t_rel

    def _status(self, t_rel: float) -> StatusFrame:
        pct = max(0.0, 100.0 - BATTERY_DRAIN_PCT_PER_H * t_rel / 3600.0)
        mv = int(3300 + (BATTERY_START_MV - 3300) * pct / 100.0)
        return StatusFrame(self._next("status"), self.t0_us + int(round(t_rel * 1e6)), mv, int(pct),
                           self.dropped_samples, self._lead_off_at(t_rel),
                           self.saturation_count)

    def _lead_off_at(self, t_rel: float) -> tuple[bool, ...]:
        """Electrode contact as the EMG front end would report it: lost while the sensor is off
        the body (the scenario's ``not_worn`` segments)."""
        t = t_rel + self.t0_us / 1e6
        off = any(a.label == "not_worn" and a.onset_s <= t < a.onset_s + a.duration_s for a in self.annotations)
        return (off,) * self._emg_channels()

    def _emg_channels(self) -> int:
        s = self.device_info.stream("emg")
        return s.channels if s else 0

    def _sample_frames(self, accel: StreamInfo | None, emg: StreamInfo | None):
        """(t_rel_s when complete, "accel"|"emg"|"mark", frame) merged in time order. Frames that
        fall in one of the simulation's link dropouts are numbered but never sent (so the host
        sees the hole in the sequence numbers, as with a real radio dropout)."""
        rep = 0
        t_offset = 0.0
        idx = {"accel": 0, "emg": 0}
        rest = {"accel": None, "emg": None}
        t0 = self.t0_us / 1e6
        while True:
            simulation = self._first if rep == 0 else self._simulation(rep)
            self.annotations.extend(Annotation(a.onset_s + t_offset + t0, a.duration_s, a.label)
                                    for a in simulation.annotations)
            dropped = {k: [(f.start_s + t_offset, f.end_s + t_offset) for f in simulation.dropped if f.stream == k]
                       for k in ("accel", "emg")}
            marks = sorted(t_offset + m for m in self.marks_s)
            for blk in simulation.blocks(RENDER_BLOCK_S):
                pending: list = []
                for kind, stream, counts, block_n in (("accel", accel, blk.accel_counts, ACCEL_BLOCK),
                                                       ("emg", emg, blk.emg_counts, EMG_BLOCK)):
                    if stream is None or counts is None:
                        continue
                    if rest[kind] is not None and rest[kind].shape[0]:
                        counts = np.concatenate([rest[kind], counts])
                    n_full = (counts.shape[0] // block_n) * block_n
                    rest[kind] = counts[n_full:]
                    if kind == "accel":
                        self.saturation_count += int(np.count_nonzero(np.abs(counts[:n_full].astype(np.int32)) >= 32767))
                    for i in range(0, n_full, block_n):
                        first = idx[kind]
                        t_first = first / stream.rate_hz
                        t_done = (first + block_n) / stream.rate_hz
                        frame = SampleBlock(kind, 0, self.t0_us + int(round(t_first * 1e6)), counts[i:i + block_n])
                        idx[kind] += block_n
                        lost = any(a < t_done and t_first < b for a, b in dropped[kind])
                        pending.append((t_done, 0 if kind == "accel" else 1, kind, frame, lost))
                pending.sort(key=lambda p: (p[0], p[1]))
                for t_done, _, kind, frame, lost in pending:
                    while marks and marks[0] <= t_done:
                        yield marks.pop(0), "mark", None
                    seq = self._next(kind)
                    if lost:
                        self.dropped_samples += frame.counts.shape[0]
                        continue
                    yield t_done, kind, dataclasses.replace(frame, seq=seq)
            if not self.loop:
                return
            rep += 1
            t_offset += self.scenario.duration_s
            # the next play starts where the samples of this one ended, on every stream
            idx_t = max(idx[k] / s.rate_hz for k, s in (("accel", accel), ("emg", emg)) if s is not None)
            t_offset = max(t_offset, idx_t)


def wire_bytes(scenario="demo", seed: int = 0, config=None, loop: bool = False, **kw) -> Iterator[tuple[float, bytes]]:
    """``(device_time_s, bytes)`` of everything the device sends, for a transport to pace and
    deliver (the BLE fake peripheral uses it). Same seed, same bytes."""
    dev = VirtualDevice(scenario, seed=seed, config=config, loop=loop, **kw)
    for t, frame in dev.frames():
        yield t, encode(frame)


class VirtualSerialPort:
    """A VirtualDevice on a real pseudo-terminal, in a background thread.

    Parameters
    ----------
    device : the VirtualDevice to play
    speed : device seconds per wall second (1 = real time); 0 = as fast as the host reads
    link_dir : folder for the stable symlink (default: a new temporary folder)
    autostart : stream from the start; else wait for COMMAND START like the firmware

    Attributes
    ----------
    path : stable path of the port (a symlink to the current pty slave)
    frames_sent, frames_lost : frames written to the pty / lost while unplugged or stopped
    finished : threading.Event set when the scenario ended (loop=False) or stop() was called
    """

    def __init__(self, device: VirtualDevice, speed: float = 1.0, link_dir: str | os.PathLike | None = None,
                 autostart: bool = False):
        self.device = device
        self.speed = float(speed)
        self._tmp = None
        if link_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="twitchwatch-virtual-")
            link_dir = self._tmp.name
        self.path = str(Path(link_dir) / "ttyTWITCHWATCH0")
        self.autostart = autostart
        self.frames_sent = 0
        self.frames_lost = 0
        self.commands = 0
        self.finished = threading.Event()
        self.started = threading.Event()  # first START received (or autostart)
        self.plugged = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._decoder = FrameDecoder()
        self._device_time = device.t0_us / 1e6

    # ---- plug ---------------------------------------------------------------------------------

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        tmp = self.path + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)
        with self._lock:
            self._master, self._slave = master, slave
            self._decoder = FrameDecoder()
        self.plugged.set()

    def unplug(self) -> None:
        """Pull the cable: the port vanishes, the host's read fails; the device keeps running."""
        with self._lock:
            master, slave = self._master, self._slave
            self._master = self._slave = None
        self.plugged.clear()
        if os.path.lexists(self.path):
            os.unlink(self.path)
        for fd in (master, slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def replug(self) -> None:
        """Push the cable back: the same path appears again (a new pty behind it)."""
        self._plug()

    # ---- run ----------------------------------------------------------------------------------

    def start(self) -> "VirtualSerialPort":
        self._plug()
        if self.autostart:
            self.started.set()
        self._thread = threading.Thread(target=self._run, name="virtual-device", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self.unplug()
        self.finished.set()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "VirtualSerialPort":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def device_time_s(self) -> float:
        """Device time of the last frame produced, seconds."""
        return self._device_time

    def _run(self) -> None:
        try:
            while not self.started.is_set():
                if self._stop.is_set():
                    return
                self._service(0.02)
            origin_wall = time.monotonic()
            origin_dev: float | None = None
            for t_dev, frame in self.device.frames():
                if self._stop.is_set():
                    return
                if origin_dev is None:
                    origin_dev = t_dev
                self._device_time = t_dev
                if self.speed > 0:
                    due = origin_wall + (t_dev - origin_dev) / self.speed
                    while True:
                        left = due - time.monotonic()
                        if left <= 0 or self._stop.is_set():
                            break
                        self._service(min(left, 0.05))
                else:
                    self._service(0.0)
                if not self.device.streaming and not isinstance(frame, Hello):
                    self.frames_lost += 1
                    continue
                if self._write(encode(frame)):
                    self.frames_sent += 1
                else:
                    self.frames_lost += 1
        finally:
            self.finished.set()

    def _service(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for host bytes; answer every COMMAND."""
        with self._lock:
            master = self._master
        if master is None:
            time.sleep(timeout)
            return
        try:
            ready, _, _ = select.select([master], [], [], timeout)
        except (OSError, ValueError):
            return
        if not ready:
            return
        try:
            data = os.read(master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: nobody has the slave open right now
            time.sleep(timeout)
            return
        for frame in self._decoder.feed(data):
            if isinstance(frame, (Command, BadCommand)):
                self.commands += 1
                t_us = int(round(self._device_time * 1e6))
                for reply in self.device.answer(frame, t_us):
                    self._write(encode(reply))
                if isinstance(frame, Command) and frame.code == CommandCode.START:
                    self.started.set()

    def _write(self, data: bytes) -> bool:
        """Write all of ``data`` to the pty; False (frame lost) if unplugged or the host stopped
        reading for a second (the firmware's USB buffer would overflow the same way)."""
        view = memoryview(data)
        deadline = time.monotonic() + 1.0
        while view:
            with self._lock:
                master = self._master
            if master is None:
                return False
            try:
                n = os.write(master, view)
                view = view[n:]
            except BlockingIOError:
                if time.monotonic() > deadline or self._stop.is_set():
                    return False
                try:
                    select.select([], [master], [], 0.05)
                except (OSError, ValueError):
                    return False
            except OSError:
                return False
        return True


def main(argv: list[str] | None = None) -> int:
    """``python -m twitchwatch.virtual [SCENARIO] [--speed X] [--seed N] [--loop]``:
    serve the virtual device on a pty and print its path (record from it with
    ``twitchwatch record --serial PATH``); Ctrl-C to stop."""
    import argparse
    import signal
    import sys

    p = argparse.ArgumentParser(prog="python -m twitchwatch.virtual", description=main.__doc__)
    p.add_argument("scenario", nargs="?", default="demo")
    p.add_argument("--speed", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--loop", action="store_true", help="play the scenario again and again")
    args = p.parse_args(argv)
    try:
        port = VirtualSerialPort(VirtualDevice(args.scenario, seed=args.seed, loop=args.loop), speed=args.speed).start()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(port.path, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: port.finished.set())
    try:
        port.finished.wait()
    except KeyboardInterrupt:
        pass
    finally:
        port.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
