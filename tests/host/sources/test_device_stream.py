"""DeviceStream: protocol frames from a device become DeviceInfo, Chunk, Fault, Mark and Status."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.errors import ProtocolVersionError
from twitchwatch.model import Chunk, DeviceInfo, Fault, Mark, Status, StreamInfo
from twitchwatch.protocol import Hello, MarkFrame, SampleBlock, StatusFrame, encode
from twitchwatch.sources.device_stream import DeviceStream

def float32(x):
    return float(np.float32(x))


ACCEL = StreamInfo("accel", 208.0, 3, 16.0, float32(16.0 / 32768), ("x", "y", "z"))
EMG = StreamInfo("emg", 1000.0, 2, float32(5000.0), float32(5000.0 / 32768), ("ta", "gc"))
HELLO = Hello(0, "dev-7", "0.1.0", "foot", (ACCEL, EMG))


def emg_block(seq: int, t0_us: int = 0, n: int = 50) -> SampleBlock:
    counts = (np.arange(n * 2, dtype=np.int16).reshape(n, 2) + seq)
    return SampleBlock("emg", seq, t0_us + seq * n * 1000, counts)


def test_hello_then_samples_become_device_info_and_scaled_chunks():
    ds = DeviceStream("/dev/ttyTEST")
    items = ds.feed(encode(HELLO) + encode(emg_block(0)) + encode(emg_block(1)))
    assert isinstance(items[0], DeviceInfo)
    assert items[0].device_id == "dev-7" and items[0].source == "/dev/ttyTEST"
    chunks = [i for i in items if isinstance(i, Chunk)]
    assert [c.seq_first for c in chunks] == [0, 1]
    assert chunks[1].t0_s == pytest.approx(0.05)
    assert chunks[0].rate_hz == 1000.0
    np.testing.assert_allclose(chunks[0].samples, chunks[0].counts * EMG.scale)
    assert chunks[0].counts.dtype == np.int16


def test_the_same_items_whatever_the_byte_boundaries():
    wire = encode(HELLO) + b"".join(encode(emg_block(i)) for i in range(5))
    whole = DeviceStream("d").feed(wire)
    ds = DeviceStream("d")
    pieces = [ds.feed(wire[i:i + 7]) for i in range(0, len(wire), 7)]
    split = [item for piece in pieces for item in piece]
    assert [(type(i), getattr(i, "seq_first", None)) for i in split] == [(type(i), getattr(i, "seq_first", None)) for i in whole]


def test_missing_frames_become_a_gap_fault_spanning_the_missing_time():
    ds = DeviceStream("d")
    items = ds.feed(encode(HELLO) + encode(emg_block(0)) + encode(emg_block(4)))
    gaps = [i for i in items if isinstance(i, Fault)]
    assert len(gaps) == 1
    g = gaps[0]
    assert g.kind == "gap" and g.stream == "emg"
    assert g.start_s == pytest.approx(0.05) and g.end_s == pytest.approx(0.2)
    assert "3 frame(s) missing" in g.detail
    assert ds.counters["gaps"] == 1 and ds.counters["missing_frames"] == 3
    # the fault comes before the chunk after the hole
    assert isinstance(items[-1], Chunk) and items[-1].seq_first == 4


def test_a_hello_of_another_protocol_version_names_both_versions_and_the_device():
    ds = DeviceStream("/dev/ttyACM3")
    v2 = Hello(0, "dev-7", "9.0", "foot", (ACCEL,), protocol_version=2)
    with pytest.raises(ProtocolVersionError) as info:
        ds.feed(encode(v2))
    msg = str(info.value)
    assert "/dev/ttyACM3" in msg and "version 2" in msg and "version 1" in msg


def test_status_gives_status_and_lead_off_and_saturation_faults_once():
    ds = DeviceStream("d")
    ds.feed(encode(HELLO))
    ok = StatusFrame(0, 5_000_000, 3900, 80, 0, (False, False), 0)
    off = StatusFrame(1, 10_000_000, 3890, 79, 0, (False, True), 3)
    still_off = StatusFrame(2, 15_000_000, 3880, 79, 0, (False, True), 3)
    items = ds.feed(encode(ok) + encode(off) + encode(still_off))
    statuses = [i for i in items if isinstance(i, Status)]
    faults = [i for i in items if isinstance(i, Fault)]
    assert [s.t_s for s in statuses] == [5.0, 10.0, 15.0]
    assert statuses[1].lead_off == (False, True) and statuses[1].battery_pct == 79
    assert [(f.kind, f.start_s, f.end_s) for f in faults] == [("lead_off", 10.0, 10.0), ("saturated", 10.0, 10.0)]
    assert "channel(s) 1" in faults[0].detail
    back = StatusFrame(3, 21_000_000, 3880, 79, 0, (False, False), 3)
    closed = [i for i in ds.feed(encode(back)) if isinstance(i, Fault)]
    # contact came back: the same fault again, now with its end (an interval, not an instant)
    assert [(f.kind, f.start_s, f.end_s) for f in closed] == [("lead_off", 10.0, 21.0)]
    assert "for 11.0 s" in closed[0].detail


def test_marks_and_samples_before_hello():
    ds = DeviceStream("d")
    assert ds.feed(encode(emg_block(0))) == []
    assert ds.counters["before_hello"] == 1
    items = ds.feed(encode(HELLO) + encode(MarkFrame(0, 2_500_000)))
    assert Mark(2.5) in items


def test_reset_link_keeps_sequence_state_so_a_reconnect_shows_the_gap():
    ds = DeviceStream("d")
    ds.feed(encode(HELLO) + encode(emg_block(0)) + encode(emg_block(1))[:10])  # cable pulled mid-frame
    ds.reset_link()
    items = ds.feed(encode(emg_block(9)))
    assert [i.kind for i in items if isinstance(i, Fault)] == ["gap"]
    assert ds.counters["bytes"] > 0


def test_a_device_restart_keeps_the_session_clock_monotonic():
    ds = DeviceStream("d")
    ds.feed(encode(HELLO) + b"".join(encode(emg_block(i, t0_us=100_000_000)) for i in range(3)))
    items = ds.feed(encode(HELLO) + encode(emg_block(0)) + encode(emg_block(1)))  # rebooted: clock back at 0
    faults = [i for i in items if isinstance(i, Fault)]
    chunks = [i for i in items if isinstance(i, Chunk)]
    assert len(faults) == 1 and "restarted" in faults[0].detail
    assert chunks[0].t0_s == pytest.approx(100.15) and chunks[1].t0_s == pytest.approx(100.2)
    assert ds.counters["time_resets"] == 1
