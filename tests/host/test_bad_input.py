"""Bad input, table-driven, through the command line as a user meets it.

Every case ends with one line on stderr naming the file, device or option and the problem, a
non-zero exit, no traceback, and nothing written or overwritten (the folder holds exactly what it
held before, byte for byte).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from twitchwatch.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "recordings" / "rhythmic_jerking.twr"
RNG = np.random.default_rng(13)
RANDOM = RNG.integers(0, 256, 4096, dtype=np.uint8).tobytes()
SAMPLE_BYTES = SAMPLE.read_bytes()

#: extension -> a plausible start of a file of that format (for truncated / mislabeled cases)
FORMATS = {
    ".twr": SAMPLE_BYTES[:300],
    ".csv": b"t,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n0.02,0,0,1\n",
    ".edf": b"0       " + b"X" * 80,
    ".ts": b"@problemName x\n@timeStamps false\n@univariate true\n@classLabel true a b\n@data\n1,2,3",
    ".json": b'[{"id": 1, "datapoints": [{"dataTime": "2020-01-01T00:00:00Z", "rawData": [1,2',
    ".txt": b"0 1000 1000 1000 1000 1000 1000 1000 1000 1000 1\n10 1000",
    ".hea": b"rec 2 100 1000\nrec.dat 16 200 16 0 0 0 0 ax\n",
}

CASES: list[tuple[str, dict, list[str], str]] = []  # (id, files to create, argv, text the line must hold)


def case(cid: str, files: dict, argv: list[str], needle: str) -> None:
    CASES.append((cid, files, argv, needle))


for ext, start in FORMATS.items():
    name = f"f{ext}"
    case(f"missing{ext}", {}, ["replay", "{d}/" + name], name)
    case(f"empty{ext}", {name: b""}, ["replay", "{d}/" + name], name)
    case(f"random{ext}", {name: RANDOM}, ["replay", "{d}/" + name], name)
    case(f"truncated{ext}", {name: start[: max(1, len(start) // 2)]}, ["replay", "{d}/" + name], name)
    case(f"export-truncated{ext}", {name: start[: max(1, len(start) // 2)]},
         ["export", "{d}/" + name, "--to", "csv", "--out", "{d}/out.csv"], name)
# mislabeled: one format's content under another's extension
for a, b in ((".csv", ".edf"), (".twr", ".csv"), (".edf", ".twr"), (".json", ".csv"), (".csv", ".json"),
             (".ts", ".edf"), (".txt", ".json"), (".csv", ".ts")):
    case(f"mislabeled{a}-as{b}", {"m" + b: FORMATS[a] if a != ".twr" else SAMPLE_BYTES[:2000] + RANDOM[:8]},
         ["replay", "{d}/m" + b], "m" + b)
# forced formats that do not match the content
for fmt in ("edf", "csv", "native", "osdb", "uea", "daphnet"):
    case(f"format-{fmt}-on-random", {"r.bin": RANDOM}, ["replay", "{d}/r.bin", "--format", fmt], "r.bin")
# malformed CSV rows and values
CSV_BAD = {
    "short-row": b"t,ax,ay,az\n0,0,0,1\n0.01,0,0\n0.02,0,0,1\n",
    "cut-last-row": b"t,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n0.02,0,",
    "long-row": b"t,ax,ay,az\n0,0,0,1\n0.01,0,0,1,7\n",
    "text-value": b"t,ax,ay,az\n0,0,0,1\n0.01,0,zero,1\n",
    "no-t-column": b"x,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n",
    "no-data-columns": b"t,foo\n0,1\n0.01,1\n",
    "one-row": b"t,ax,ay,az\n0,0,0,1\n",
    "header-only": b"t,ax,ay,az\n",
    "non-uniform-t": b"t,ax,ay,az\n0,0,0,1\n0.01,0,0,1\n0.5,0,0,1\n0.51,0,0,1\n",
    "t-backwards": b"t,ax,ay,az\n0,0,0,1\n-0.01,0,0,1\n-0.02,0,0,1\n",
    "infinite-value": b"t,ax,ay,az\n0,0,0,1\n0.01,0,inf,1\n0.02,0,0,1\n",
    "binary-junk": b"t,ax,ay,az\n0,0,0,1\n\xff\xfe\x00\x01\n",
    "all-equal-t": b"t,ax,ay,az\n0,0,0,1\n0,0,0,1\n0,0,0,1\n",
}
for cid, content in CSV_BAD.items():
    case(f"csv-{cid}", {"bad.csv": content}, ["replay", "{d}/bad.csv"], "bad.csv")
# replay of folders and globs that hold no recording (issue: it used to exit 0 with "(no files)")
case("replay-empty-folder", {"empty/.keep": b""}, ["replay", "{d}/empty"], "empty")
case("replay-folder-without-recordings", {"notes/a.md": b"# hi", "notes/b.bin": RANDOM},
     ["replay", "{d}/notes"], "notes")
case("replay-batch-empty-folder-with-csv", {"empty/.keep": b""}, ["replay", "{d}/empty", "--csv", "{d}/t.csv"], "empty")
case("replay-glob-matching-nothing", {}, ["replay", "{d}/*.twr"], "*.twr")
# bad ports and devices
case("serial-missing-port", {}, ["record", "--serial", "/dev/ttyNOPE9", "--no-dashboard", "--out", "{d}/o.twr"], "/dev/ttyNOPE9")
case("serial-not-a-tty", {"plain": b"hello"}, ["record", "--serial", "{d}/plain", "--no-dashboard", "--out", "{d}/o.twr"], "plain")
case("serial-a-folder", {"dir/x": b""}, ["record", "--serial", "{d}/dir", "--no-dashboard", "--out", "{d}/o.twr"], "dir")
case("virtual-unknown-scenario", {}, ["record", "--virtual", "no_such_scenario", "--no-dashboard", "--out", "{d}/o.twr"], "no_such_scenario")
case("virtual-bad-scenario-text", {}, ["record", "--virtual", "quiet:abc", "--no-dashboard", "--out", "{d}/o.twr"], "quiet:abc")
# out-of-range options
case("duration-negative", {}, ["record", "--virtual", "quiet:5", "--duration", "-5", "--no-dashboard", "--out", "{d}/o.twr"], "--duration")
case("duration-zero", {}, ["record", "--virtual", "quiet:5", "--duration", "0", "--no-dashboard", "--out", "{d}/o.twr"], "--duration")
case("duration-nan", {}, ["record", "--virtual", "quiet:5", "--duration", "nan", "--no-dashboard", "--out", "{d}/o.twr"], "--duration")
case("speed-zero", {}, ["record", "--virtual", "quiet:5", "--speed", "0", "--no-dashboard", "--out", "{d}/o.twr"], "--speed")
case("speed-negative", {}, ["record", "--virtual", "quiet:5", "--speed", "-2", "--no-dashboard", "--out", "{d}/o.twr"], "--speed")
case("demo-port-too-big", {}, ["demo", "--dashboard-port", "99999", "--duration", "1"], "--dashboard-port")
case("demo-port-negative", {}, ["demo", "--dashboard-port", "-1", "--duration", "1"], "--dashboard-port")
case("record-port-too-big", {}, ["record", "--virtual", "quiet:5", "--dashboard-port", "70000", "--out", "{d}/o.twr"], "--dashboard-port")
case("dashboard-port-too-big", {}, ["dashboard", "--port", "99999"], "--port")
case("dashboard-public-without-token", {}, ["dashboard", "--host", "0.0.0.0", "--port", "0"], "0.0.0.0")
case("out-exists-no-force", {"exists.twr": b"keep me"}, ["record", "--virtual", "quiet:5", "--no-dashboard", "--out", "{d}/exists.twr"], "exists.twr")
case("export-out-exists", {"s.twr": SAMPLE_BYTES, "s.edf": b"keep me"}, ["export", "{d}/s.twr", "--to", "edf", "--out", "{d}/s.edf"], "s.edf")
case("export-a-folder", {"dir.twr/x": b"1"}, ["export", "{d}/dir.twr", "--to", "edf", "--out", "{d}/o.edf"], "dir.twr")
case("export-missing-file", {}, ["export", "{d}/none.twr", "--to", "csv"], "none.twr")
case("export-random-file", {"r.twr": RANDOM}, ["export", "{d}/r.twr", "--to", "edf", "--out", "{d}/r.edf"], "r.twr")
case("export-unknown-session-number", {}, ["export", "424242", "--to", "csv", "--out", "{d}/x.csv"], "424242")
case("export-to-missing-folder", {"s.twr": SAMPLE_BYTES}, ["export", "{d}/s.twr", "--to", "csv", "--out", "{d}/no/such/x.csv"], "x.csv")
case("sessions-show-unknown", {}, ["sessions", "show", "99"], "99")
case("sessions-delete-unknown", {}, ["sessions", "delete", "99", "--yes"], "99")
case("sessions-retention-negative", {}, ["sessions", "retention", "-3"], "-3")
case("sessions-prune-nonsense", {}, ["sessions", "prune", "--older-than", "soon"], "soon")


def snapshot(d: Path) -> dict:
    return {str(p.relative_to(d)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(d.rglob("*"))}


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("cid,files,argv,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_a_nonzero_exit_and_writes_nothing(cid, files, argv, needle, tmp_path, capsys, monkeypatch):
    d = tmp_path / "work"
    d.mkdir()
    home = tmp_path / "home"
    monkeypatch.setenv("TWITCHWATCH_HOME", str(home))
    for name, content in files.items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    before = snapshot(d)
    code = main([a.replace("{d}", str(d)) for a in argv])
    out, err = capsys.readouterr()
    lines = [x for x in err.splitlines() if x.strip()]
    assert code != 0, (cid, out[-300:], err[-300:])
    assert "Traceback" not in err and "Traceback" not in out
    assert lines, cid
    last = lines[-1]
    assert last.startswith("twitchwatch: error: "), (cid, err)
    assert needle in last, (cid, needle, last)
    assert all(ch.isprintable() for ch in last), (cid, last)
    assert len(lines) == 1, (cid, err)
    assert snapshot(d) == before, cid  # nothing written, nothing overwritten
    sessions = home / "sessions"
    assert not sessions.exists() or not any(sessions.iterdir()), cid  # no recording left behind
