"""A disk cache of derived numpy arrays, so that start-up does not redo slow, deterministic work.

What is cached is always the output of a pure function of its key (filter coefficients designed by
scipy, the array form of a model file), so a cached value and a recomputed one are the same bytes:
the cache changes how fast the first sample is analysed, never what comes out.

Where: ``$TWITCHWATCH_CACHE`` if set (``off`` or an empty value disables the cache), else
``$XDG_CACHE_HOME/twitchwatch``, else ``~/.cache/twitchwatch``. One ``.npz`` a key, written
atomically (temporary file + rename), read without pickle. Anything that goes wrong reading or
writing (no permission, a full disk, a damaged or foreign file) is treated as a miss: the value
is computed as if there were no cache.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: Bumped when the layout of cached entries changes (old files are then simply not found).
CACHE_VERSION = 1
#: Key of the array inside each file that holds the full key text (guards against hash collisions).
_KEY_FIELD = "__key__"


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is disabled (``TWITCHWATCH_CACHE=off``)."""
    env = os.environ.get("TWITCHWATCH_CACHE")
    if env is not None:
        return None if env.strip() in ("", "off", "0") else Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "twitchwatch"


def _path(name: str, key: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(f"{CACHE_VERSION}\n{name}\n{key}".encode()).hexdigest()[:40]
    return folder / f"{name}-{digest}.npz"


def load(name: str, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under (``name``, ``key``), or None (not there, unreadable, other key)."""
    path = _path(name, key)
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if _KEY_FIELD not in z.files or str(z[_KEY_FIELD]) != key:
                return None
            return {k: z[k] for k in z.files if k != _KEY_FIELD}
    except Exception:  # missing, truncated, not a zip, permission: all a miss  # noqa: BLE001
        return None


def save(name: str, key: str, arrays: dict[str, np.ndarray]) -> bool:
    """Store ``arrays`` under (``name``, ``key``); False when it could not be written (no harm done)."""
    path = _path(name, key)
    if path is None:
        return False
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **{_KEY_FIELD: np.array(key)}, **arrays)
        os.replace(tmp, path)
        return True
    except Exception:  # read-only home, full disk, ...: the cache is an optimisation only  # noqa: BLE001
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False


def cached(name: str, key: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``compute()`` the first time, the stored arrays after that (same values, see module doc)."""
    hit = load(name, key)
    if hit is not None:
        return hit
    value = compute()
    save(name, key, value)
    return value
