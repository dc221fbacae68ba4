"""The speed part of ``twitchwatch bench``: its goal table, and its child processes run (a quick
check of the machinery; the figures themselves are measured by ``twitchwatch bench --part speed``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from twitchwatch.bench import speed
from twitchwatch.bench.core import bench_data
from twitchwatch.bench.stages import STAGES, cpu_shares
from twitchwatch.bench.peak import vmhwm_mb


def test_goals_list_each_bound_and_which_hold():
    figures = {"startup_over_python_s": 0.4, "live_chunk_p99_cpu_us": 1600.0, "offline_x_realtime_1core": 9000.0,
               "replay_24h_peak_mb": 250.0}
    out = speed._goals(figures)
    assert out["startup_over_python_s_goal"] == "<= 0.5" and out["replay_24h_peak_mb_goal"] == "< 250"
    assert out["speed_goals_met"] == ["startup_over_python_s", "offline_x_realtime_1core"]
    missed = out["speed_goals_missed"]
    assert set(missed) == {"live_chunk_p99_cpu_us", "replay_24h_peak_mb"}  # unmeasured goals are neither
    assert missed["live_chunk_p99_cpu_us"] == "needs 1.07x"
    shares = {"filters": 0.1, "events": 0.15, "window_features": 0.3, "seizure_model_features": 0.17,
              "classifiers": 0.08, "other": 0.2}
    slow = speed._goals({"offline_x_realtime_1core": 4000.0, "offline_cpu_share": shares})["speed_goals_missed"]
    assert slow["offline_x_realtime_1core"].startswith("needs 2.00x: ")
    assert "window features take 30%" in slow["offline_x_realtime_1core"]
    # without shares measured in the same run, no reason quoting numbers from elsewhere
    assert speed._goals({"offline_x_realtime_1core": 4000.0})["speed_goals_missed"]["offline_x_realtime_1core"] == "needs 2.00x"
    assert set(speed.GOALS) == {k[: -len("_goal")] for k in out if k.endswith("_goal")}


def test_the_memory_child_replays_and_reports_its_peak():
    proc = subprocess.run([sys.executable, "-c", speed._MEMORY_CHILD, "1"], env=speed._env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    peak = json.loads(proc.stdout.strip().splitlines()[-1])
    assert 20.0 < peak < 1000.0
    assert vmhwm_mb() > 0.0


def test_the_cpu_shares_cover_every_stage_and_sum_to_one():
    info, accel, emg = bench_data()
    n = int(120 * info.stream("accel").rate_hz)
    m = int(120 * info.stream("emg").rate_hz)
    shares = cpu_shares(info, accel[:n], emg[:m])
    assert set(shares) == set(STAGES) | {"other"}
    assert all(v > 0.0 for k, v in shares.items() if k != "other"), shares  # every wrapper was called
    assert sum(shares.values()) == pytest.approx(1.0, abs=0.01)
    # the wrappers are gone afterwards
    assert all(not getattr(vars(owner)[name], "__name__", "").startswith("timed")
               for targets in STAGES.values() for owner, name in targets)


def test_bench_speed_quick_prints_every_key_with_its_goal():
    """The command the README's speed figures come from, run quickly (figures not asserted)."""
    proc = subprocess.run([sys.executable, "-m", "twitchwatch", "bench", "--part", "speed", "--quick", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in speed.GOALS:
        assert isinstance(out[key], float) and out[key] > 0, key
        assert out[f"{key}_goal"] == f"{speed.GOALS[key][0]} {speed.GOALS[key][1]:g}"
    assert set(out["speed_goals_met"]) | set(out["speed_goals_missed"]) == set(speed.GOALS)
    assert sum(out["offline_cpu_share"].values()) == pytest.approx(1.0, abs=0.01)
