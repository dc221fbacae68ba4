"""The sample sessions in recordings/ do what recordings/README.md says, replayed through the CLI
with the shipped model. The expectations below are read from the README's table, so the README
and this test cannot drift apart silently."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from twitchwatch.cli import main

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "recordings" / "README.md").read_text(encoding="utf-8")
ROWS = dict(re.findall(r"^\| `([^`]+\.twr)` \| (.+?) \|$", README, flags=re.M))


def expectation(text: str) -> str:
    if "no alert expected" in text:
        return "no alert"
    if "warning/alarm expected" in text:
        return "warning or alarm"
    if "never alarmed" in text:
        return "tremor reported, no warning or alarm"
    raise AssertionError(f"README row without a stated expectation: {text}")


def test_every_sample_file_has_a_row_in_the_readme():
    files = sorted(p.name for p in (REPO / "recordings").glob("*.twr"))
    assert files and sorted(ROWS) == files


@pytest.mark.parametrize("name", sorted(ROWS))
def test_replaying_a_sample_gives_what_its_readme_row_says(name, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path))
    code = main(["replay", str(REPO / "recordings" / name), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    objs = [json.loads(line) for line in out.splitlines() if line.strip()]
    alerts = [o for o in objs if o["type"] == "alert" and o["level"] in ("warning", "alarm")]
    episodes = [o for o in objs if o["type"] == "episode"]
    want = expectation(ROWS[name])
    if want == "no alert":
        assert alerts == [], (name, alerts)
    elif want == "warning or alarm":
        assert any(a["kind"] == "rhythmic_jerking" for a in alerts), (name, objs[-1])
    else:
        assert alerts == [], (name, alerts)
        assert any(e["kind"] == "tremor" for e in episodes), (name, episodes)


def test_the_tremor_sample_is_reported_at_its_spectral_peak_near_4_hz():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "twitchwatch", "replay", str(REPO / "recordings" / "tremor.twr"), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    tremor = [x for x in lines if x.get("type") == "episode" and x.get("kind") == "tremor"]
    assert tremor and all(3.5 <= e["dominant_hz"] <= 6.5 for e in tremor), tremor  # 4-6 Hz rest tremor


def test_absurd_values_in_a_csv_become_an_invalid_samples_fault_without_numpy_warnings(tmp_path):
    import subprocess
    import sys

    rows = ["t,ax,ay,az"] + [f"{i / 100:.2f},0,0,{'1e300' if 500 <= i < 700 else '1'}" for i in range(1500)]
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(rows) + "\n")
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "twitchwatch", "replay", str(path), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    kinds = {x.get("kind") for x in lines if x.get("type") in ("fault", "alert")}
    assert "invalid_samples" in kinds or "signal_lost" in kinds, lines
