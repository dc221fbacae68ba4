"""The outputs of ``twitchwatch replay --json`` on every sample recording and real file, as one
SHA-256 per file, so a refactor or a speed-up that must not change the detector's output can be
checked against outputs saved before the change (``tests/host/data/replay_outputs.json``).

Wall-clock fields (``wall_s``, ``x_realtime``) are dropped and the ``file`` field is made relative
to its root, so the digests do not depend on the machine or the checkout's location. Only digests
are saved: nothing of the real recordings is copied into the repository.

Regenerate (only when a change is meant to alter outputs, with the evaluation shown in the commit)::

    .venv/bin/python tests/host/replay_outputs.py
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import multiprocessing
import sys
from pathlib import Path

from twitchwatch.batch import expand_paths
from twitchwatch.errors import TwitchwatchError
from twitchwatch.replay import replay_file

REPO = Path(__file__).resolve().parents[2]
SAVED = REPO / "tests" / "host" / "data" / "replay_outputs.json"
ROOTS = {"recordings": REPO / "recordings", "real": REPO.parent / "shared" / "data" / "real"}
#: Fields of the summary line that measure the machine, not the detector.
WALL_FIELDS = ("wall_s", "x_realtime")


def files(root: Path) -> list[str]:
    """Every file ``twitchwatch replay ROOT`` would replay, relative to ``root``, sorted."""
    return sorted(str(Path(p).relative_to(root)) for p in expand_paths([str(root)]).files)


def digest(job: tuple[str, str]) -> tuple[str, str]:
    """``(key, sha256)`` of one file's replay output; a file that cannot be read is digested by
    its error line instead."""
    root_name, rel = job
    root = ROOTS[root_name]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            replay_file(root / rel, as_json=True, progress=False, note=lambda text: None)
        lines = []
        for line in out.getvalue().splitlines():
            obj = json.loads(line)
            if obj.get("type") == "summary":
                for key in WALL_FIELDS:
                    obj.pop(key, None)
                obj["file"] = rel
            lines.append(json.dumps(obj, sort_keys=True))
        text = "\n".join(lines)
    except TwitchwatchError as e:
        text = "error: " + str(e).replace(str(root), "ROOT")
    return f"{root_name}/{rel}", hashlib.sha256(text.encode()).hexdigest()


def digests(roots: dict[str, Path] = ROOTS, processes: int = 2) -> dict[str, str]:
    """``{"recordings/walk.twr": sha256, "real/...": sha256, ...}`` for every root that exists."""
    jobs = [(name, rel) for name, root in roots.items() if root.is_dir() for rel in files(root)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return dict(pool.map(digest, jobs, chunksize=8))


if __name__ == "__main__":
    if not ROOTS["real"].is_dir():
        sys.exit(f"replay_outputs: {ROOTS['real']}: real recordings not found; not saving a partial set")
    found = digests()
    SAVED.write_text(json.dumps(found, indent=0, sort_keys=True) + "\n")
    print(f"saved {len(found)} digests to {SAVED}")
