"""`twitchwatch export SESSION --to edf|csv [--out F] [--force]`.

SESSION is a native session file (``.twr``) or the number of a session in the local store.
EDF+ keeps the device's int16 counts exactly, with the detector's events, episodes and alerts,
ground truth, marks and faults as annotations; CSV has the header ``t,ax,ay,az,emg0,emg1``
(s, g, uV). See :mod:`twitchwatch.export`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from twitchwatch.errors import FileFormatError
from twitchwatch.export import export_session
from twitchwatch.replay import Progress
from twitchwatch.store import Store, default_db_path


def add_arguments(p) -> None:
    p.add_argument("session", metavar="SESSION", help="a session file (.twr) or a session number from the store")
    p.add_argument("--to", required=True, choices=("edf", "csv"), help="output format")
    p.add_argument("--out", metavar="FILE", default=None, help="output file (default: beside the session)")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")


def resolve_session(text: str) -> Path:
    p = Path(text)
    if p.exists() or not text.isdigit():
        return p

    db = default_db_path()
    if not db.exists():
        raise FileFormatError(f"{text}: no such file, and no store at {db} to look up a session number")
    store = Store(db)
    try:
        session = store.sessions.get_session(int(text))
    finally:
        store.close()
    if session is None:
        raise FileFormatError(f"{text}: no such file or session number in {db}")
    if not session.get("recording_path"):
        raise FileFormatError(f"session {text}: it has no recording file")
    return Path(session["recording_path"])


def run(args) -> int:
    session = resolve_session(args.session)
    progress = Progress(f"export {session.name} -> {args.to}")
    out = export_session(session, args.to, args.out, force=args.force, progress=lambda f: progress.update(f))
    progress.done()
    print(f"wrote {out}", file=sys.stderr)
    return 0
