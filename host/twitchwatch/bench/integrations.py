"""Bench part "integrations": batch replay on worker processes, and the LSL outlet's cost.

Measured in one run:

- ``batch_jobs2_vs_jobs1``: :func:`twitchwatch.batch.run_batch` on the same files with
  ``jobs=2`` against ``jobs=1`` (wall time ratio; goal >= 1.8 on 2 cores). The files are native
  sessions at the product's rates (``batch_files`` of ``batch_file_minutes`` each, generated like
  the "replay" part's); ``batch_jobs1_x_realtime`` and ``batch_jobs2_x_realtime`` are signal
  seconds per wall second of the whole batch; ``batch_cpus`` is how many CPUs this process may use.
- ``lsl_chunk_overhead_p50_us`` / ``_p99_us``: the time :meth:`LslPublisher.on_chunk` adds per
  live chunk (20 ms of 2-channel EMG at 1 kHz or of 3-axis accel at 208 Hz, alternating, with an
  inlet connected and draining), microseconds; goal p99 <= 300 us.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from twitchwatch.batch import BatchOptions, run_batch
from twitchwatch.bench.replay import _classifier, make_long_session
from twitchwatch.lsl import LslPublisher, _pylsl
from twitchwatch.model import Chunk, DeviceInfo, StreamInfo


def _batch(quick: bool) -> dict:
    n_files = 4
    minutes = 10.0 if quick else 60.0
    classifier = _classifier()
    with tempfile.TemporaryDirectory(prefix="twitchwatch-bench-batch-") as tmp:
        files = [str(make_long_session(Path(tmp) / f"f{i}.twr", minutes / 60.0)) for i in range(n_files)]
        opts = BatchOptions(classifier=classifier)
        run_batch(files[:1], opts, jobs=1)  # warm caches (model file, imports) for both runs alike
        t = time.perf_counter()
        one = run_batch(files, opts, jobs=1)
        wall1 = time.perf_counter() - t
        t = time.perf_counter()
        two = run_batch(files, opts, jobs=2)
        wall2 = time.perf_counter() - t
    signal_s = sum(r.duration_s for r in one)
    same = [r.outcome() for r in one] == [r.outcome() for r in two]
    return {
        "batch_files": n_files,
        "batch_file_minutes": minutes,
        "batch_classifier": classifier,
        "batch_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "batch_jobs1_x_realtime": round(signal_s / wall1, 1),
        "batch_jobs2_x_realtime": round(signal_s / wall2, 1),
        "batch_jobs2_vs_jobs1": round(wall1 / wall2, 2),
        "batch_jobs2_same_rows": same,
    }


def _lsl(quick: bool) -> dict:
    import pylsl  # optional: the LSL part needs it, the rest of the bench does not

    _pylsl()
    info = DeviceInfo("bench", "", 1, "foot", (StreamInfo("accel", 208.0, 3, 16.0, 0.0, ("x", "y", "z")),
                                               StreamInfo("emg", 1000.0, 2, 1e4, 0.0, ("ta", "gc"))))
    pub = LslPublisher(f"tw-bench-{uuid.uuid4().hex[:6]}")
    pub.on_device_info(info)
    inlet = pylsl.StreamInlet(pylsl.resolve_byprop("name", pub.names.emg, 1, 10.0)[0])
    inlet.open_stream(timeout=10.0)
    rng = np.random.default_rng(1)
    n = 1000 if quick else 5000
    chunks = []
    for i in range(n):
        t = i * 0.02
        chunks.append(Chunk("emg", t, 1000.0, rng.normal(0, 20, (20, 2))))
        chunks.append(Chunk("accel", t, 208.0, rng.normal(0, 0.1, (4, 3))))
    costs = np.empty(len(chunks))
    for k, c in enumerate(chunks):
        t0 = time.perf_counter_ns()
        pub.on_chunk(c)
        costs[k] = (time.perf_counter_ns() - t0) / 1e3
        if k % 200 == 0:
            inlet.pull_chunk(timeout=0.0, max_samples=100000)
    inlet.close_stream()
    pub.close()
    return {
        "lsl_chunk_overhead_p50_us": round(float(np.percentile(costs, 50)), 1),
        "lsl_chunk_overhead_p99_us": round(float(np.percentile(costs, 99)), 1),
        "lsl_chunks_measured": len(chunks),
    }


def run(quick: bool = False) -> dict:
    return {**_batch(quick), **_lsl(quick)}


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
