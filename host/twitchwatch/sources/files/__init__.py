"""File readers: every recording format as the same source of chunks.

``open_file(path, format=None, placement=None) -> FileSource``. The format is detected from the
extension and, for ``.txt``, the content (Daphnet rows have 11 numbers, ADL rows 3 codes 0..63);
``format`` overrides detection. A missing, misidentified, corrupt or truncated file raises
:class:`~twitchwatch.errors.FileFormatError` with one line naming the file and the problem.

Formats: ``native`` (twitchwatch sessions), ``csv``, ``edf``, ``daphnet``, ``uea``, ``osdb``,
``adl``, ``wfdb``. Placement defaults to the dataset's (Daphnet ankle; UEA, OSDB and ADL wrist;
WFDB emgdb tibialis anterior = foot device; CSV/EDF foot) unless ``placement`` overrides it.
"""

from __future__ import annotations

from pathlib import Path

from twitchwatch.errors import FileFormatError

from .base import ArraySource, Case, FileSource, Segment

FORMATS: tuple[str, ...] = ("native", "csv", "edf", "daphnet", "uea", "osdb", "adl", "wfdb")
#: Extensions of native session files (helper D's recording module may declare its own).
NATIVE_SUFFIXES = (".twr", ".tws", ".twsession")
EXTENSIONS = {".csv": "csv", ".edf": "edf", ".ts": "uea", ".json": "osdb", ".hea": "wfdb", ".dat": "wfdb"}

__all__ = ["FORMATS", "ArraySource", "Case", "FileSource", "Segment", "detect_format", "open_file"]


def _native_suffixes() -> tuple[str, ...]:
    try:
        from twitchwatch import recording
    except ImportError:
        return NATIVE_SUFFIXES
    own = getattr(recording, "SUFFIX", None) or getattr(recording, "EXTENSION", None)
    return NATIVE_SUFFIXES + ((own,) if isinstance(own, str) else tuple(own or ()))


def _sniff_txt(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None
    lines = [ln for ln in head.decode("latin-1").splitlines()[:-1] if ln.strip()] or head.decode("latin-1").split("\n")[:1]
    try:
        rows = [[float(v) for v in ln.split()] for ln in lines[:20]]
    except ValueError:
        raise FileFormatError(f"{path}: .txt is neither Daphnet (11 numbers a row) nor ADL (3 codes a row)") from None
    widths = {len(r) for r in rows}
    if widths == {11}:
        return "daphnet"
    if widths == {3} and all(0 <= v <= 63 and v == int(v) for r in rows for v in r):
        return "adl"
    raise FileFormatError(f"{path}: .txt is neither Daphnet (11 numbers a row) nor ADL (3 codes 0..63 a row)")


def detect_format(path: Path) -> str:
    """The format name for ``path`` from its extension and, for .txt, its first lines."""
    suffix = path.suffix.lower()
    if suffix in _native_suffixes():
        return "native"
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix == ".txt":
        return _sniff_txt(path)
    from .native import looks_native

    if looks_native(path):
        return "native"
    raise FileFormatError(f"{path}: unknown file type {suffix or '(no extension)'}; "
                          f"use --format {'|'.join(FORMATS)}")


def open_file(path, format: str | None = None, placement: str | None = None) -> FileSource:
    """Open a recording of any supported format.

    Parameters
    ----------
    path : file path (for WFDB, the .hea or the .dat)
    format : one of :data:`FORMATS`, or None to detect it
    placement : "foot", "ankle" or "wrist" to override the dataset's own placement

    Returns
    -------
    FileSource with ``device_info``, ``annotations``, ``items(block_s)``, ``cases()`` and async
    iteration (DeviceInfo first).
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a folder, not a recording file")
    fmt = format.lower() if format else detect_format(path)
    if fmt not in FORMATS:
        raise FileFormatError(f"{path}: unknown format {format!r} (known: {', '.join(FORMATS)})")
    if fmt == "native":
        from .native import read_native
        return read_native(path, placement)
    if fmt == "csv":
        from .csvfile import CsvSource
        return CsvSource(path, placement)
    if fmt == "edf":
        from .edf import EdfSource
        return EdfSource(path, placement)
    if fmt == "daphnet":
        from .daphnet import read_daphnet
        return read_daphnet(path, placement)
    if fmt == "uea":
        from .uea import read_uea
        return read_uea(path, placement)
    if fmt == "osdb":
        from .osdb import read_osdb
        return read_osdb(path, placement)
    if fmt == "adl":
        from .adl import read_adl
        return read_adl(path, placement)
    from .wfdb import read_wfdb
    return read_wfdb(path, placement)
