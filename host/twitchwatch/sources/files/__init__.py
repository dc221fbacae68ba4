"""File readers: every recording format as the same source of chunks.

``open_file(path, format=None, placement=None) -> FileSource``. The format is detected from the
extension and the content: ``.txt`` (IPOL/XSens exports start "Acquisition frequency: N Hz",
Daphnet rows have 11 numbers, ADL rows 3 codes 0..63), ``.csv`` (an OSD DataLog line, the smartwatch
HAR header or a gaitmap (sensor, axis) header; anything else is the generic twitchwatch CSV) and
``.json`` (an OSDB curator report has ``unique_events``); ``format`` overrides detection. A missing, misidentified, corrupt or truncated file raises
:class:`~twitchwatch.errors.FileFormatError` with one line naming the file and the problem.

Formats: ``native`` (twitchwatch sessions), ``csv``, ``edf``, ``daphnet``, ``uea``, ``osdb``,
``adl``, ``wfdb``, ``osd_log`` (OpenSeizureDetector DataLog), ``osdb_report`` (OSDB curator test
report), ``har_csv`` (GeoTecINIT smartwatch activity CSV), ``ipol`` (IPOL/XSens foot IMU .txt),
``gaitmap`` (gaitmap foot IMU CSV). Placement defaults to the dataset's (Daphnet ankle; UEA, OSDB,
OSD logs, ADL and HAR wrist; WFDB emgdb tibialis anterior = foot device; CSV/EDF, IPOL and gaitmap
foot) unless ``placement`` overrides it.

Every public dataset's ``cases()`` carries ``meta["subject"]`` (the person's id as the dataset
names it, or None where it has none) and ``meta["seizure"]`` ([start_s, end_s] on the case's clock,
or None).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from twitchwatch.errors import FileFormatError
from twitchwatch.recording import MAGIC, SessionReader
from twitchwatch.sources.base import FileSource

from .adl import read_adl
from .base import ArraySource, Case, FileSourceBase, Segment
from .csvfile import CsvSource
from .daphnet import read_daphnet
from .edf import EdfSource
from .gaitmap import header_kind, read_gaitmap
from .har import looks_like_har, read_har
from .ipol import looks_like_ipol, read_ipol
from .osd_log import looks_like_osd_log, read_osd_log
from .osdb import read_osdb, read_osdb_report
from .uea import read_uea
from .wfdb import read_wfdb

#: Extension of native session files.
NATIVE_SUFFIX = ".twr"
EXTENSIONS = {".csv": "csv", ".edf": "edf", ".ts": "uea", ".json": "osdb", ".hea": "wfdb", ".dat": "wfdb"}

#: Bytes read to sniff a file's content (an OSD DataLog line is ~1,000 characters).
SNIFF_BYTES = 16384


def _read_native(path: Path, placement: str | None) -> FileSource:
    return SessionReader(path, placement=placement)


#: format -> reader(path, placement)
READERS: dict[str, Callable[[Path, str | None], FileSource]] = {
    "native": _read_native, "csv": CsvSource, "edf": EdfSource, "daphnet": read_daphnet, "uea": read_uea,
    "osdb": read_osdb, "adl": read_adl, "wfdb": read_wfdb, "osd_log": read_osd_log,
    "osdb_report": read_osdb_report, "har_csv": read_har, "ipol": read_ipol, "gaitmap": read_gaitmap,
}
FORMATS: tuple[str, ...] = tuple(READERS)

__all__ = ["FORMATS", "ArraySource", "Case", "FileSource", "FileSourceBase", "Segment", "detect_format", "open_file"]


def looks_native(path: Path) -> bool:
    """True when the file starts with the session format's magic bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _head(path: Path) -> str:
    """The first :data:`SNIFF_BYTES` of a file as text (latin-1: never fails)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(SNIFF_BYTES).decode("latin-1")
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None


def _sniff_csv(path: Path) -> str:
    """``osd_log``, ``har_csv``, ``gaitmap`` by content, else the generic ``csv``.

    A gaitmap stride label file raises FileFormatError (labels, not a recording).
    """
    lines = _head(path).splitlines() + ["", ""]
    if looks_like_osd_log(lines[0]):
        return "osd_log"
    if looks_like_har(lines[0]):
        return "har_csv"
    kind = header_kind(lines[0], lines[1])
    if kind == "labels":
        raise FileFormatError(f"{path}: a gaitmap stride label file (s_id, foot, start, end), not a recording; "
                              f"open the imu_sample*.csv it labels")
    return "gaitmap" if kind else "csv"


def _sniff_json(path: Path) -> str:
    """``osdb_report`` when the head of the file names ``unique_events``, else ``osdb``."""
    return "osdb_report" if '"unique_events"' in _head(path) else "osdb"


def _sniff_txt(path: Path) -> str:
    head = _head(path)
    if looks_like_ipol(head.split("\n", 1)[0]):
        return "ipol"
    lines = [ln for ln in head.splitlines()[:-1] if ln.strip()] or head.split("\n")[:1]
    try:
        rows = [[float(v) for v in ln.split()] for ln in lines[:20]]
    except ValueError:
        raise FileFormatError(f"{path}: .txt is neither Daphnet (11 numbers a row), IPOL/XSens nor ADL "
                              f"(3 codes a row)") from None
    widths = {len(r) for r in rows}
    if widths == {11}:
        return "daphnet"
    if widths == {3} and all(0 <= v <= 63 and v == int(v) for r in rows for v in r):
        return "adl"
    raise FileFormatError(f"{path}: .txt is neither Daphnet (11 numbers a row), IPOL/XSens nor ADL "
                          f"(3 codes 0..63 a row)")


def detect_format(path: Path) -> str:
    """The format name for ``path`` from its extension and, for .txt, .csv and .json, its first lines."""
    suffix = path.suffix.lower()
    if suffix == NATIVE_SUFFIX:
        return "native"
    if suffix == ".csv":
        return _sniff_csv(path)
    if suffix == ".json":
        return _sniff_json(path)
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix == ".txt":
        return _sniff_txt(path)
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
    return READERS[fmt](path, placement)
