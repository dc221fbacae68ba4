"""The firmware of the fake BLE sensor: protocol v1 frames (``twitchwatch.protocol.encode``) on a
device clock, following ``firmware/PROTOCOL.md``.

The device samples continuously from power-on. Every block gets the next sequence number of its
stream whether or not it can be sent; it is sent only while streaming (after START, until STOP or
a disconnect), so blocks made while the link is down are lost and the host sees a sequence gap,
as with the real sensor's small ring buffer. START sends HELLO first; SEND_HELLO sends HELLO; every
intact COMMAND is answered with an ACK.

Samples are a seeded random walk plus noise, not physiology: these tests check the transport,
so what matters is that every sample the device sent is the sample the host got. Everything made
is kept in :attr:`SensorFirmware.made` (kind -> seq -> counts) for that comparison.
"""

from __future__ import annotations

import numpy as np

from twitchwatch import protocol
from twitchwatch.model import StreamInfo
from twitchwatch.protocol import Ack, AckStatus, Command, CommandCode, FrameDecoder, Hello, SampleBlock

ACCEL_SCALE_G = 16.0 / 32768.0  # +-16 g full scale over int16, g/count
EMG_SCALE_UV = 0.5  # uV/count, a plausible 16-bit sEMG front end (+-16 mV full scale)


class SensorFirmware:
    """Protocol-speaking firmware model for :class:`fake_bluez.FakePeripheral`.

    Parameters
    ----------
    accel_rate_hz, emg_rate_hz : sampling rates, Hz (the defaults of PROTOCOL.md)
    emg_channels : EMG channels (0: no EMG stream)
    accel_block, emg_block : samples per frame (PROTOCOL.md defaults: 26 and 50)
    speed : device seconds per real second (> 1 makes tests shorter)
    seed : RNG seed of the sample values
    auto_stream : stream from power-on without waiting for START (and without a HELLO until asked)
    hello_on_start : START sends a HELLO (PROTOCOL.md); False models firmware that forgets to
    protocol_version : header version of the HELLO (another version: the host must refuse it)
    answer_commands : False models a device with the service but without our firmware: it
        ignores every write and never sends anything
    """

    def __init__(
        self, *, accel_rate_hz: float = 208.0, emg_rate_hz: float = 1000.0, emg_channels: int = 2,
        accel_block: int = 26, emg_block: int = 50, speed: float = 1.0, seed: int = 0,
        device_id: str = "tw-0000fa4e", placement: str = "foot", auto_stream: bool = False,
        hello_on_start: bool = True, protocol_version: int = protocol.PROTOCOL_VERSION,
        answer_commands: bool = True,
    ):
        self.auto_stream = auto_stream
        self.hello_on_start = hello_on_start
        self.protocol_version = protocol_version
        self.answer_commands = answer_commands
        self.speed = speed
        self.device_id = device_id
        self.placement = placement
        self._rng = np.random.default_rng(seed)
        self.streams: list[StreamInfo] = [StreamInfo("accel", accel_rate_hz, 3, 16.0, ACCEL_SCALE_G, ("x", "y", "z"))]
        self._block = {"accel": accel_block}
        if emg_channels:
            names = ("tibialis_anterior", "gastrocnemius")[:emg_channels] if emg_channels <= 2 else ()
            self.streams.append(StreamInfo("emg", emg_rate_hz, emg_channels, 32768 * EMG_SCALE_UV, EMG_SCALE_UV, names))
            self._block["emg"] = emg_block
        self._rate = {s.kind: s.rate_hz for s in self.streams}
        self._channels = {s.kind: s.channels for s in self.streams}
        self._next_sample = dict.fromkeys(self._rate, 0)
        self._level = {k: np.zeros(c) for k, c in self._channels.items()}
        self._seq = dict.fromkeys(self._rate, 0)
        self._ctl_seq = {"hello": 0, "ack": 0}
        self._decoder = FrameDecoder()
        self._out = bytearray()
        self.streaming = auto_stream
        self.t_us = 0
        #: every block made, sent or not: kind -> seq -> counts (n, channels) int16
        self.made: dict[str, dict[int, np.ndarray]] = {k: {} for k in self._rate}
        #: seqs of the blocks handed to the radio, per kind
        self.sent: dict[str, list[int]] = {k: [] for k in self._rate}
        self.commands: list[Command] = []
        self.hellos_sent = 0

    # ------------------------------------------------------------------ PeripheralApp
    def on_connect(self) -> None:
        pass

    def on_disconnect(self) -> None:
        self.streaming = self.auto_stream
        self._out.clear()
        self._decoder = FrameDecoder()

    def on_subscribe(self) -> None:
        pass

    def on_write(self, data: bytes) -> None:
        if not self.answer_commands:
            return
        for frame in self._decoder.feed(data):
            if not isinstance(frame, Command):
                continue
            self.commands.append(frame)
            if frame.code == CommandCode.START:
                self.streaming = True
                if self.hello_on_start:
                    self._send_hello()
            elif frame.code == CommandCode.STOP:
                self.streaming = False
            elif frame.code == CommandCode.SEND_HELLO:
                self._send_hello()
            self._ack(frame)

    def pending(self, now_s: float) -> bytes:
        t_dev_us = int(now_s * self.speed * 1e6)
        self.t_us = t_dev_us
        while True:
            kind, t_end_us = min(
                ((k, self._block_end_us(k)) for k in self._rate), key=lambda kv: kv[1]
            )
            if t_end_us > t_dev_us:
                break
            self._make_block(kind)
        out = bytes(self._out)
        self._out.clear()
        return out

    # ------------------------------------------------------------------ internals
    def _block_end_us(self, kind: str) -> int:
        return int(round((self._next_sample[kind] + self._block[kind]) * 1e6 / self._rate[kind]))

    def _make_block(self, kind: str) -> None:
        n, ch = self._block[kind], self._channels[kind]
        steps = self._rng.normal(0.0, 40.0, size=(n, ch)).cumsum(axis=0) + self._level[kind]
        self._level[kind] = steps[-1] * 0.98
        counts = np.clip(steps + self._rng.normal(0.0, 200.0, size=(n, ch)), -32768, 32767).astype(np.int16)
        first = self._next_sample[kind]
        seq = self._seq[kind]
        self._next_sample[kind] = first + n
        self._seq[kind] = seq + 1
        self.made[kind][seq] = counts
        if self.streaming:
            t_first_us = int(round(first * 1e6 / self._rate[kind]))
            self._out += protocol.encode(SampleBlock(kind, seq, t_first_us, counts))
            self.sent[kind].append(seq)

    def _send_hello(self) -> None:
        hello = Hello(self._ctl_seq["hello"], self.device_id, "fake-1.0", self.placement, tuple(self.streams),
                      protocol_version=self.protocol_version)
        self._ctl_seq["hello"] += 1
        self._out += protocol.encode(hello)
        self.hellos_sent += 1

    def _ack(self, cmd: Command) -> None:
        ack = Ack(self._ctl_seq["ack"], cmd.seq, int(cmd.code), AckStatus.OK, self.t_us)
        self._ctl_seq["ack"] += 1
        self._out += protocol.encode(ack)


