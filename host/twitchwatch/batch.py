"""Batch replay: many files through the detector, on local worker processes or a Dask cluster.

Library entry point: :func:`run_batch` (paths in, one :class:`FileResult` per file or case out, in
input order). ``twitchwatch replay PATH ... --jobs N | --scheduler ADDRESS`` calls it through
:func:`run_batch_command`.

- Paths are files, folders (searched recursively for files of a known type) and globs
  (:func:`expand_paths`). A named file is always a row; inside a folder or a glob, files that are
  not recordings (a README, a notes.txt) are skipped and counted.
- Every file is replayed by :func:`replay_path` on its own (fresh detectors, one result per case
  for multi-case files). A file that fails becomes one row whose ``problem`` says why; it never
  ends the batch.
- ``jobs > 1``: a local process pool (one file a task, one BLAS/OpenMP thread a worker so ``N``
  workers use ``N`` cores). If a worker process dies, the files it had are retried in a new pool
  (at most :data:`MAX_ATTEMPTS` times) before they become problem rows.
- ``scheduler``: the same tasks on an existing ``dask.distributed`` scheduler; the workers must
  see the files at the same paths (a shared folder). Dask re-runs a task whose worker died, so a
  killed worker loses no file's result.

Results do not depend on where a file ran: a file's rows are the same serially, in a pool or on a
cluster (the detector is deterministic and each file starts from a fresh one).
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TextIO

from twitchwatch.errors import ConfigError, FileFormatError, RefuseOverwrite, TwitchwatchError
from twitchwatch.recording import format_clock
from twitchwatch.replay import Progress, ReplayOptions, replay_file
from twitchwatch.sources.files import detect_format

#: How many times a file is tried when its worker process dies (local pool).
MAX_ATTEMPTS = 3
#: Dask: how many times the scheduler re-runs a task that raised (worker deaths are re-run by
#: the scheduler itself, up to its ``allowed-failures``).
DASK_RETRIES = 2
#: Dask: how long to wait for the scheduler to answer, seconds.
SCHEDULER_TIMEOUT_S = 10.0
#: File suffixes a folder or glob search picks up (.dat is WFDB's data file: its .hea is the record).
RECORDING_SUFFIXES = (".twr", ".csv", ".edf", ".ts", ".json", ".hea", ".txt")


class SchedulerError(TwitchwatchError):
    """The Dask scheduler cannot be reached or the cluster cannot run the batch."""


@dataclass(frozen=True)
class FileResult:
    """One row of a batch: a file (or one case of a multi-case file).

    Attributes
    ----------
    file : the path as given or found
    case : the case's name (OSDB event id, UEA case) or "" for a whole file
    format : the file format read ("" when it could not be read)
    duration_s : seconds of signal replayed
    samples : samples replayed, all streams
    events, episodes, alerts, faults : what the detector reported (faults include the file's gaps)
    problem : why the file could not be replayed, or what was lost reading it; "" when all is well
    wall_s : seconds the replay took where it ran (not part of the comparison of two runs)
    """

    file: str
    case: str = ""
    format: str = ""
    duration_s: float = 0.0
    samples: int = 0
    events: int = 0
    episodes: int = 0
    alerts: int = 0
    faults: int = 0
    problem: str = ""
    wall_s: float = 0.0

    @staticmethod
    def from_summary(s: dict) -> "FileResult":
        return FileResult(file=str(s["file"]), case=str(s.get("case") or ""), format=str(s.get("format") or ""),
                          duration_s=float(s.get("duration_s") or 0.0), samples=int(s.get("samples") or 0),
                          events=int(s["events"]), episodes=int(s["episodes"]), alerts=int(s["alerts"]),
                          faults=int(s["faults"]), problem=str(s.get("problem") or ""),
                          wall_s=float(s.get("wall_s") or 0.0))

    def outcome(self) -> tuple:
        """Everything but the wall time: what two runs of the same file must agree on."""
        return tuple(v for f, v in zip(fields(self), asdict(self).values()) if f.name != "wall_s")


@dataclass(frozen=True)
class BatchOptions:
    """How to replay every file of a batch (see :class:`twitchwatch.replay.ReplayOptions`)."""

    format: str | None = None
    placement: str | None = None
    classifier: str = "model"


# ---- paths ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expanded:
    """Files to replay, in order, and how many files the folder/glob search left out."""

    files: tuple[str, ...]
    skipped: int = 0


def expand_paths(paths: Iterable[str], format: str | None = None) -> Expanded:
    """Files from files, folders (recursive) and globs; each file once, in the order given.

    A path that names a file is kept as is (if it is unreadable, its row will say so). A path that
    does not exist and is not a glob is kept too (its row says "no such file"). Inside folders and
    glob matches, only recordings of a known type are kept (``format`` given: every file).
    """

    out: list[str] = []
    seen: set[str] = set()
    skipped = 0

    def add(p: str) -> None:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)

    def add_found(p: Path) -> None:
        nonlocal skipped
        if not p.is_file():
            return
        if format is None:
            if p.suffix.lower() not in RECORDING_SUFFIXES:
                skipped += 1
                return
            try:
                detect_format(p)
            except FileFormatError:
                skipped += 1
                return
        add(str(p))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for found in sorted(q for q in p.rglob("*") if not any(part.startswith(".") for part in q.relative_to(p).parts)):
                add_found(found)
        elif p.exists():
            add(raw)
        elif glob.has_magic(raw):
            for found in sorted(glob.glob(raw, recursive=True)):
                q = Path(found)
                if q.is_dir():
                    for sub in sorted(q.rglob("*")):
                        add_found(sub)
                else:
                    add_found(q)
        else:
            add(raw)
    return Expanded(tuple(out), skipped)


# ---- one file (runs in a worker) --------------------------------------------------------------------

def replay_path(path: str, options: BatchOptions) -> tuple[FileResult, ...]:
    """Replay one file quietly: its rows. Never raises for a bad file: the row says what went wrong."""
    notes: list[str] = []
    try:
        summaries = replay_file(path, ReplayOptions(options.format, options.placement, options.classifier),
                                note=notes.append, progress=False, progress_stream=io.StringIO())
    except TwitchwatchError as exc:
        return (FileResult(file=path, problem=str(exc)),)
    except MemoryError:
        return (FileResult(file=path, problem=f"{path}: out of memory"),)
    except Exception as exc:  # a bug in a reader or the detector: this file's row, not the batch's end
        return (FileResult(file=path, problem=f"{path}: {type(exc).__name__}: {exc}"),)
    return tuple(FileResult.from_summary(s) for s in summaries)


def _limit_threads() -> None:
    """One BLAS/OpenMP thread in a worker process: N workers, N cores."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # threadpoolctl comes with scikit-learn; without it the env vars still apply
        pass


# ---- the batch ----------------------------------------------------------------------------------------

ProgressFn = Callable[[int, int, str], None]  # (files done, files in all, file just done)


def run_batch(paths: Sequence[str], options: BatchOptions = BatchOptions(), *, jobs: int = 1,
              scheduler: str | None = None, progress: ProgressFn | None = None) -> list[FileResult]:
    """Replay every file of ``paths`` (already expanded): rows in input order.

    Parameters
    ----------
    paths : files (see :func:`expand_paths`)
    options : format, placement and classifier for every file
    jobs : worker processes on this machine (1: in this process)
    scheduler : address of a Dask distributed scheduler ("tcp://host:8786"); overrides ``jobs``
    progress : called after each file with (done, total, file)

    Raises
    ------
    SchedulerError : the scheduler cannot be reached.
    """
    paths = [str(p) for p in paths]
    if jobs < 1:
        raise ConfigError(f"--jobs {jobs}: must be at least 1")
    if scheduler:
        per_file = _run_dask(paths, options, scheduler, progress)
    elif jobs == 1 or len(paths) <= 1:
        per_file = {}
        for i, p in enumerate(paths):
            per_file[i] = replay_path(p, options)
            if progress:
                progress(i + 1, len(paths), p)
    else:
        per_file = _run_pool(paths, options, jobs, progress)
    return [row for i in range(len(paths)) for row in per_file[i]]


def _run_pool(paths: list[str], options: BatchOptions, jobs: int, progress: ProgressFn | None) -> dict[int, tuple]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["twitchwatch.batch", "twitchwatch.replay", "twitchwatch.core.detector"])
    results: dict[int, tuple] = {}
    attempts = {i: 0 for i in range(len(paths))}
    pending = list(range(len(paths)))
    while pending:
        with ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=ctx,
                                 initializer=_limit_threads) as pool:
            futures = {pool.submit(replay_path, paths[i], options): i for i in pending}
            for i in pending:
                attempts[i] += 1
            retry: list[int] = []
            waiting = set(futures)
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = futures[fut]
                    try:
                        results[i] = fut.result()
                    except BrokenProcessPool:
                        if attempts[i] < MAX_ATTEMPTS:
                            retry.append(i)
                            continue
                        results[i] = (FileResult(file=paths[i], problem=f"{paths[i]}: the worker process "
                                                 f"died {attempts[i]} times replaying it"),)
                    except Exception as exc:  # e.g. a result that could not be sent back
                        results[i] = (FileResult(file=paths[i], problem=f"{paths[i]}: {type(exc).__name__}: {exc}"),)
                    if progress:
                        progress(len(results), len(paths), paths[i])
        pending = sorted(retry)
    return results


