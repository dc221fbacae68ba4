"""The Python frame codec against the golden vectors (firmware/protocol/vectors.json) and its API."""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from twitchwatch import protocol as P
from twitchwatch.model import StreamInfo

VECTORS_PATH = Path(__file__).resolve().parents[2] / "firmware" / "protocol" / "vectors.json"
DOC = json.loads(VECTORS_PATH.read_text())
VECTORS = DOC["vectors"]


def _generator():
    """firmware/protocol/gen_vectors.py, whose ``fields`` is the one JSON form of a frame that
    vectors.json was written with: decoded frames are described by the same function."""
    spec = importlib.util.spec_from_file_location("gen_vectors", VECTORS_PATH.with_name("gen_vectors.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fields = _generator().fields


def test_the_vector_file_has_at_least_twenty_vectors_valid_and_invalid():
    assert len(VECTORS) >= 20
    invalid = [v for v in VECTORS if any(v["expect_counters"][k] for k in
               ("checksum", "truncated", "oversize", "unknown_type", "unsupported_version", "malformed", "sequence_gap"))]
    assert len(invalid) >= 10
    kinds = {f["type"] for v in VECTORS for f in v["expect_frames"]}
    assert {int(t) for t in P.FrameType} <= kinds


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_decoder_passes_golden_vector(vector):
    dec = P.FrameDecoder()
    got = []
    for chunk in vector["chunks"]:
        got += dec.feed(bytes.fromhex(chunk))
    assert [fields(f) for f in got] == [f["fields"] for f in vector["expect_frames"]]
    assert dec.counters == vector["expect_counters"]
    assert dec.pending_bytes <= P.MAX_ENCODED_LEN


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_encoder_reproduces_golden_wire_bytes(vector):
    """Every canonical frame in the vectors re-encodes from its decoded value to the same bytes."""
    dec = P.FrameDecoder()
    frames = [f for c in vector["chunks"] for f in dec.feed(bytes.fromhex(c))]
    for frame, want in zip(frames, vector["expect_frames"]):
        if "wire_hex" in want:
            assert P.encode(frame).hex() == want["wire_hex"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_decoder_result_does_not_depend_on_chunking(vector):
    whole = b"".join(bytes.fromhex(c) for c in vector["chunks"])
    one = P.FrameDecoder()
    frames_one = one.feed(whole)
    bytewise = P.FrameDecoder()
    frames_bytewise = [f for i in range(len(whole)) for f in bytewise.feed(whole[i:i + 1])]
    assert frames_one == frames_bytewise
    assert one.counters == bytewise.counters == vector["expect_counters"]


def test_crc_and_cobs_match_the_published_examples():
    for case in DOC["crc16_ccitt_false"]:
        assert P.crc16(bytes.fromhex(case["data_hex"])) == case["crc"]
    for case in DOC["cobs"]:
        data, enc = bytes.fromhex(case["data_hex"]), bytes.fromhex(case["encoded_hex"])
        assert P.cobs_encode(data) == enc
        assert P.cobs_decode(enc) == data


def test_cobs_decoder_accepts_a_final_code_after_a_full_run():
    run = bytes(range(1, 255))
    assert P.cobs_decode(b"\xff" + run + b"\x01") == run


def test_constants_agree_with_the_vector_file():
    assert DOC["protocol_version"] == P.PROTOCOL_VERSION == 1
    assert DOC["max_frame_len"] == P.MAX_FRAME_LEN
    assert DOC["max_encoded_len"] == P.MAX_ENCODED_LEN
    assert DOC["counter_names"] == list(P.COUNTER_NAMES)


def test_hello_describes_the_device():
    accel = StreamInfo("accel", 208.0, 3, 16.0, 16.0 / 32768, ("x", "y", "z"))
    hello = P.Hello(0, "tw-1", "0.1.0", "ankle", (accel,))
    (got,) = P.FrameDecoder().feed(P.encode(hello))
    info = got.device_info(source="/dev/ttyACM0")
    assert info.device_id == "tw-1" and info.placement == "ankle" and info.protocol_version == 1
    assert info.stream("accel") == accel and info.source == "/dev/ttyACM0"


def test_a_future_hello_is_returned_not_raised():
    hello = P.Hello(0, "tw-1", "9.0", "foot", (StreamInfo("accel", 208.0, 3, 16.0, 0.0),), protocol_version=2)
    dec = P.FrameDecoder()
    assert dec.feed(P.encode(hello)) == [P.UnsupportedVersion(2, P.FrameType.HELLO)]
    assert dec.counters["unsupported_version"] == 1


def test_sample_blocks_are_read_only_int16_arrays():
    block = P.SampleBlock("emg", 3, 10, np.array([[1, -2], [3, -4]], np.int16))
    (got,) = P.FrameDecoder().feed(P.encode(block))
    assert got == block
    assert got.counts.dtype == np.int16 and got.counts.shape == (2, 2)
    with pytest.raises(ValueError):
        got.counts[0, 0] = 5


def test_command_status_is_the_device_rule():
    assert P.command_status(b"") == P.AckStatus.BAD_LENGTH
    assert P.command_status(b"\x09") == P.AckStatus.UNKNOWN_COMMAND
    assert P.command_status(b"\x03" + struct.pack("<II", 1, 2)) == P.AckStatus.OK
    assert P.command_status(b"\x05\x00") == P.AckStatus.BAD_LENGTH


def test_encoder_refuses_a_frame_longer_than_the_maximum():
    with pytest.raises(ValueError, match="MAX_FRAME_LEN"):
        P.encode(P.SampleBlock("emg", 0, 0, np.zeros((252, 2), np.int16)))


def test_decoder_never_holds_more_than_one_encoded_frame():
    dec = P.FrameDecoder()
    for _ in range(50):
        dec.feed(b"\x01" * 997)
        assert dec.pending_bytes <= P.MAX_ENCODED_LEN
    assert dec.counters["oversize"] == 1 and dec.counters["garbage_bytes"] == 50 * 997
    assert dec.feed(P.encode(P.MarkFrame(0, 5))) == [P.MarkFrame(0, 5)]
