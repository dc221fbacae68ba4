"""Protocol part of `twitchwatch bench`: decoder throughput against the device's own byte rate.

A realistic byte stream at the default settings (accel 208 Hz x 3 in blocks of 26, EMG 1000 Hz x 2
in blocks of 50, STATUS every 5 s, one HELLO) is encoded, then decoded in serial-sized (4096 B)
and BLE-notification-sized (244 B) chunks. Figures are medians of repeats within one run.

Keys
----
protocol_device_bytes_per_s : wire bytes per second the device sends at the defaults
protocol_decode_mb_s : decode throughput, 4096-byte chunks, MB/s (1e6 bytes)
protocol_decode_x_device_rate : that throughput as a multiple of the device byte rate (goal >= 1000)
protocol_decode_cpu_x_device_rate : the same per CPU second of this process (process_time): less
    sensitive to other processes on a shared machine than the wall-clock figure
protocol_decode_ble_x_device_rate : the wall-clock figure with 244-byte chunks
protocol_encode_mb_s : encode throughput of the same frames, MB/s of wire bytes
protocol_decode_vs_encode : decode throughput / encode throughput (same run, same bytes)
protocol_stream_s : seconds of device time in the benchmark stream
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from twitchwatch import protocol as P
from twitchwatch.model import StreamInfo

ACCEL_RATE_HZ = 208.0  # default accel rate, PROTOCOL.md section 3
EMG_RATE_HZ = 1000.0  # default EMG rate
ACCEL_BLOCK = 26  # samples per ACCEL frame at the default FIFO watermark
EMG_BLOCK = 50  # samples per EMG frame
STATUS_EVERY_S = 5.0
ACCEL_SCALE_G = 16.0 / 32768  # +-16 g full scale
EMG_SCALE_UV = 2500.0 / 32768  # example analog front end: +-2.5 mV at the ADC


def build_frames(duration_s: float, seed: int = 0) -> list:
    """Frames a device sends in ``duration_s`` at the defaults, in send order (by device time)."""
    rng = np.random.default_rng(seed)
    n_acc = int(duration_s * ACCEL_RATE_HZ) // ACCEL_BLOCK * ACCEL_BLOCK
    n_emg = int(duration_s * EMG_RATE_HZ) // EMG_BLOCK * EMG_BLOCK
    # Foot at rest: gravity on z plus 0.02 g noise; EMG: 10 uV rms background.
    acc = np.column_stack([rng.normal(0, 0.02, n_acc), rng.normal(0, 0.02, n_acc), rng.normal(1, 0.02, n_acc)])
    acc_counts = np.round(acc / ACCEL_SCALE_G).astype(np.int16)
    emg_counts = np.round(rng.normal(0, 10.0, (n_emg, 2)) / EMG_SCALE_UV).astype(np.int16)
    timed: list[tuple[int, object]] = []
    hello = P.Hello(0, "tw-bench", "0.1.0", "foot", (
        StreamInfo("accel", ACCEL_RATE_HZ, 3, 16.0, ACCEL_SCALE_G, ("x", "y", "z")),
        StreamInfo("emg", EMG_RATE_HZ, 2, 2500.0, float(np.float32(EMG_SCALE_UV)), ("tibialis_anterior", "gastrocnemius")),
    ))
    timed.append((0, hello))
    for k, i in enumerate(range(0, n_acc, ACCEL_BLOCK)):
        t = int((i + ACCEL_BLOCK) * 1e6 / ACCEL_RATE_HZ)  # sent when the block is complete
        timed.append((t, P.SampleBlock("accel", k, int(i * 1e6 / ACCEL_RATE_HZ), acc_counts[i:i + ACCEL_BLOCK])))
    for k, i in enumerate(range(0, n_emg, EMG_BLOCK)):
        t = int((i + EMG_BLOCK) * 1e6 / EMG_RATE_HZ)
        timed.append((t, P.SampleBlock("emg", k, int(i * 1e3), emg_counts[i:i + EMG_BLOCK])))
    for k in range(int(duration_s / STATUS_EVERY_S)):
        t = int((k + 1) * STATUS_EVERY_S * 1e6)
        timed.append((t, P.StatusFrame(k, t, 3900, 90, 0, (False, False), 0)))
    timed.sort(key=lambda x: x[0])
    return [f for _, f in timed]


def _median_time(fn, repeats: int) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of ``fn()`` over ``repeats`` runs."""
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        fn()
        wall.append(time.perf_counter_ns() - t0)
        cpu.append(time.process_time_ns() - c0)
    return statistics.median(wall) / 1e9, statistics.median(cpu) / 1e9


def _decode_all(wire: bytes, chunk: int) -> int:
    dec = P.FrameDecoder()
    n = 0
    for i in range(0, len(wire), chunk):
        n += len(dec.feed(wire[i:i + chunk]))
    return n


def run(quick: bool = False) -> dict:
    duration_s = 20.0 if quick else 120.0
    repeats = 3 if quick else 5
    frames = build_frames(duration_s)
    wire = b"".join(P.encode(f) for f in frames)
    device_rate = len(wire) / duration_s
    assert _decode_all(wire, 4096) == len(frames)  # the figures below are of a correct decode

    t_enc, _ = _median_time(lambda: [P.encode(f) for f in frames], repeats)
    t_dec, cpu_dec = _median_time(lambda: _decode_all(wire, 4096), repeats)
    t_ble, _ = _median_time(lambda: _decode_all(wire, 244), repeats)
    return {
        "protocol_device_bytes_per_s": round(device_rate, 1),
        "protocol_decode_mb_s": len(wire) / t_dec / 1e6,
        "protocol_decode_x_device_rate": len(wire) / t_dec / device_rate,
        "protocol_decode_cpu_x_device_rate": len(wire) / cpu_dec / device_rate,
        "protocol_decode_ble_x_device_rate": len(wire) / t_ble / device_rate,
        "protocol_encode_mb_s": len(wire) / t_enc / 1e6,
        "protocol_decode_vs_encode": t_enc / t_dec,
        "protocol_stream_s": duration_s,
    }
