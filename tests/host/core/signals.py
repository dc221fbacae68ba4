"""Small synthetic signals for the core's unit tests (independent of the simulator)."""

from __future__ import annotations

import numpy as np

from twitchwatch.model import Chunk, DeviceInfo, StreamInfo

ACCEL_HZ, EMG_HZ = 208.0, 1000.0


def device(accel_hz=ACCEL_HZ, accel_channels=3, emg_hz=EMG_HZ, emg_channels=2) -> DeviceInfo:
    streams = []
    if accel_channels:
        names = ("x", "y", "z") if accel_channels == 3 else ("magnitude",)
        streams.append(StreamInfo("accel", accel_hz, accel_channels, 16.0, 0.0, names))
    if emg_channels:
        streams.append(StreamInfo("emg", emg_hz, emg_channels, 5000.0, 0.0, ("ta", "gc")[:emg_channels]))
    return DeviceInfo("test", "0", 1, "foot", tuple(streams), "test:synthetic")


def recording(seconds=40.0, seed=0, jerks=(20.0, 32.0, 2.0), fasciculations=(2.0, 18.0, 0.5), accel_hz=ACCEL_HZ,
              emg_hz=EMG_HZ):
    """Rest with Poisson fasciculations, then clonic-like jerking (co-activated 250 ms EMG bursts).

    Returns accel (n, 3) g, emg (m, 2) uV, fasciculation times (s), jerk times (s).
    """
    rng = np.random.default_rng(seed)
    na, ne = int(seconds * accel_hz), int(seconds * emg_hz)
    acc = rng.normal(0, 0.002, (na, 3))
    acc[:, 2] += 1.0
    emg = rng.normal(0, 4.0, (ne, 2))
    lo, hi, rate = fasciculations
    times = lo + np.cumsum(rng.exponential(1.0 / rate, int((hi - lo) * rate * 3)))
    times = times[times < hi]
    for t in times:
        i = int(t * emg_hz)
        emg[i : i + 8, 0] += 150.0 * np.hanning(8)
    j0, j1, f = jerks
    jerk_times = np.arange(j0, j1, 1.0 / f)
    for t in jerk_times:
        i = int(t * emg_hz)
        emg[i : i + 250] += rng.normal(0, 150.0, (250, 2))
        k = int(t * accel_hz)
        n = int(0.15 * accel_hz)
        acc[k : k + n, 0] += 0.6 * np.sin(np.linspace(0, 2 * np.pi, n))
    return acc, emg, times, jerk_times


def chunks(acc, emg, cuts_a, cuts_e, accel_hz=ACCEL_HZ, emg_hz=EMG_HZ):
    """Chunks of both streams cut at the given sample indices, interleaved in time order."""
    out = []
    for kind, data, cuts, rate in (("accel", acc, cuts_a, accel_hz), ("emg", emg, cuts_e, emg_hz)):
        if data is None:
            continue
        edges = [0, *sorted(set(int(c) for c in cuts if 0 < c < len(data))), len(data)]
        for a, b in zip(edges[:-1], edges[1:]):
            out.append(Chunk(kind, a / rate, rate, data[a:b]))
    out.sort(key=lambda c: (c.t_end_s, c.stream))
    return out