def _run_dask(paths: list[str], options: BatchOptions, address: str, progress: ProgressFn | None) -> dict[int, tuple]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise SchedulerError(f"scheduler {address}: dask.distributed is not installed ({exc})") from None
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchedulerError(f"scheduler {address}: cannot connect ({text})") from None
    results: dict[int, tuple] = {}
    try:
        futures = {}
        for i, p in enumerate(paths):
            fut = client.submit(replay_path, p, options, key=f"twitchwatch-replay-{i}-{os.getpid()}-{id(paths)}",
                                pure=False, retries=DASK_RETRIES)
            futures[fut] = i
        with client.as_current():  # as_completed finds the client of these futures
            for fut in as_completed(list(futures)):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # KilledWorker after too many deaths, a lost scheduler
                    text = str(exc).splitlines()[0] if str(exc) else ""
                    results[i] = (FileResult(file=paths[i], problem=f"{paths[i]}: on the cluster: "
                                             f"{type(exc).__name__}" + (f": {text}" if text else "")),)
                if progress:
                    progress(len(results), len(paths), paths[i])
    finally:
        client.close()
    return results


# ---- output ----------------------------------------------------------------------------------------

COLUMNS = ("file", "case", "format", "duration_s", "events", "episodes", "alerts", "faults", "problem")