class VirtualDeviceFirmware:
    """Firmware for :class:`fake_bluez.FakePeripheral` made of the project's virtual device
    (:class:`twitchwatch.virtual.VirtualDevice`: simulator scenarios rendered into the
    frames the real firmware sends, STATUS, MARK and periodic HELLO included).

    Frames are released on the device clock (``speed`` device seconds per real second), which
    starts at the first START (so a test sees the scenario from its beginning, marks included,
    however long scanning and connecting took); commands are answered by ``VirtualDevice.answer``. Every sample
    block released is kept in :attr:`made` (kind -> seq -> counts), every mark in :attr:`marks_us`.
    """

    def __init__(self, device, speed: float = 1.0):
        self.device = device
        self.device.streaming = False  # the real firmware waits for START
        self.speed = speed
        self.device_id = device.device_id
        self._frames = device.frames()
        self._next = next(self._frames, None)
        self._decoder = FrameDecoder()
        self._out = bytearray()
        self.t_us = 0
        self.made: dict[str, dict[int, np.ndarray]] = {"accel": {}, "emg": {}}
        self.marks_us: list[int] = []
        self.commands: list[Command] = []
        self._now_s = 0.0
        self._t_start_s: float | None = None

    def on_connect(self) -> None:
        pass

    def on_disconnect(self) -> None:
        self._out.clear()
        self._decoder = FrameDecoder()

    def on_subscribe(self) -> None:
        pass

    def on_write(self, data: bytes) -> None:
        for frame in self._decoder.feed(data):
            if isinstance(frame, Command):
                self.commands.append(frame)
                if frame.code == CommandCode.START and self._t_start_s is None:
                    self._t_start_s = self._now_s
                for reply in self.device.answer(frame, self.t_us):
                    self._out += protocol.encode(reply)

    def pending(self, now_s: float) -> bytes:
        self._now_s = now_s
        t_dev = -1.0 if self._t_start_s is None else (now_s - self._t_start_s) * self.speed
        self.t_us = max(0, int(t_dev * 1e6))
        while self._next is not None and self._next[0] <= t_dev:
            _, frame = self._next
            if isinstance(frame, SampleBlock):
                self.made[frame.kind][frame.seq] = np.asarray(frame.counts)
            elif isinstance(frame, protocol.MarkFrame):
                self.marks_us.append(frame.t_us)
            if self.device.streaming:
                self._out += protocol.encode(frame)
            self._next = next(self._frames, None)
        out = bytes(self._out)
        self._out.clear()
        return out
