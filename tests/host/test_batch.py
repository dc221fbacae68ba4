"""Batch replay: serial, a local process pool and a local multi-process Dask cluster give the same
rows on the same files; a worker killed mid-batch loses no file; a bad file is one row; multi-case
files replay one result per case; bad input is one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from twitchwatch.batch import BatchOptions, FileResult, expand_paths, run_batch
from twitchwatch.cli import main

REPO = Path(__file__).resolve().parents[2]
RECORDINGS = REPO / "recordings"
BASELINE = BatchOptions(classifier="baseline")
#: One small file per public dataset (where ../shared/data/real is present).
REAL_FILES = (
    "daphnet_fog/S02R01.txt",
    "uea_epilepsy/Epilepsy_TRAIN.ts",
    "osdb_seizure_samples/testDataVisualisation.json",
    "physionet_emgdb/emg_neuropathy.hea",
)


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as c:
        yield c


def sample_files() -> list[str]:
    return [str(p) for p in sorted(RECORDINGS.glob("*.twr"))]


def real_files(real_data) -> list[str]:
    return [str(real_data / f) for f in REAL_FILES if (real_data / f).exists()]


def outcomes(rows: list[FileResult]) -> list[tuple]:
    return [r.outcome() for r in rows]


def test_a_folder_expands_to_its_recordings_in_order_and_skips_other_files(tmp_path):
    shutil.copy(RECORDINGS / "walk.twr", tmp_path / "b.twr")
    shutil.copy(RECORDINGS / "tremor.twr", tmp_path / "a.twr")
    (tmp_path / "notes.txt").write_text("not a recording\n")
    (tmp_path / "README.md").write_text("# hi\n")
    found = expand_paths([str(tmp_path), str(tmp_path / "a.twr"), str(tmp_path / "*.twr")])
    assert [Path(f).name for f in found.files] == ["a.twr", "b.twr"]
    assert found.skipped == 2


def test_serial_pool_and_dask_cluster_give_identical_rows(cluster, request):
    files = sample_files()
    try:
        real = request.getfixturevalue("real_data")
        files += real_files(real)
    except pytest.skip.Exception:
        pass
    serial = run_batch(files, BASELINE, jobs=1)
    assert all(not r.problem for r in serial), [r.problem for r in serial if r.problem]
    pooled = run_batch(files, BASELINE, jobs=2)
    seen = []
    on_dask = run_batch(files, BASELINE, scheduler=cluster.scheduler_address,
                        progress=lambda done, total, f: seen.append((done, total)))
    assert outcomes(pooled) == outcomes(serial)
    assert outcomes(on_dask) == outcomes(serial)
    assert seen[-1] == (len(files), len(files))


def test_a_worker_killed_mid_batch_loses_no_files_result(cluster, tmp_path):
    from distributed import Client

    # twelve files (copies of the samples) so work is still queued when a worker dies
    files = []
    for k in range(3):
        for src in sample_files():
            dst = tmp_path / f"{k}-{Path(src).name}"
            shutil.copy(src, dst)
            files.append(str(dst))
    serial = run_batch(files, BASELINE, jobs=1)
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        pids = client.run(os.getpid)
        killed = []

        def kill_one_busy_worker(done, total, _file):
            if killed or done >= total:
                return
            busy = [w for w, keys in client.processing().items() if keys and w in pids] or list(pids)
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(busy[0])

        rows = run_batch(files, BASELINE, scheduler=cluster.scheduler_address, progress=kill_one_busy_worker)
        client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next test
    assert killed
    assert outcomes(rows) == outcomes(serial)
    assert not any(r.problem for r in rows)


def test_a_bad_file_is_one_row_and_the_batch_goes_on(tmp_path, capsys):
    bad = tmp_path / "broken.twr"
    bad.write_bytes(b"TWATCH1\n\x89TW")
    csv_out, jsonl_out = tmp_path / "table.csv", tmp_path / "table.jsonl"
    code = main(["replay", str(RECORDINGS / "walk.twr"), str(bad), str(tmp_path / "missing.twr"),
                 str(RECORDINGS / "tremor.twr"), "--classifier", "baseline", "--jobs", "2",
                 "--csv", str(csv_out), "--jsonl", str(jsonl_out)])
    out, err = capsys.readouterr()
    assert code == 1  # some files had a problem; their rows say which
    assert "Traceback" not in err
    rows = [json.loads(line) for line in jsonl_out.read_text().splitlines()]
    assert [Path(r["file"]).name for r in rows] == ["walk.twr", "broken.twr", "missing.twr", "tremor.twr"]
    assert rows[0]["problem"] == "" and rows[0]["duration_s"] > 0 and rows[3]["problem"] == ""
    assert "corrupt" in rows[1]["problem"] or "truncated" in rows[1]["problem"]
    assert "no such file" in rows[2]["problem"]
    header = csv_out.read_text().splitlines()[0].split(",")
    assert header[:10] == ["file", "case", "format", "duration_s", "samples", "events", "episodes", "alerts",
                           "faults", "problem"]
    assert "walk.twr" in out and "no such file" in out and "4 row(s)" in out


def test_an_unreachable_scheduler_is_one_line_exit_2(capsys):
    code = main(["replay", str(RECORDINGS / "walk.twr"), "--classifier", "baseline",
                 "--scheduler", "tcp://127.0.0.1:9"])
    _, err = capsys.readouterr()
    lines = [x for x in err.splitlines() if x.strip()]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("twitchwatch: error: scheduler tcp://127.0.0.1:9: cannot connect")


def test_a_file_of_many_events_replays_one_result_per_event(real_data, capsys):
    from twitchwatch.sources.files import open_file

    path = real_data / "osdb_seizure_samples" / "testDataVisualisation.json"
    cases = open_file(path).cases()
    assert len(cases) > 1
    code = main(["replay", str(path), "--json", "--classifier", "baseline"])
    out, _ = capsys.readouterr()
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    summaries = [o for o in lines if o["type"] == "summary"]
    assert [s["case"] for s in summaries] == [c.name for c in cases]
    assert all("case" in o for o in lines)
    # each event on its own clock: no day-long timeline, no gap faults between events
    assert max(s["duration_s"] for s in summaries) < 3600
    assert not any(o["type"] == "fault" and o["kind"] == "gap" and o["end"] - o["start"] > 3600 for o in lines)
