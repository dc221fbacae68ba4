"""Property tests of the frame codec (hypothesis): round trip, resynchronisation, bit flips."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twitchwatch import protocol as P
from twitchwatch.model import StreamInfo

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u32 = st.integers(0, 0xFFFFFFFF)
u64 = st.integers(0, 2**64 - 1)
f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
name = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def sample_blocks(draw):
    kind = draw(st.sampled_from(["accel", "emg"]))
    ch = draw(st.integers(1, P.MAX_CHANNELS))
    n = draw(st.integers(0, (P.MAX_PAYLOAD_LEN - P.SAMPLE_HEADER_LEN) // (2 * ch)))
    seed = draw(st.integers(0, 2**32 - 1))
    style = draw(st.sampled_from(["zeros", "small", "full"]))
    rng = np.random.default_rng(seed)
    if style == "zeros":
        counts = np.zeros((n, ch), np.int16)
    elif style == "small":
        counts = rng.integers(-300, 300, (n, ch)).astype(np.int16)
    else:
        counts = rng.integers(-32768, 32768, (n, ch)).astype(np.int16)
    return P.SampleBlock(kind, draw(u32), draw(u64), counts)


@st.composite
def streams(draw):
    kind = draw(st.sampled_from(["accel", "emg"]))
    ch = draw(st.integers(1, 3))
    names = draw(st.one_of(st.just(()), st.tuples(*[name] * ch)))
    return StreamInfo(kind, draw(st.integers(1, 4_000_000)) / 1000.0, ch, draw(f32), draw(f32), tuple(names))


hellos = st.builds(P.Hello, u32, name, name, st.sampled_from(["foot", "ankle", "wrist"]),
                   st.lists(streams(), min_size=1, max_size=P.MAX_STREAMS).map(tuple))
statuses = st.builds(P.StatusFrame, u32, u64, st.integers(0, 0xFFFF), st.integers(0, 255), u32,
                     st.lists(st.booleans(), max_size=8).map(tuple), u32)
marks = st.builds(P.MarkFrame, u32, u64)
commands = st.one_of(
    st.builds(P.Command, u32, st.sampled_from([c for c in P.CommandCode if c != P.CommandCode.SET_RATES])),
    st.builds(P.Command, u32, st.just(P.CommandCode.SET_RATES),
              st.integers(0, 0xFFFFFFFF).map(lambda m: m / 1000.0), st.integers(0, 0xFFFFFFFF).map(lambda m: m / 1000.0)),
)
acks = st.builds(P.Ack, u32, u32, st.sampled_from(list(P.CommandCode)), st.sampled_from(list(P.AckStatus)), u64)
frames = st.one_of(sample_blocks(), hellos, statuses, marks, commands, acks)


@SETTINGS
@given(frames)
def test_any_valid_frame_round_trips(frame):
    wire = P.encode(frame)
    assert wire[0] == 0 and wire[-1] == 0 and 0 not in wire[1:-1]
    assert len(wire) <= P.MAX_ENCODED_LEN + 2
    dec = P.FrameDecoder()
    assert dec.feed(wire) == [frame]
    assert dec.counters["frames"] == 1 and dec.counters["garbage_bytes"] == 0


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    out, i, k = [], 0, 0
    while i < len(data):
        step = sizes[k % len(sizes)]
        out.append(data[i:i + step])
        i += step
        k += 1
    return out


@SETTINGS
@given(st.lists(st.tuples(frames, st.binary(max_size=60)), min_size=1, max_size=8),
       st.binary(max_size=40), st.lists(st.integers(1, 300), min_size=1, max_size=10))
def test_valid_frames_survive_garbage_and_any_chunking(pairs, leading, sizes):
    stream = leading + b"".join(P.encode(f) + garbage for f, garbage in pairs)
    sent = [f for f, _ in pairs]
    dec = P.FrameDecoder()
    got = [f for chunk in cut(stream, sizes) for f in dec.feed(chunk)]
    # Every valid frame arrives intact and in order. Garbage could in principle forge a frame
    # (it would need a matching CRC-16), so the sent frames must be a subsequence of the output.
    it = iter(got)
    assert all(any(g == f for g in it) for f in sent), (sent, got)
    assert dec.pending_bytes <= P.MAX_ENCODED_LEN
    assert dec.counters["bytes"] == len(stream)


@SETTINGS
@given(st.binary(max_size=3000), st.lists(st.integers(1, 700), min_size=1, max_size=5))
def test_random_bytes_never_raise_and_stay_bounded(data, sizes):
    dec = P.FrameDecoder()
    for chunk in cut(data, sizes):
        dec.feed(chunk)
        assert dec.pending_bytes <= P.MAX_ENCODED_LEN
    assert dec.counters["bytes"] == len(data)


@SETTINGS
@given(frames, st.data())
def test_a_single_bit_flip_is_caught(frame, data):
    wire = bytearray(P.encode(frame))
    bit = data.draw(st.integers(8, 8 * (len(wire) - 1) - 1), label="bit")  # inside the COBS body
    wire[bit // 8] ^= 1 << (bit % 8)
    dec = P.FrameDecoder()
    got = dec.feed(bytes(wire))
    assert frame not in got
    # A flip either tears the COBS structure (truncated / split into pieces) or fails the CRC;
    # CRC-16 detects every single-bit error, so nothing is ever delivered as a different frame.
    assert got == []
    c = dec.counters
    assert c["checksum"] + c["truncated"] >= 1
