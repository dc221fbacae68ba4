"""Bench part "speed": speed, start-up and memory figures, each beside its goal, measured in one run.

Keys (``<key>_goal`` beside each: the bound, with ``<=``/``>=``/``<``; ``speed_goals_met`` lists
which hold; ``speed_goals_missed`` says, for each goal that does not, by what factor and why, see
:data:`GOAL_LIMITS`):

- ``startup_over_python_s``: wall seconds of ``python -m twitchwatch replay ONE_MINUTE.twr --json``
  minus those of ``python -c pass``, median of ``STARTUP_PAIRS`` alternating pairs, on a warm
  second run (the disk cache filled). ``startup_first_run_over_python_s`` is the first run with an
  empty cache (it designs the filters and loads the skops model, then stores both), reported
  separately; ``startup_cpu_over_python_s`` the warm figure in CPU seconds.
- ``live_chunk_p99_cpu_us`` (and ``live_chunk_p50_cpu_us``): CPU microseconds (``process_time``)
  of one 20 ms step of live input (that step's accel and EMG chunks, window steps included), on the
  detector as shipped (the foot model).
- ``offline_x_realtime_1core``: seconds of signal per CPU second of a child process that reads a
  native session file (``OFFLINE_HOURS``) with :class:`~twitchwatch.recording.SessionReader` and runs
  the detector on it, BLAS limited to one thread (decode included).
  ``offline_x_realtime_1core_wall`` is the same per wall second.
- ``offline_x_realtime_2core``: the same replay with both cores allowed (BLAS threads not limited),
  seconds of signal per wall second. The detector has no parallel path for one file (see
  :data:`GOAL_LIMITS`), so this is about the 1-core figure.
- ``pipeline_over_bandpass``: CPU of the detector over CPU of the band-pass filters alone (EMG
  band-pass + notches and the accelerometer movement band-pass, with carried state, through
  :class:`~twitchwatch.core.filters.StreamingSOS`: the compiled filter when it is built, so a faster
  filter makes the denominator smaller too) on the same blocks of the same data in the same process
  (decode excluded from both).
- ``offline_cpu_share``: fraction of the detector's CPU per stage (filters, events, window
  features, seizure-model features, classifiers, other) on the bench data, measured in this run
  (:mod:`twitchwatch.bench.stages`); the reasons of ``speed_goals_missed`` quote it.
- ``replay_24h_peak_mb`` / ``replay_1h_peak_mb``: peak resident memory (``VmHWM`` from
  ``/proc/self/status``, read by each child itself: ``ru_maxrss`` would report the parent's
  high-water mark inherited across fork/exec) of fresh processes replaying 24 h and 1 h of the
  bench data in 60 s blocks (``--quick``: 2 h and 0.2 h, see ``replay_memory_hours``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from twitchwatch.bench.core import BLOCK_S, bench_data, blocks, live, make
from twitchwatch.bench.replay import make_long_session
from twitchwatch.bench.stages import cpu_shares
from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.filters import StreamingSOS, design_bandpass, design_notches
from twitchwatch.core.run import run as run_detector

#: Goals: key -> (comparison, bound).
GOALS: dict[str, tuple[str, float]] = {
    "startup_over_python_s": ("<=", 0.5),
    "live_chunk_p99_cpu_us": ("<=", 1500.0),
    "offline_x_realtime_1core": (">=", 8000.0),
    "offline_x_realtime_2core": (">=", 20000.0),
    "pipeline_over_bandpass": ("<=", 5.0),
    "replay_24h_peak_mb": ("<", 250.0),
    "replay_1h_peak_mb": ("<", 250.0),
}
#: Why a goal may be out of reach, printed with the factor it misses by (``speed_goals_missed``);
#: ``{name}`` fields are this run's CPU shares by stage (``offline_cpu_share``, bench.stages).
GOAL_LIMITS: dict[str, str] = {
    "offline_x_realtime_1core": (
        "of the detector's CPU, window features take {window_features:.0%} and the seizure model's "
        "features {seizure_model_features:.0%}: numpy FFT spectra and autocorrelations of 4 s windows "
        "every 0.5 s (8x overlap) and of 10 s of 25 Hz magnitude; compiling them bit for bit would "
        "mean re-implementing numpy's pocketfft and pairwise sums in C"),
    "offline_x_realtime_2core": (
        "no parallel path for one file: each chunk depends on the state the previous one left "
        "(filters, noise floors, context, episodes), splitting a file changes the outputs, and the "
        "core is single-threaded by design; its GIL-free parts are too small a share for threads "
        "to approach 2x"),
    "pipeline_over_bandpass": (
        "besides the band-passes, the detector spends {events:.0%} of its CPU on events, "
        "{window_features:.0%} on window features, {seizure_model_features:.0%} on the seizure "
        "model's features, {classifiers:.0%} on the forests and {other:.0%} on block statistics, "
        "buffers and episodes; each would have to cost about as much as the band-pass itself"),
}
#: Alternating (python -c pass, replay) pairs for the start-up median.
STARTUP_PAIRS = 5
#: Length of the file replayed for the offline figures, hours (``--quick``: a quarter of it).
OFFLINE_HOURS = 1.0
#: Environment that keeps numpy's BLAS on one thread (the 1-core figures).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _env(extra: dict | None = None) -> dict:
    """The environment of a child: this package first on the path, plus ``extra``."""
    host = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join([host] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return {**os.environ, "PYTHONPATH": path, "PYTHONWARNINGS": "ignore", **(extra or {})}


# -- start-up ------------------------------------------------------------------------------------
def startup(tmp: Path, pairs: int) -> dict:
    sample = make_long_session(tmp / "one_minute.twr", 1.0 / 60.0)
    env = _env({"TWITCHWATCH_CACHE": str(tmp / "cache")})
    replay = [sys.executable, "-m", "twitchwatch", "replay", str(sample), "--json"]
    empty = [sys.executable, "-c", "pass"]

    def timed(cmd) -> tuple[float, float]:
        before = os.times()
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t
        after = os.times()
        return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)

    first, _ = timed(replay)  # empty cache: designs and the model are computed and stored
    base_first, _ = timed(empty)
    walls, cpus = [], []
    for _ in range(pairs):
        w0, c0 = timed(empty)
        w1, c1 = timed(replay)
        walls.append(w1 - w0)
        cpus.append(c1 - c0)
    return {
        "startup_over_python_s": round(statistics.median(walls), 3),
        "startup_cpu_over_python_s": round(statistics.median(cpus), 3),
        "startup_first_run_over_python_s": round(first - base_first, 3),
    }


# -- live ------------------------------------------------------------------------------------------
# -- offline -------------------------------------------------------------------------------------
_OFFLINE_CHILD = r"""
import json, sys, time
from twitchwatch.bench.core import make
from twitchwatch.core.run import run
from twitchwatch.recording import SessionReader
reader = SessionReader(sys.argv[1])
info = reader.device_info
det, _ = make(info)
t, c = time.perf_counter(), time.process_time()
run(det, SessionReader(sys.argv[1]).items(60.0))
print(json.dumps({"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c}))
"""


def offline(path: Path, hours: float) -> dict:
    out = {}
    for name, extra in (("1core", ONE_THREAD), ("2core", {})):
        proc = subprocess.run([sys.executable, "-c", _OFFLINE_CHILD, str(path)], env=_env(extra),
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"offline replay child failed: {proc.stderr.strip().splitlines()[-1:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        out[name] = r
    signal_s = hours * 3600.0
    return {
        "offline_x_realtime_1core": round(signal_s / out["1core"]["cpu_s"], 1),
        "offline_x_realtime_1core_wall": round(signal_s / out["1core"]["wall_s"], 1),
        "offline_x_realtime_2core": round(signal_s / out["2core"]["wall_s"], 1),
        "offline_hours": hours,
    }


def pipeline_over_bandpass(info, accel, emg, repeats: int = 3) -> dict:
    """CPU of the detector / CPU of the band-pass filters alone, same 60 s blocks (best of repeats)."""
    c = DetectorConfig()
    fa, fe = info.stream("accel").rate_hz, info.stream("emg").rate_hz
    chunks = list(blocks(accel, emg, fa, fe, BLOCK_S))
    pipe = band = float("inf")
    for _ in range(repeats):
        det, _ = make(info)
        t = time.process_time()
        run_detector(det, chunks)
        pipe = min(pipe, time.process_time() - t)
        emg_band = StreamingSOS(np.concatenate([
            design_bandpass(c.emg_band_hz, fe, c.filter_order, c.nyquist_fraction, "EMG band"),
            design_notches(c.mains_hz, fe, c.notch_q, c.nyquist_fraction)]), emg.shape[1])
        acc_band = StreamingSOS(design_bandpass(c.accel_move_band_hz, fa, c.filter_order, c.nyquist_fraction, "move"),
                                accel.shape[1])
        t = time.process_time()
        for ch in chunks:
            (acc_band if ch.stream == "accel" else emg_band)(np.asarray(ch.samples, dtype=float))
        band = min(band, time.process_time() - t)
    return {"pipeline_over_bandpass": round(pipe / band, 2), "pipeline_cpu_s": round(pipe, 4),
            "bandpass_cpu_s": round(band, 4)}


# -- memory --------------------------------------------------------------------------------------
_MEMORY_CHILD = r"""
import json, sys
from twitchwatch.bench.core import bench_data, blocks, make
from twitchwatch.bench.peak import vmhwm_mb
from twitchwatch.core.run import run
info, accel, emg = bench_data()
det, _ = make(info)
fa, fe = info.stream("accel").rate_hz, info.stream("emg").rate_hz
run(det, blocks(accel, emg, fa, fe, 60.0, int(sys.argv[1])))
print(json.dumps(vmhwm_mb()))
"""


def replay_peak_mb(hours: float) -> float:
    """VmHWM (MB) of a fresh process replaying ``hours`` of the bench data in 60 s blocks."""
    repeats = max(1, int(round(hours * 6)))  # the bench data is 10 minutes long
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(repeats)], env=_env(),
                         capture_output=True, text=True, check=True)
    return round(float(json.loads(out.stdout.strip().splitlines()[-1])), 1)


def _goals(figures: dict) -> dict:
    """``<key>_goal`` for each goal, ``speed_goals_met`` (keys) and ``speed_goals_missed`` (key ->
    "needs N.NNx: why"; N the factor the figure is off by, the reason from :data:`GOAL_LIMITS`)."""
    out, met, missed = {}, [], {}
    for key, (op, bound) in GOALS.items():
        out[f"{key}_goal"] = f"{op} {bound:g}"
        v = figures.get(key)
        if v is None:
            continue
        if {"<=": v <= bound, ">=": v >= bound, "<": v < bound}[op]:
            met.append(key)
        else:
            factor = bound / v if op == ">=" and v > 0 else v / bound if bound > 0 else float("inf")
            why = GOAL_LIMITS.get(key, "")
            shares = figures.get("offline_cpu_share")
            if "{" in why and shares is None:
                why = ""  # no measured shares in this run: no reason with numbers from elsewhere
            missed[key] = f"needs {factor:.2f}x" + (f": {why.format(**shares) if shares else why}" if why else "")
    out["speed_goals_met"] = met
    out["speed_goals_missed"] = missed
    return out


def run(quick: bool = False) -> dict:
    info, accel, emg = bench_data()
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="twitchwatch-bench-") as tmp:
        figures.update(startup(Path(tmp), 2 if quick else STARTUP_PAIRS))
        p50, p99 = live(info, accel, emg, 30.0 if quick else 180.0, clock=time.process_time_ns)
        figures.update({"live_chunk_p50_cpu_us": round(p50, 1), "live_chunk_p99_cpu_us": round(p99, 1)})
        hours = OFFLINE_HOURS / 4 if quick else OFFLINE_HOURS
        path = make_long_session(Path(tmp) / "offline.twr", hours)
        figures.update(offline(path, hours))
    figures.update(pipeline_over_bandpass(info, accel, emg, 1 if quick else 3))
    figures["offline_cpu_share"] = cpu_shares(info, accel, emg)
    long_h, short_h = (2.0, 0.2) if quick else (24.0, 1.0)
    figures.update({"replay_24h_peak_mb": replay_peak_mb(long_h), "replay_1h_peak_mb": replay_peak_mb(short_h),
                    "replay_memory_hours": [long_h, short_h]})
    figures.update(_goals(figures))
    return figures


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
