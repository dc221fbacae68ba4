#!/usr/bin/env python3
"""Turn firmware/protocol/vectors.json into C tables for the firmware tests (stdlib only).

    python3 test/vectors_to_c.py protocol/vectors.json build/vectors.c

writes build/vectors.c (the tables, compiled once) and build/vectors.h (extern declarations).
"""

from __future__ import annotations

import json
import os
import sys

RESULTS = {"frame": "TW_RESULT_FRAME", "unsupported_version": "TW_RESULT_UNSUPPORTED_VERSION",
           "bad_command": "TW_RESULT_BAD_COMMAND"}


class Out:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.n = 0

    def array(self, ctype: str, values: list, prefix: str = "tv_a") -> str:
        self.n += 1
        name = f"{prefix}{self.n}"
        body = ", ".join(str(v) for v in values) if values else "0"
        self.lines.append(f"static const {ctype} {name}[] = {{{body}}};")
        return name

    def bytes_(self, data: bytes) -> str:
        return self.array("uint8_t", list(data))


def c_str(s: str) -> str:
    out = []
    for b in s.encode("utf-8"):
        ch = chr(b)
        out.append(ch if 32 <= b < 127 and ch not in '"\\?' else f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def c_float(x: float) -> str:
    return f"(float){float(x).hex()}"


def main(src: str, dst: str) -> int:
    doc = json.load(open(src))
    o = Out()
    vectors, samples, hellos, statuses, marks, acks, commands = [], [], [], [], [], [], []
    for v in doc["vectors"]:
        chunks = [bytes.fromhex(c) for c in v["chunks"]]
        data = o.bytes_(b"".join(chunks))
        lens = o.array("uint16_t", [len(c) for c in chunks])
        frames = []
        for f in v["expect_frames"]:
            payload = bytes.fromhex(f.get("payload_hex", ""))
            wire = bytes.fromhex(f.get("wire_hex", ""))
            p = o.bytes_(payload)
            w = o.bytes_(wire)
            frames.append(f"{{{RESULTS[f['result']]}, {f['version']}, {f['type']}, {f.get('ack_status', 0)}, "
                          f"{f.get('seq', 0)}u, {p}, {len(payload)}, {w}, {len(wire)}}}")
            fl = f["fields"]
            if f["result"] != "frame":
                continue
            if f["type"] in (2, 3):
                counts = [x for row in fl["counts"] for x in row]
                n = len(fl["counts"])
                ch = len(fl["counts"][0]) if n else 1
                samples.append(f"{{{fl['t_first_us']}ull, {n}, {ch}, {o.array('int16_t', counts)}, {p}, {len(payload)}}}")
            elif f["type"] == 1:
                streams = []
                for s in fl["streams"]:
                    names = "NULL"
                    if s["channel_names"]:
                        names = o.array("char *const", [c_str(x) for x in s["channel_names"]])
                    kind = "TW_KIND_ACCEL" if s["kind"] == "accel" else "TW_KIND_EMG"
                    streams.append(f"{{{kind}, {s['channels']}, {round(s['rate_hz'] * 1000)}u, {c_float(s['range'])}, "
                                   f"{c_float(s['scale'])}, {names}}}")
                hellos.append(f"{{{{{c_str(fl['placement'])}, {c_str(fl['device_id'])}, {c_str(fl['firmware_version'])}, "
                              f"{len(streams)}, {{{', '.join(streams)}}}}}, {p}, {len(payload)}}}")
            elif f["type"] == 4:
                bits = sum(1 << i for i, off in enumerate(fl["lead_off"]) if off)
                statuses.append(f"{{{{{fl['t_us']}ull, {fl['dropped_samples']}u, {fl['imu_saturation_count']}u, "
                                f"{fl['battery_mv']}, {fl['battery_pct']}, {len(fl['lead_off'])}, {bits}}}, {p}, {len(payload)}}}")
            elif f["type"] == 5:
                marks.append(f"{{{fl['t_us']}ull, {p}, {len(payload)}}}")
            elif f["type"] == 7:
                acks.append(f"{{{fl['command_seq']}u, {fl['code']}, {fl['status']}, {fl['t_us']}ull, {p}, {len(payload)}}}")
            elif f["type"] == 6:
                commands.append(f"{{{{0, {fl['code']}, {round(fl['accel_rate_hz'] * 1000)}u, "
                                f"{round(fl['emg_rate_hz'] * 1000)}u}}, {p}, {len(payload)}}}")
        fr = o.array("tv_frame_t", frames, "tv_f") if frames else "NULL"
        c = v["expect_counters"]
        counters = ", ".join(f"{c[k]}u" for k in doc["counter_names"])
        vectors.append(f"{{{c_str(v['name'])}, {data}, {lens}, {len(chunks)}, {fr}, {len(frames)}, {{{counters}}}}}")

    cobs = []
    for case in doc["cobs"]:
        d, e = bytes.fromhex(case["data_hex"]), bytes.fromhex(case["encoded_hex"])
        cobs.append(f"{{{o.bytes_(d)}, {len(d)}, {o.bytes_(e)}, {len(e)}}}")
    crcs = []
    for case in doc["crc16_ccitt_false"]:
        d = bytes.fromhex(case["data_hex"])
        crcs.append(f"{{{o.bytes_(d)}, {len(d)}, {case['crc']}}}")

    tables = [("tv_vector_t", "tv_vectors", vectors), ("tv_cobs_case_t", "tv_cobs", cobs),
              ("tv_crc_case_t", "tv_crc", crcs), ("tv_sample_case_t", "tv_samples", samples),
              ("tv_hello_case_t", "tv_hellos", hellos), ("tv_status_case_t", "tv_statuses", statuses),
              ("tv_mark_case_t", "tv_marks", marks), ("tv_ack_case_t", "tv_acks", acks),
              ("tv_command_case_t", "tv_commands", commands)]
    assert doc["counter_names"] == ["bytes", "frames", "checksum", "truncated", "oversize", "unknown_type",
                                    "unsupported_version", "malformed", "sequence_gap", "garbage_bytes"]
    header = [
        "/* Generated from firmware/protocol/vectors.json by test/vectors_to_c.py. Do not edit. */",
        "#ifndef TW_TEST_VECTORS_H", "#define TW_TEST_VECTORS_H", "",
        '#include "tv_types.h"', "",
        f"#define TV_PROTOCOL_VERSION {doc['protocol_version']}",
        f"#define TV_MAX_FRAME_LEN {doc['max_frame_len']}",
        f"#define TV_MAX_ENCODED_LEN {doc['max_encoded_len']}", "",
    ]
    for ctype, name, rows in tables:
        header.append(f"#define {name.upper()}_COUNT {len(rows)}u")
        header.append(f"extern const {ctype} {name}[{max(len(rows), 1)}];")
    header.append("\n#endif")
    source = ["/* Generated from firmware/protocol/vectors.json by test/vectors_to_c.py. Do not edit. */",
              f'#include "{os.path.basename(dst)[:-2]}.h"', "", *o.lines, ""]
    for ctype, name, rows in tables:
        source.append(f"const {ctype} {name}[{max(len(rows), 1)}] = {{\n    " + (",\n    ".join(rows) or "{0}") + "\n};")
    assert dst.endswith(".c")
    with open(dst, "w") as fh:
        fh.write("\n".join(source) + "\n")
    with open(dst[:-2] + ".h", "w") as fh:
        fh.write("\n".join(header) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
