"""The native session file: lossless, append-only, refuses to overwrite, survives torn tails and
corrupt records, reads back in bounded blocks."""

from __future__ import annotations

import os

import numpy as np
import pytest

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
)
from twitchwatch.recording import MAGIC, SessionReader, SessionWriter, format_clock

ACCEL_SCALE = 16.0 / 32768
EMG_SCALE = 5000.0 / 32768
INFO = DeviceInfo(
    "dev-1", "0.1.0", 1, "foot",
    (StreamInfo("accel", 208.0, 3, 16.0, ACCEL_SCALE, ("x", "y", "z")),
     StreamInfo("emg", 1000.0, 2, 5000.0, EMG_SCALE, ("ta", "gc"))),
    source="test",
)


def device_chunks(seconds: float, seed: int = 0, accel_block: int = 26, emg_block: int = 50, t0: float = 3.25):
    """Frames as a device sends them: accel 26 samples, EMG 50 samples, seq per stream."""
    rng = np.random.default_rng(seed)
    out = []
    for kind, rate, block, ch, scale in (("accel", 208.0, accel_block, 3, ACCEL_SCALE), ("emg", 1000.0, emg_block, 2, EMG_SCALE)):
        n_blocks = int(seconds * rate) // block
        for seq in range(n_blocks):
            counts = rng.integers(-30000, 30000, (block, ch)).astype(np.int16)
            t_us = int(t0 * 1e6) + round(seq * block * 1e6 / rate)
            out.append(Chunk(kind, t_us / 1e6, rate, counts * scale, seq, seq, counts))
    out.sort(key=lambda c: c.t0_s)
    return out


def write_session(path, chunks, **kw):
    w = SessionWriter(path, INFO, fsync=False, **kw)
    for c in chunks:
        w.write_chunk(c)
    return w


def read_counts(reader, block_s=10.0):
    got = {"accel": [], "emg": []}
    others = []
    for item in reader.items(block_s):
        if isinstance(item, Chunk):
            got[item.stream].append(item)
        else:
            others.append(item)
    return got, others


def test_samples_timestamps_and_sequence_numbers_come_back_exactly(tmp_path):
    chunks = device_chunks(7.0)
    w = write_session(tmp_path / "s.twr", chunks)
    w.close()
    r = SessionReader(tmp_path / "s.twr")
    got, _ = read_counts(r, block_s=2.0)
    for kind in ("accel", "emg"):
        sent = [c for c in chunks if c.stream == kind]
        back = got[kind]
        assert np.array_equal(np.concatenate([c.counts for c in back]), np.concatenate([c.counts for c in sent]))
        np.testing.assert_allclose(np.concatenate([c.samples for c in back]),
                                   np.concatenate([c.samples for c in sent]))
        assert back[0].t0_s == pytest.approx(sent[0].t0_s, abs=1e-6)
        assert back[0].seq_first == 0 and back[-1].seq_last == sent[-1].seq_first
        assert all(c.duration_s <= 2.0 + 1.0 for c in back)  # bounded blocks
    # the frame index keeps every device frame's own timestamp and sequence number
    frames = {k: [] for k in ("accel", "emg")}
    for stream, idx in r.frame_index():
        frames[stream].extend(zip(idx["seq"].tolist(), idx["t_us"].tolist()))
    for kind in ("accel", "emg"):
        assert frames[kind] == [(c.seq_first, round(c.t0_s * 1e6)) for c in chunks if c.stream == kind]
    assert r.complete and r.problem is None and r.lost_bytes == 0
    assert r.device_info.streams == INFO.streams and r.device_info.source == "file:s.twr"


def test_faults_marks_status_annotations_and_detector_outputs_are_kept(tmp_path):
    out = DetectorOutput(
        events=(Event(4.0, 0.01, "twitch", "emg", "ta", 55.0),),
        episodes=(Episode("rhythmic_jerking", 5.0, 9.0, 2.5, 8, "alarm"),),
        alerts=(Alert("warning", "rhythmic_jerking", 6.0, 5.0, (("dominant_hz", 2.5),)),),
    )
    w = write_session(tmp_path / "s.twr", device_chunks(3.0))
    w.write_fault(Fault("gap", 4.0, 4.5, "emg", "3 frames missing"))
    w.write_mark(Mark(4.2))
    w.write_status(Status(5.0, 80, 3900, 0, (False, True), 2))
    w.write_annotations([Annotation(5.0, 4.0, "rhythmic_jerking")])
    w.write_output(out)
    w.close()
    r = SessionReader(tmp_path / "s.twr")
    _, others = read_counts(r)
    assert Fault("gap", 4.0, 4.5, "emg", "3 frames missing") in others
    assert Mark(4.2) in others
    assert Status(5.0, 80, 3900, 0, (False, True), 2) in others
    assert r.annotations == (Annotation(5.0, 4.0, "rhythmic_jerking"),)
    assert r.outputs.alerts == out.alerts and r.outputs.episodes == out.episodes and r.outputs.events == out.events


def test_an_existing_file_is_never_overwritten_without_force(tmp_path):
    p = tmp_path / "s.twr"
    write_session(p, device_chunks(1.0)).close()
    before = p.read_bytes()
    with pytest.raises(RefuseOverwrite, match="s.twr"):
        SessionWriter(p, INFO)
    assert p.read_bytes() == before
    SessionWriter(p, INFO, force=True).close()
    assert p.read_bytes() != before


