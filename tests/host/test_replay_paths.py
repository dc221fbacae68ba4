"""One code path from a file to the detector's outputs: ``twitchwatch replay --json``, the library
entry point :func:`twitchwatch.replay.replay_file` and a direct :func:`twitchwatch.core.run.run`
over the same file give the same results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twitchwatch.cli import main
from twitchwatch.core.detector import make_detector
from twitchwatch.core.run import run
from twitchwatch.replay import REPLAY_BLOCK_S, ReplayOptions, open_source, replay_file

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted((REPO / "recordings").glob("*.twr"))


def without_wall_times(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in o.items() if k not in ("wall_s", "x_realtime")} for o in lines]


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("path", SAMPLES[:2], ids=lambda p: p.name)
def test_the_command_the_library_and_a_direct_run_agree(path, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path))
    assert main(["replay", str(path), "--json"]) == 0
    cli = json_lines(capsys.readouterr().out)

    summaries = replay_file(path, ReplayOptions(), as_json=True, progress=False)
    lib = json_lines(capsys.readouterr().out)
    assert without_wall_times(lib) == without_wall_times(cli)
    assert without_wall_times(summaries) == without_wall_times(cli[-1:])

    src = open_source(path)
    direct = run(make_detector(src.device_info), src.items(block_s=REPLAY_BLOCK_S))
    summary = cli[-1]
    assert summary["episodes"] == len(direct.episodes) and summary["alerts"] == len(direct.alerts)
    assert summary["events"] == len(direct.events)
    t0 = src.t_start_s
    alerts = [(o["level"], o["kind"], o["t"]) for o in cli if o["type"] == "alert"]
    assert alerts == [(a.level, a.kind, round(a.t_s - t0, 4)) for a in direct.alerts]
