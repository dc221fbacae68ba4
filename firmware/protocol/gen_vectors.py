#!/usr/bin/env python3
"""Write firmware/protocol/vectors.json: golden inputs for the C and the Python decoders.

Each vector states its input byte chunks and, written out here by hand, the frames a v1 receiver
must deliver and its counters afterwards. Frames are built from explicit field values (not by
decoding), and every wire frame's bytes are re-derived independently by the C encoder in the C
tests. Before writing, this script checks the Python decoder against the hand-written verdicts,
so a vector that disagrees with the decoder is a failure here, never silently "regenerated".

    .venv/bin/python firmware/protocol/gen_vectors.py            # rewrite vectors.json
    .venv/bin/python firmware/protocol/gen_vectors.py --check    # fail if vectors.json differs
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np

from twitchwatch import protocol as P
from twitchwatch.model import StreamInfo

OUT = Path(__file__).with_name("vectors.json")
RNG = np.random.default_rng(20261122)

ACCEL = StreamInfo("accel", 208.0, 3, 16.0, float(np.float32(16.0 / 32768)), ("x", "y", "z"))
EMG = StreamInfo("emg", 1000.0, 2, 2500.0, float(np.float32(2500.0 / 32768)), ("tibialis_anterior", "gastrocnemius"))
HELLO = P.Hello(0, "tw-5a1c93e0", "0.1.0", "foot", (ACCEL, EMG))


def counts(n: int, ch: int, sd: float) -> np.ndarray:
    return np.clip(RNG.normal(0, sd, (n, ch)), -32768, 32767).astype(np.int16)


# ----------------------------------------------------------------------------- frame -> JSON


def fields(frame: P.Frame) -> dict:
    """The JSON form of a decoded frame that vectors.json and the Python tests compare."""
    if isinstance(frame, P.Hello):
        return {
            "device_id": frame.device_id,
            "firmware_version": frame.firmware_version,
            "placement": frame.placement,
            "protocol_version": frame.protocol_version,
            "streams": [
                {"kind": s.kind, "rate_hz": s.rate_hz, "channels": s.channels, "range": s.range,
                 "scale": s.scale, "channel_names": list(s.channel_names)}
                for s in frame.streams
            ],
        }
    if isinstance(frame, P.SampleBlock):
        return {"kind": frame.kind, "t_first_us": frame.t_first_us, "counts": np.asarray(frame.counts).tolist()}
    if isinstance(frame, P.StatusFrame):
        return {"t_us": frame.t_us, "battery_mv": frame.battery_mv, "battery_pct": frame.battery_pct,
                "dropped_samples": frame.dropped_samples, "lead_off": list(frame.lead_off),
                "imu_saturation_count": frame.imu_saturation_count}
    if isinstance(frame, P.MarkFrame):
        return {"t_us": frame.t_us}
    if isinstance(frame, P.Command):
        return {"code": int(frame.code), "accel_rate_hz": frame.accel_rate_hz, "emg_rate_hz": frame.emg_rate_hz}
    if isinstance(frame, P.BadCommand):
        return {"code": frame.code, "status": int(frame.status)}
    if isinstance(frame, P.Ack):
        return {"command_seq": frame.command_seq, "code": int(frame.code), "status": int(frame.status), "t_us": frame.t_us}
    if isinstance(frame, P.UnsupportedVersion):
        return {"version": frame.version, "frame_type": frame.frame_type}
    raise TypeError(type(frame))


def frame_type_of(frame: P.Frame) -> int:
    if isinstance(frame, P.SampleBlock):
        return int(P.FrameType.ACCEL if frame.kind == "accel" else P.FrameType.EMG)
    return int({P.Hello: P.FrameType.HELLO, P.StatusFrame: P.FrameType.STATUS, P.MarkFrame: P.FrameType.MARK,
                P.Command: P.FrameType.COMMAND, P.BadCommand: P.FrameType.COMMAND, P.Ack: P.FrameType.ACK}[type(frame)])


def expect(frame: P.Frame, wire: bytes | None = None, payload: bytes | None = None) -> dict:
    """Expected delivery of ``frame``; ``wire`` is its canonical encoding (C re-encodes and compares)."""
    if isinstance(frame, P.UnsupportedVersion):
        return {"result": "unsupported_version", "version": frame.version, "type": frame.frame_type,
                "fields": fields(frame)}
    wire = P.encode(frame) if wire is None else wire
    raw = P.cobs_decode(wire.strip(b"\x00"))
    out = {
        "result": "bad_command" if isinstance(frame, P.BadCommand) else "frame",
        "version": raw[0],
        "type": frame_type_of(frame),
        "seq": frame.seq,
        "payload_hex": raw[P.HEADER_LEN:-P.CRC_LEN].hex(),
        "fields": fields(frame),
    }
    if payload is not None:
        assert payload == raw[P.HEADER_LEN:-P.CRC_LEN]
    if isinstance(frame, P.BadCommand):
        out["ack_status"] = int(frame.status)
    else:
        out["wire_hex"] = wire.hex()
    return out


def counters(**nonzero: int) -> dict:
    c = dict.fromkeys(P.COUNTER_NAMES, 0)
    for k, v in nonzero.items():
        assert k in c, k
        c[k] = v
    return c


VECTORS: list[dict] = []


def vector(name: str, description: str, chunks: list[bytes], frames: list[dict], **nonzero: int) -> None:
    nonzero.setdefault("bytes", sum(len(c) for c in chunks))
    nonzero.setdefault("frames", len(frames))
    VECTORS.append({
        "name": name,
        "description": description,
        "chunks": [c.hex() for c in chunks],
        "expect_frames": frames,
        "expect_counters": counters(**{k: v for k, v in nonzero.items() if v}),
    })


def raw_frame(version: int, ftype: int, seq: int, payload: bytes) -> bytes:
    return P.encode_raw(ftype, seq, payload, version=version)


def bad_crc(wire: bytes) -> bytes:
    raw = bytearray(P.cobs_decode(wire.strip(b"\x00")))
    raw[-1] ^= 0x5A
    return b"\x00" + P.cobs_encode(bytes(raw)) + b"\x00"


# ----------------------------------------------------------------------------- the vectors


def build() -> None:
    # --- every frame type, valid
    vector("hello_foot_two_streams", "HELLO: foot, accel 208 Hz +-16 g, EMG 1000 Hz x 2 with channel names",
           [P.encode(HELLO)], [expect(HELLO)])
    h2 = P.Hello(3, "tw-wrist-7", "1.2.3-rc1", "wrist",
                 (StreamInfo("accel", 12.5, 3, 4.0, float(np.float32(4.0 / 32768))),))
    vector("hello_wrist_accel_only_no_names", "HELLO with one stream, a fractional rate (12.5 Hz = 12500 mHz), no channel names",
           [P.encode(h2)], [expect(h2)])
    a = P.SampleBlock("accel", 7, 1_234_567_890, counts(26, 3, 3000))
    vector("accel_block_default", "ACCEL: 26 x 3 samples (one FIFO watermark at 208 Hz)", [P.encode(a)], [expect(a)])
    e = P.SampleBlock("emg", 41, 9_876_543_210_123, counts(50, 2, 80))
    vector("emg_block_two_channels", "EMG: 50 x 2 samples (50 ms at 1000 Hz), small counts give many zero bytes",
           [P.encode(e)], [expect(e)])
    e1 = P.SampleBlock("emg", 0, 0, counts(10, 1, 20000))
    vector("emg_block_one_channel", "EMG: 10 x 1 samples", [P.encode(e1)], [expect(e1)])
    s = P.StatusFrame(12, 60_000_000, 3712, 87, 26, (False, True), 3)
    vector("status", "STATUS: battery 3712 mV 87 %, 26 dropped, EMG channel 1 lead off, 3 saturated samples",
           [P.encode(s)], [expect(s)])
    m = P.MarkFrame(2, 123_456_789_012)
    vector("mark", "MARK: the wearer pressed the button", [P.encode(m)], [expect(m)])
    cmds = [P.Command(0, P.CommandCode.START), P.Command(1, P.CommandCode.STOP),
            P.Command(2, P.CommandCode.SET_RATES, 104.0, 500.0), P.Command(3, P.CommandCode.SEND_HELLO),
            P.Command(4, P.CommandCode.PING)]
    vector("commands_every_code", "COMMAND: START, STOP, SET_RATES(104 Hz, 500 Hz), SEND_HELLO, PING back to back",
           [b"".join(P.encode(c) for c in cmds)], [expect(c) for c in cmds])
    acks = [P.Ack(0, 4, P.CommandCode.PING, P.AckStatus.OK, 5_000_001),
            P.Ack(1, 9, 0x63, P.AckStatus.UNKNOWN_COMMAND, 5_100_000),
            P.Ack(2, 10, P.CommandCode.SET_RATES, P.AckStatus.BAD_ARGUMENT, 5_200_000)]
    vector("acks", "ACK: OK for a PING, UNKNOWN_COMMAND echoing code 0x63, BAD_ARGUMENT for SET_RATES",
           [b"".join(P.encode(x) for x in acks)], [expect(x) for x in acks])

    # --- payloads full of zero bytes
    z = P.SampleBlock("accel", 0, 0, np.zeros((26, 3), np.int16))
    vector("zeros_accel_block", "ACCEL with seq 0, t 0 and all-zero samples: COBS must carry a body of zeros",
           [P.encode(z)], [expect(z)])
    zs = P.StatusFrame(0, 0, 0, 0, 0, (), 0)
    zm = P.MarkFrame(0, 0)
    vector("zeros_status_and_mark", "STATUS and MARK whose fields are all zero", [P.encode(zs) + P.encode(zm)],
           [expect(zs), expect(zm)])

    # --- maximum length
    big = P.SampleBlock("emg", 5, 42, counts(251, 2, 120))
    wire = P.encode(big)
    assert len(P.cobs_decode(wire.strip(b"\x00"))) == P.MAX_FRAME_LEN
    vector("max_length_emg", "EMG 251 x 2: raw frame exactly MAX_FRAME_LEN = 1024 bytes", [wire], [expect(big)])
    nz = np.frombuffer(bytes(RNG.integers(1, 256, 1004, dtype=np.uint8)), dtype="<i2").reshape(502, 1)
    big2 = P.SampleBlock("accel", 6, 0x0102030405060708, nz)
    wire2 = P.encode(big2)
    body = wire2.strip(b"\x00")
    assert len(P.cobs_decode(body)) == P.MAX_FRAME_LEN and body.count(0xFF) >= 3
    vector("max_length_long_runs", "ACCEL 502 x 1 of non-zero bytes: 1024-byte frame with 254-byte COBS runs (code 0xFF)",
           [wire2], [expect(big2)])

    # --- stream structure
    f1 = P.SampleBlock("accel", 100, 10_000_000, counts(26, 3, 2000))
    f2 = P.SampleBlock("emg", 200, 10_000_500, counts(50, 2, 60))
    vector("back_to_back", "ACCEL then EMG in one chunk", [P.encode(f1) + P.encode(f2)], [expect(f1), expect(f2)])
    w = P.encode(f1)
    vector("split_across_two_chunks", "one ACCEL frame cut into two chunks in the middle", [w[:77], w[77:]], [expect(f1)])
    w = P.encode(m)
    vector("byte_by_byte", "a MARK frame fed one byte per chunk", [w[i:i + 1] for i in range(len(w))], [expect(m)])
    w = P.encode(e).strip(b"\x00") + b"\x00"
    vector("no_leading_delimiter", "a frame whose leading 0x00 was lost (receiver started mid-stream)",
           [w], [{**expect(e), "wire_hex": P.encode(e).hex()}])
    vector("only_delimiters", "a run of 0x00: empty candidates are ignored without counting", [b"\x00" * 17], [])

    # --- invalid inputs
    good = P.MarkFrame(3, 777)
    bw = bad_crc(P.encode(f1))
    vector("bad_checksum", "ACCEL with its CRC corrupted, then a valid MARK", [bw + P.encode(good)],
           [expect(good)], checksum=1, garbage_bytes=len(bw) - 2)
    flip = bytearray(P.encode(s))
    flip[20] ^= 0x04
    assert 0 not in flip[1:-1]
    vector("single_bit_flip", "STATUS with one bit flipped in the COBS body, then a valid MARK",
           [bytes(flip) + P.encode(good)], [expect(good)], checksum=1, garbage_bytes=len(flip) - 2)
    w = P.encode(f2)
    cut = w[:60]
    assert P.cobs_decode(cut[1:]) is None
    vector("truncated_then_valid", "the first 60 bytes of an EMG frame, then a complete MARK (its leading 0x00 ends the torn frame)",
           [cut + P.encode(good)], [expect(good)], truncated=1, garbage_bytes=len(cut) - 1)
    tiny = bytes((1, 5))
    tiny += struct.pack("<H", P.crc16(tiny))
    tiny_wire = b"\x00" + P.cobs_encode(tiny) + b"\x00"
    vector("short_frame_valid_crc", "a 4-byte v1 frame (version, type, CRC) too short for the 6-byte header",
           [tiny_wire + P.encode(good)], [expect(good)], truncated=1, garbage_bytes=len(tiny_wire) - 2)
    junk = bytes(RNG.integers(1, 256, 1500, dtype=np.uint8))
    vector("oversize_candidate", "1500 non-zero bytes between delimiters, then a valid MARK",
           [b"\x00" + junk + P.encode(good)], [expect(good)], oversize=1, garbage_bytes=1500)
    vector("oversize_streamed", "2000 non-zero bytes in 100-byte chunks (the decoder must not buffer them), then a valid MARK",
           [b"\x00"] + [junk[:1000][i:i + 100] for i in range(0, 1000, 100)] + [junk[500:1500][i:i + 100] for i in range(0, 1000, 100)] + [P.encode(good)],
           [expect(good)], oversize=1, garbage_bytes=2000)
    g1 = bytes(RNG.integers(1, 256, 37, dtype=np.uint8))
    g2 = b"\x05\x00\xff\x13\x00\x00\x42"  # candidates 05 | ff 13 | (empty) | 42: three torn blocks
    assert P.cobs_decode(g1) is None  # the 37 bytes are one torn candidate: 4 truncated in all
    vector("garbage_between_frames", "MARK, 37 random non-zero bytes, MARK, garbage with zeros inside, MARK",
           [P.encode(P.MarkFrame(0, 1)) + g1 + P.encode(P.MarkFrame(1, 2)) + g2 + P.encode(P.MarkFrame(2, 3))],
           [expect(P.MarkFrame(0, 1)), expect(P.MarkFrame(1, 2)), expect(P.MarkFrame(2, 3))],
           truncated=4, garbage_bytes=37 + 4)
    unk = raw_frame(1, 0x42, 0, b"future frame type")
    vector("unknown_type", "an intact v1 frame of type 0x42 is skipped and counted, the next frame is delivered",
           [unk + P.encode(good)], [expect(good)], unknown_type=1)
    h_future = P.Hello(0, "tw-5a1c93e0", "2.0.0", "foot", (ACCEL, EMG), protocol_version=2)
    vector("future_version_hello", "a HELLO from a device speaking protocol version 2: returned as UnsupportedVersion(2, HELLO)",
           [P.encode(h_future)], [expect(P.UnsupportedVersion(2, int(P.FrameType.HELLO)))], unsupported_version=1)
    fut = raw_frame(9, P.FrameType.ACCEL, 0, b"\x01\x02\x03")
    vector("future_version_data", "a version 9 ACCEL frame with an unknown layout, then a v1 MARK",
           [fut + P.encode(good)], [expect(P.UnsupportedVersion(9, int(P.FrameType.ACCEL))), expect(good)],
           unsupported_version=1)
    seqs = [P.MarkFrame(q, 1000 * q) for q in (0, 1, 3, 4, 2)]
    vector("sequence_gaps", "MARK seq 0, 1, 3, 4, 2: two discontinuities, every frame still delivered",
           [b"".join(P.encode(x) for x in seqs)], [expect(x) for x in seqs], sequence_gap=2)
    wrap = [P.MarkFrame(0xFFFFFFFF, 1), P.MarkFrame(0, 2), P.SampleBlock("accel", 5, 3, counts(1, 3, 10))]
    vector("sequence_wrap_and_per_type", "MARK seq 2^32-1 then 0 is no gap; an ACCEL seq 5 starts its own stream",
           [b"".join(P.encode(x) for x in wrap)], [expect(x) for x in wrap])
    bad_len = struct.pack("<QHBB", 0, 26, 3, 0) + bytes(26 * 3 * 2 - 2)
    wbl = raw_frame(1, P.FrameType.ACCEL, 0, bad_len)
    vector("malformed_sample_block", "ACCEL whose n x channels disagrees with the payload length: skipped, counted",
           [wbl + P.encode(good)], [expect(good)], malformed=1)
    hello_tail = P.cobs_decode(P.encode(HELLO).strip(b"\x00"))[P.HEADER_LEN:-P.CRC_LEN] + b"\x00"
    vector("malformed_hello_trailing_byte", "HELLO with one byte after its last stream: skipped, counted",
           [raw_frame(1, P.FrameType.HELLO, 0, hello_tail)], [], malformed=1)
    bc1 = P.BadCommand(7, 0x63, P.AckStatus.UNKNOWN_COMMAND)
    bc2 = P.BadCommand(8, int(P.CommandCode.SET_RATES), P.AckStatus.BAD_LENGTH)
    bc3 = P.BadCommand(9, 0, P.AckStatus.BAD_LENGTH)
    w1 = raw_frame(1, P.FrameType.COMMAND, 7, b"\x63")
    w2 = raw_frame(1, P.FrameType.COMMAND, 8, b"\x03\xe8\x03\x00")
    w3 = raw_frame(1, P.FrameType.COMMAND, 9, b"")
    vector("bad_commands", "COMMAND with an unknown code, SET_RATES with 3 of its 8 argument bytes, an empty COMMAND: BadCommand each",
           [w1 + w2 + w3], [expect(bc1, w1), expect(bc2, w2), expect(bc3, w3)], malformed=3)


def random_frame(rng: np.random.Generator, seqs: dict) -> P.Frame:
    kind = int(rng.integers(0, 8))
    def seq(key: str) -> int:
        seqs[key] = (seqs.get(key, -1) + 1 + int(rng.random() < 0.1)) & 0xFFFFFFFF  # 10 % gaps
        return seqs[key]
    if kind <= 2:
        ch = int(rng.integers(1, 4))
        n = int(rng.integers(0, 150))
        if rng.random() < 0.3:  # long zero-free runs: COBS code 0xFF
            data = rng.integers(1, 256, 2 * n * ch, dtype=np.uint8).tobytes()
            block = np.frombuffer(data, dtype="<i2").reshape(n, ch).astype(np.int16)
        else:
            block = rng.normal(0, float(rng.choice([30, 3000])), (n, ch)).astype(np.int16)
        k = "accel" if kind == 0 else "emg"
        return P.SampleBlock(k, seq(k), int(rng.integers(0, 2**63)), block)
    if kind == 3:
        return P.StatusFrame(seq("status"), int(rng.integers(0, 2**40)), int(rng.integers(0, 5000)),
                             int(rng.integers(0, 101)), int(rng.integers(0, 1000)),
                             tuple(bool(b) for b in rng.integers(0, 2, int(rng.integers(0, 3)))), int(rng.integers(0, 99)))
    if kind == 4:
        return P.MarkFrame(seq("mark"), int(rng.integers(0, 2**50)))
    if kind == 5:
        return P.Ack(seq("ack"), int(rng.integers(0, 2**32)), P.CommandCode(int(rng.integers(1, 6))),
                     P.AckStatus(int(rng.integers(0, 5))), int(rng.integers(0, 2**50)))
    if kind == 6:
        return P.Command(seq("command"), P.CommandCode.SET_RATES, float(rng.integers(0, 10**6)) / 1000.0, 1000.0)
    return P.Hello(seq("hello"), "tw-" + str(int(rng.integers(0, 10**6))), "0.1.0", "foot", (ACCEL, EMG))


def differential_vector(seed: int) -> None:
    """A long random stream of valid frames, garbage, torn, corrupted, oversize and foreign frames,
    cut into random chunks. Its expectation is what the Python decoder delivers: the C decoder must
    agree with it exactly (frames and every counter). The hand-stated vectors above are the spec;
    these catch C/Python disagreements in combinations nobody wrote by hand."""
    rng = np.random.default_rng(seed)
    seqs: dict = {}
    pieces = []
    for _ in range(40):
        r = rng.random()
        if r < 0.55:
            pieces.append(P.encode(random_frame(rng, seqs)))
        elif r < 0.65:
            pieces.append(rng.integers(0, 256, int(rng.integers(1, 60)), dtype=np.uint8).tobytes())
        elif r < 0.72:
            w = P.encode(random_frame(rng, seqs))
            pieces.append(w[: int(rng.integers(1, len(w) - 1))])
        elif r < 0.80:
            w = bytearray(P.encode(random_frame(rng, seqs)))
            bit = int(rng.integers(8, 8 * (len(w) - 1)))
            w[bit // 8] ^= 1 << (bit % 8)
            pieces.append(bytes(w))
        elif r < 0.88:
            pieces.append(raw_frame(int(rng.integers(2, 256)), int(rng.integers(0, 256)), 0, b"\x07" * int(rng.integers(0, 40))))
        elif r < 0.91:
            pieces.append(raw_frame(1, int(rng.integers(8, 256)), 0, b"\x01\x02"))
        elif r < 0.94:  # intact v1 frame of a known type with a random (mostly malformed) payload
            ftype = int(rng.choice([1, 2, 3, 4, 5, 7]))
            pieces.append(raw_frame(1, ftype, int(rng.integers(0, 2**32)), rng.integers(0, 256, int(rng.integers(0, 30)), dtype=np.uint8).tobytes()))
        else:
            pieces.append(rng.integers(1, 256, int(rng.integers(1030, 1600)), dtype=np.uint8).tobytes())
    stream = b"".join(pieces)
    cuts = np.sort(rng.choice(np.arange(1, len(stream)), size=min(30, len(stream) - 1), replace=False))
    chunks = [stream[a:b] for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(stream)])]
    dec = P.FrameDecoder()
    frames = [f for c in chunks for f in dec.feed(c)]
    for f in frames:
        if not isinstance(f, (P.UnsupportedVersion, P.BadCommand)):
            assert P.encode(f) in stream  # every delivered frame is one that was sent
    VECTORS.append({
        "name": f"differential_random_stream_{seed}",
        "description": "random mix of valid, torn, corrupted, oversize, foreign and garbage bytes in random chunks; "
                       "expectation = the Python decoder's output (C must agree exactly)",
        "chunks": [c.hex() for c in chunks],
        "expect_frames": [expect(f) for f in frames],
        "expect_counters": dict(dec.counters),
    })


def crc_and_cobs_cases() -> dict:
    r = bytes(range(1, 255))
    return {
        "crc16_ccitt_false": [{"data_hex": b"123456789".hex(), "crc": 0x29B1}, {"data_hex": "", "crc": 0xFFFF}],
        "cobs": [  # Wikipedia's examples (Consistent Overhead Byte Stuffing)
            {"data_hex": "00", "encoded_hex": "0101"},
            {"data_hex": "0000", "encoded_hex": "010101"},
            {"data_hex": "001100", "encoded_hex": "01021101"},
            {"data_hex": "11220033", "encoded_hex": "0311220233"},
            {"data_hex": "11223344", "encoded_hex": "0511223344"},
            {"data_hex": "11000000", "encoded_hex": "0211010101"},
            {"data_hex": r.hex(), "encoded_hex": "ff" + r.hex()},
            {"data_hex": "00" + r.hex(), "encoded_hex": "01ff" + r.hex()},
            {"data_hex": bytes(range(1, 256)).hex(), "encoded_hex": "ff" + r.hex() + "02ff"},
            {"data_hex": bytes(range(2, 256)).hex() + "00", "encoded_hex": "ff" + bytes(range(2, 256)).hex() + "0101"},
            {"data_hex": bytes(range(3, 256)).hex() + "0001", "encoded_hex": "fe" + bytes(range(3, 256)).hex() + "0201"},
        ],
    }


def document() -> dict:
    build()
    for seed in range(4):
        differential_vector(seed)
    doc = {
        "protocol_version": P.PROTOCOL_VERSION,
        "max_frame_len": P.MAX_FRAME_LEN,
        "max_encoded_len": P.MAX_ENCODED_LEN,
        "counter_names": list(P.COUNTER_NAMES),
        **crc_and_cobs_cases(),
        "vectors": VECTORS,
    }
    check_against_python_decoder(doc)
    return doc


def check_against_python_decoder(doc: dict) -> None:
    for v in doc["vectors"]:
        dec = P.FrameDecoder()
        got = []
        for c in v["chunks"]:
            got += dec.feed(bytes.fromhex(c))
        got_fields = [fields(f) for f in got]
        want = [f["fields"] for f in v["expect_frames"]]
        if got_fields != want or dec.counters != v["expect_counters"]:
            raise SystemExit(f"vector {v['name']}: python decoder disagrees\n got {dec.counters}\nwant {v['expect_counters']}")
    names = [v["name"] for v in doc["vectors"]]
    assert len(set(names)) == len(names)


def main() -> int:
    text = json.dumps(document(), indent=1) + "\n"
    if "--check" in sys.argv:
        if OUT.read_text() != text:
            print(f"{OUT} differs from what gen_vectors.py builds", file=sys.stderr)
            return 1
        print(f"{OUT}: up to date")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}: {len(VECTORS)} vectors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