def test_a_torn_tail_replays_up_to_the_last_good_block_and_says_what_was_lost(tmp_path):
    p = tmp_path / "s.twr"
    w = write_session(p, device_chunks(6.0))
    w.flush()  # as a killed recorder leaves it: no END record
    size = os.path.getsize(p)
    os.truncate(p, size - 37)
    r = SessionReader(p)
    got, _ = read_counts(r)
    assert got["accel"] and got["emg"]
    assert not r.complete
    assert r.tail_lost_bytes > 37 - 1  # the whole torn record is lost, not only the 37 bytes
    assert "lost the last" in r.problem and "replayed up to" in r.problem and str(p) in r.problem
    last = max(c.t_end_s for cs in got.values() for c in cs)
    assert last > 3.25 + 4.0  # at most about a second of the 6 s is lost


def test_a_corrupt_record_in_the_middle_is_skipped_as_a_gap_and_the_rest_is_read(tmp_path):
    p = tmp_path / "s.twr"
    chunks = device_chunks(8.0)
    write_session(p, chunks, flush_interval_s=1.0).close()
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 40] = b"\xff" * 40
    p.write_bytes(bytes(data))
    r = SessionReader(p)
    got, others = read_counts(r)
    gaps = [f for f in others if isinstance(f, Fault) and f.kind == "gap"]
    assert len(gaps) == 1 and "corrupt" in gaps[0].detail
    assert r.corrupt_regions and r.complete  # the END record after the damage is still found
    n_sent = sum(c.n for c in chunks if c.stream == "emg")
    n_back = sum(c.n for c in got["emg"])
    assert 0.6 * n_sent < n_back < n_sent
    assert "corrupt" in r.problem


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        (b"", "truncated"),
        (MAGIC[:4], "truncated"),
        (b"t,ax,ay,az\n0,1,2,3\n", "not a twitchwatch session"),
        (MAGIC + b"\x89TWR\x01\x00\x00\x00", "header is truncated or corrupt"),
    ],
)
def test_bad_files_give_one_line_naming_the_file(tmp_path, content, message):
    p = tmp_path / "bad.twr"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(FileFormatError) as info:
        SessionReader(p)
    text = str(info.value)
    assert message in text and "bad.twr" in text and "\n" not in text


def test_reading_is_bounded_by_the_block_size_not_the_file_length(tmp_path):
    p = tmp_path / "long.twr"
    w = SessionWriter(p, INFO, fsync=False)
    rng = np.random.default_rng(1)
    block = rng.integers(-100, 100, (1000, 2)).astype(np.int16)
    for i in range(600):  # 10 minutes of EMG
        w.write_chunk(Chunk("emg", i * 1.0, 1000.0, block * EMG_SCALE, i, i, block))
    w.close()
    sizes = [c.n for c in SessionReader(p).items(block_s=30.0) if isinstance(c, Chunk)]
    assert sum(sizes) == 600_000 and max(sizes) <= 31_000


def test_async_iteration_yields_device_info_first(tmp_path):
    import asyncio

    p = tmp_path / "s.twr"
    write_session(p, device_chunks(2.0)).close()

    async def collect():
        return [item async for item in SessionReader(p)]

    items = asyncio.run(collect())
    assert isinstance(items[0], DeviceInfo) and any(isinstance(i, Chunk) for i in items[1:])


def test_format_clock():
    assert format_clock(754.5) == "12:34.5"
    assert format_clock(3600 + 62.25) == "1:01:02.2"


def test_any_truncation_or_corruption_reads_a_prefix_or_a_subset_never_crashes(tmp_path):
    p = tmp_path / "s.twr"
    chunks = device_chunks(4.0, seed=5)
    write_session(p, chunks, flush_interval_s=0.5).close()
    data = p.read_bytes()
    header_end = len(MAGIC) + 16 + int.from_bytes(data[len(MAGIC) + 8:len(MAGIC) + 12], "little")
    sent = np.concatenate([c.counts for c in chunks if c.stream == "emg"])
    rng = np.random.default_rng(7)
    cut_points = sorted(set(rng.integers(0, len(data), 40).tolist()) | {len(MAGIC), len(MAGIC) + 10, len(data) - 1})
    for cut in cut_points:
        p.write_bytes(data[:cut])
        try:
            r = SessionReader(p)
        except FileFormatError as exc:
            assert cut < header_end and "s.twr" in str(exc)  # only a cut inside the header is refused
            continue
        got = [c.counts for c in r.items(1.0) if isinstance(c, Chunk) and c.stream == "emg"]
        back = np.concatenate(got) if got else np.zeros((0, 2), np.int16)
        assert np.array_equal(back, sent[: back.shape[0]])  # a prefix of what was recorded
        assert r.problem is not None
    for _ in range(20):
        damaged = bytearray(data)
        for pos in rng.integers(header_end, len(data), 3):
            damaged[pos] ^= 0xFF
        p.write_bytes(bytes(damaged))
        r = SessionReader(p)
        got = [c for c in r.items(1.0) if isinstance(c, Chunk) and c.stream == "emg"]
        for c in got:  # every block that comes back is exactly what was recorded at its time
            i0 = round((c.t0_s - 3.25) * 1000.0)
            assert np.array_equal(c.counts, sent[i0:i0 + c.n])
        assert r.corrupt_regions or r.tail_lost_bytes