def print_table(rows: Sequence[FileResult], out: TextIO) -> None:
    """The batch table: one row per file (or case), then a total."""
    if not rows:
        print("(no files)", file=out)
        return
    name_w = min(60, max(len("file"), *(len(_shown_name(r)) for r in rows)))
    print(f"{'file':<{name_w}}  {'format':<7} {'duration':>10} {'events':>7} {'episodes':>8} {'alerts':>6} "
          f"{'faults':>6}  problem", file=out)
    for r in rows:
        name = _shown_name(r)
        if len(name) > name_w:
            name = "..." + name[-(name_w - 3):]
        print(f"{name:<{name_w}}  {r.format or '-':<7} {_clock(r.duration_s):>10} {r.events:>7} {r.episodes:>8} "
              f"{r.alerts:>6} {r.faults:>6}  {r.problem or '-'}", file=out)
    failed = sum(1 for r in rows if r.problem)
    print(f"{len(rows)} row(s): {_clock(sum(r.duration_s for r in rows))} of signal, "
          f"{sum(r.events for r in rows)} events, {sum(r.episodes for r in rows)} episodes, "
          f"{sum(r.alerts for r in rows)} alerts, {sum(r.faults for r in rows)} faults; "
          f"{failed} with a problem", file=out)


def _shown_name(r: FileResult) -> str:
    return r.file + (f"#{r.case}" if r.case else "")


def _clock(s: float) -> str:
    return format_clock(s)


def write_csv(rows: Sequence[FileResult], path: str | Path) -> None:
    names = [f.name for f in fields(FileResult)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=names)
        w.writeheader()
        for r in rows:
            w.writerow(asdict(r))


def write_jsonl(rows: Sequence[FileResult], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(asdict(r)) + "\n")


def run_batch_command(args) -> int:
    """``twitchwatch replay`` in batch mode: progress on stderr, the table on stdout (JSON Lines
    rows with ``--json``), ``--csv``/``--jsonl`` files. Exit 0 when every file replayed, 1 when
    some had a problem (their rows say which); folders or globs that hold no recording at all are
    an error (:class:`~twitchwatch.errors.FileFormatError`: one line naming them, exit 2)."""
    if args.speed is not None:
        raise ConfigError("--speed paces one file; it cannot be used with a batch")
    for out in (args.csv, args.jsonl):
        if out and Path(out).exists() and not args.force:
            raise RefuseOverwrite(f"{out}: already exists; use --force to overwrite it")
    found = expand_paths(args.files, args.format)
    if not found.files:  # folders or globs holding no recording: nothing to replay is an error
        where = ", ".join(args.files)
        other = f" ({found.skipped} file(s), none of them a recording)" if found.skipped else ""
        raise FileFormatError(f"{where}: no recordings to replay{other}")
    if found.skipped:
        print(f"twitchwatch: {found.skipped} file(s) in the folders/globs are not recordings; skipped",
              file=sys.stderr)
    where = f"scheduler {args.scheduler}" if args.scheduler else f"{args.jobs or 1} job(s)"
    bar = Progress(f"replay {len(found.files)} files ({where})")
    bar.update(0.0)
    rows = run_batch(found.files, BatchOptions(args.format, args.placement, args.classifier),
                     jobs=args.jobs or 1, scheduler=args.scheduler,
                     progress=lambda done, total, _f: bar.update(done / total, f"{done}/{total}"))
    bar.done()
    if args.json:
        for r in rows:
            sys.stdout.write(json.dumps({"type": "file", **asdict(r)}) + "\n")
    else:
        print_table(rows, sys.stdout)
    if args.csv:
        write_csv(rows, args.csv)
    if args.jsonl:
        write_jsonl(rows, args.jsonl)
    return 1 if any(r.problem for r in rows) else 0
