"""Bench part "core": speed of the detection core against baselines, in one run on the same data.

Figures (keys):
- ``offline_x_realtime``: replay of 1 kHz 2-channel EMG + 208 Hz 3-axis accel in 60 s blocks,
  seconds of signal per second of wall time (detector only; data generated beforehand);
- ``live_chunk_p50_us`` / ``live_chunk_p99_us``: cost of one 20 ms step of live input (the accel
  and EMG chunks of that 20 ms, window steps included), wall microseconds (CPU-time figures,
  start-up and per-process memory are in the "speed" part);
- ``naive_x_realtime``: a per-sample Python loop (biquad band-pass, rectify, envelope, threshold) over
  the same EMG; ``neurokit2_x_realtime``: ``neurokit2.emg_process`` on the same EMG, each channel
  (null when NeuroKit2 is not installed).

The simulated 10 minutes used everywhere (``bench_data``) mix rest, fasciculations, walking,
tapping and a rhythmic-jerking episode; longer replays repeat it with advancing timestamps.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from twitchwatch.core.classify import load_classifier
from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.detector import Detector
from twitchwatch.core.run import feed
from twitchwatch.core.run import run as run_detector
from twitchwatch.errors import ModelError
from twitchwatch.model import Chunk, DeviceInfo
from twitchwatch.sim import SimConfig, draw_subject, parse_scenario, simulate

BENCH_SCENARIO = "quiet:60,fasciculation:120,walking:120,tapping:60,rhythmic_jerking:60,fidget:60,running:60,quiet:60"
BLOCK_S = 60.0


def bench_data():
    """DeviceInfo and (accel g (n, 3), emg uV (m, 2)) of 10 simulated minutes."""
    rec = simulate(parse_scenario(BENCH_SCENARIO), draw_subject(7, "foot"), SimConfig(), seed=7)
    return rec.device_info(), rec.accel_g, rec.emg_uv


def make(info: DeviceInfo):
    try:
        clf = load_classifier("foot", "model")
    except ModelError:
        clf = load_classifier("foot", "baseline")
    return Detector(info, clf), clf.name


def blocks(accel, emg, fa, fe, block_s, repeats=1):
    """Chunks of ``block_s`` seconds, interleaved, the data repeated ``repeats`` times back to back."""
    dur = accel.shape[0] / fa
    for r in range(repeats):
        for t in np.arange(0.0, dur, block_s):
            a0, a1 = int(round(t * fa)), int(round(min(t + block_s, dur) * fa))
            e0, e1 = int(round(t * fe)), int(round(min(t + block_s, dur) * fe))
            yield Chunk("accel", r * dur + a0 / fa, fa, accel[a0:a1])
            yield Chunk("emg", r * dur + e0 / fe, fe, emg[e0:e1])


def offline(info, accel, emg) -> tuple[float, str]:
    det, name = make(info)
    fa, fe = info.stream("accel").rate_hz, info.stream("emg").rate_hz
    chunks = list(blocks(accel, emg, fa, fe, BLOCK_S))
    t = time.perf_counter()
    run_detector(det, chunks)
    return accel.shape[0] / fa / (time.perf_counter() - t), name


#: One live step, s: the device sends a chunk of each stream every 20 ms.
LIVE_STEP_S = 0.02


def live(info, accel, emg, seconds: float, clock=time.perf_counter_ns) -> tuple[float, float]:
    """p50 and p99 microseconds (by ``clock``: wall by default, or ``time.process_time_ns`` for CPU)
    of one LIVE_STEP_S step: an accel chunk and an EMG chunk fed to a fresh detector."""
    det, _ = make(info)
    fa, fe = info.stream("accel").rate_hz, info.stream("emg").rate_hz
    costs = []
    for i in range(int(seconds / LIVE_STEP_S)):
        a0, a1 = int(round(i * LIVE_STEP_S * fa)), int(round((i + 1) * LIVE_STEP_S * fa))
        e0, e1 = int(round(i * LIVE_STEP_S * fe)), int(round((i + 1) * LIVE_STEP_S * fe))
        ca = Chunk("accel", a0 / fa, fa, accel[a0:a1])
        ce = Chunk("emg", e0 / fe, fe, emg[e0:e1])
        t = clock()
        feed(det, ca)
        feed(det, ce)
        costs.append(clock() - t)
    us = np.array(costs) / 1000.0
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


def naive_loop(emg: np.ndarray, fs: float, seconds: float) -> float:
    """Per-sample Python: biquad band-pass per channel, rectify, one-pole envelope, threshold.

    The baseline the vectorised core is measured against, so it filters sample by sample on
    purpose (the detector's EMG band, one biquad) instead of using :mod:`twitchwatch.core.filters`."""
    from scipy import signal  # heavy (~0.7 s, issue 10): only this baseline needs it

    b, a = signal.butter(1, list(DetectorConfig().emg_band_hz), btype="bandpass", fs=fs)
    n = int(seconds * fs)
    x = emg[:n]
    t = time.perf_counter()
    for ch in range(x.shape[1]):
        x1 = x2 = y1 = y2 = env = 0.0
        count = 0
        active = False
        for v in x[:, ch].tolist():
            y = b[0] * v + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            x2, x1, y2, y1 = x1, v, y1, y
            env += 0.05 * (abs(y) - env)
            if env > 50.0 and not active:
                count += 1
            active = env > 50.0
    return seconds / (time.perf_counter() - t)


def neurokit(emg: np.ndarray, fs: float, seconds: float) -> float | None:
    try:
        import neurokit2 as nk
    except Exception:
        return None

    n = int(seconds * fs)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No events found" on quiet stretches
        for ch in range(emg.shape[1]):
            nk.emg_process(emg[:n, ch], sampling_rate=int(fs))
    return seconds / (time.perf_counter() - t)


def run(quick: bool = False) -> dict:
    info, accel, emg = bench_data()
    fe = info.stream("emg").rate_hz
    offline_x, name = offline(info, accel, emg)
    p50, p99 = live(info, accel, emg, 30.0 if quick else 180.0)
    return {
        "offline_x_realtime": offline_x,
        "live_chunk_p50_us": p50,
        "live_chunk_p99_us": p99,
        "naive_x_realtime": naive_loop(emg, fe, 5.0 if quick else 20.0),
        "neurokit2_x_realtime": neurokit(emg, fe, 10.0 if quick else 60.0),
        "core_classifier": name,
    }
