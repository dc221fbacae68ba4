"""`twitchwatch replay PATH ... [--format F] [--placement foot|wrist] [--json] [--speed X]
[--classifier model|baseline] [--jobs N | --scheduler ADDRESS] [--csv F] [--jsonl F]`: recorded
sessions or dataset files through the detector.

One file: its events, episodes, alerts and faults (below). Several paths (files, folders, globs),
``--jobs``, ``--scheduler``, ``--csv`` or ``--jsonl``: a batch (:mod:`twitchwatch.batch`), one
progress bar for all of it and a table at the end, one row per file (or per case).

A file with several cases (an OSDB file of many events, a UEA ``.ts`` of many cases) replays each
case on its own, with a fresh detector and its own clock: one result per case, its name (the OSDB
event id, the UEA case number) in every ``--json`` line as ``"case"``.

Replay is live mode, faster: the same :class:`~twitchwatch.core.detector.Detector` gets the file's
chunks in large blocks (``--speed X`` paces them at X times real time instead).

``--json`` prints JSON Lines to stdout, one object a line, times in seconds from the first sample
of the file::

    {"type": "event", "t": .., "kind": "twitch", "channel": .., "amplitude": .., "duration": .., "stream": ..}
    {"type": "episode", "kind": "rhythmic_jerking", "start": .., "end": .., "dominant_hz": .., "max_level": ..}
    {"type": "alert", "level": "warning"|"alarm"|"fault", "kind": .., "t": .., "episode_start": ..}
    {"type": "fault", "kind": .., "start": .., "end": .., "stream": .., "detail": ..}
    {"type": "summary", "file": .., "format": .., "duration_s": .., "events": n, "episodes": n,
     "alerts": n, "faults": n, "lost_bytes": n, "problem": null|"..", "wall_s": .., "x_realtime": ..}

Without ``--json`` it prints readable tables (episodes, alerts, faults, event counts) and a
summary; progress goes to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from twitchwatch.batch import FileResult, print_table, run_batch_command
from twitchwatch.replay import ReplayOptions, replay_file


def add_arguments(p) -> None:
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="a session (.twr) or a dataset file (csv, edf, ...); several, folders or globs make a batch")
    p.add_argument("--format", default=None, help="file format (default: from extension/content): "
                   "native, csv, edf, daphnet, uea, osdb, adl, wfdb")
    p.add_argument("--placement", choices=("foot", "wrist"), default=None,
                   help="sensor placement (default: the file's own)")
    p.add_argument("--json", action="store_true", help="print JSON Lines (events, episodes, alerts, faults, summary)")
    p.add_argument("--speed", type=float, default=None, metavar="X",
                   help="pace the replay at X times real time (default: as fast as possible)")
    p.add_argument("--classifier", choices=("model", "baseline"), default="model",
                   help="the trained model (default) or the rule-based baseline")
    batch = p.add_argument_group("batch (several files)")
    where = batch.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="replay N files at once in worker processes (default 1)")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="run the batch on an existing Dask distributed cluster (tcp://host:8786)")
    batch.add_argument("--csv", metavar="FILE", default=None, help="also write the batch table as CSV")
    batch.add_argument("--jsonl", metavar="FILE", default=None, help="also write the batch table as JSON Lines")
    batch.add_argument("--force", action="store_true", help="overwrite the --csv/--jsonl files")


def options_from_args(args) -> ReplayOptions:
    return ReplayOptions(args.format, args.placement, args.classifier, args.speed)


def replay(args, progress_stream=None) -> dict:
    """Replay ``args.file``; print as asked; return the summary dict (the last case's, for a file
    of several cases; :func:`replay_file` returns them all)."""
    summaries = replay_file(args.file, options_from_args(args), as_json=args.json,
                            progress_stream=progress_stream, tables=not args.json)
    if not args.json and len(summaries) > 1:
        print_table([FileResult.from_summary(s) for s in summaries], sys.stdout)
    return summaries[-1]


def is_batch(args) -> bool:
    """Several paths, a folder or a glob, or any batch option: a batch run."""
    if len(args.files) != 1 or args.jobs is not None or args.scheduler or args.csv or args.jsonl:
        return True
    only = Path(args.files[0])
    return only.is_dir() or (not only.exists() and any(c in args.files[0] for c in "*?["))


def run(args) -> int:
    if not is_batch(args):
        args.file = args.files[0]
        replay(args)
        return 0
    return run_batch_command(args)
