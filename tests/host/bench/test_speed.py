"""The speed part of ``twitchwatch bench``: its goal table, and its child processes run (a quick
check of the machinery; the figures themselves are measured by ``twitchwatch bench --part speed``)."""

from __future__ import annotations

import json
import subprocess
import sys

from twitchwatch.bench import speed
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
    slow = speed._goals({"offline_x_realtime_1core": 4000.0})["speed_goals_missed"]["offline_x_realtime_1core"]
    assert slow.startswith("needs 2.00x: ") and "window features" in slow
    assert set(speed.GOALS) == {k[: -len("_goal")] for k in out if k.endswith("_goal")}


def test_the_memory_child_replays_and_reports_its_peak():
    proc = subprocess.run([sys.executable, "-c", speed._MEMORY_CHILD, "1"], env=speed._env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    peak = json.loads(proc.stdout.strip().splitlines()[-1])
    assert 20.0 < peak < 1000.0
    assert vmhwm_mb() > 0.0
