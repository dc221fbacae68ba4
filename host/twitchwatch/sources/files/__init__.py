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

from importlib import import_module
from pathlib import Path

from twitchwatch.errors import FileFormatError

from .base import ArraySource, Case, FileSource, Segment

FORMATS: tuple[str, ...] = ("native", "csv", "edf", "daphnet", "uea", "osdb", "adl", "wfdb", "osd_log",
                             "osdb_report", "har_csv", "ipol", "gaitmap")
#: Extensions of native session files (helper D's recording module may declare its own).
NATIVE_SUFFIXES = (".twr", ".tws", ".twsession")
#: Readers of the formats added with the second batch of public data: format -> (module, function).
READERS = {"osd_log": (".osd_log", "read_osd_log"), "osdb_report": (".osdb", "read_osdb_report"),
           "har_csv": (".har", "read_har"), "ipol": (".ipol", "read_ipol"), "gaitmap": (".gaitmap", "read_gaitmap")}
EXTENSIONS = {".csv": "csv", ".edf": "edf", ".ts": "uea", ".json": "osdb", ".hea": "wfdb", ".dat": "wfdb"}

#: Bytes read to sniff a file's content (an OSD DataLog line is ~1,000 characters).
SNIFF_BYTES = 16384

__all__ = ["FORMATS", "ArraySource", "Case", "FileSource", "Segment", "detect_format", "open_file"]


def _native_suffixes() -> tuple[str, ...]:
    try:
        from twitchwatch import recording
    except ImportError:
        return NATIVE_SUFFIXES
    own = getattr(recording, "SUFFIX", None) or getattr(recording, "EXTENSION", None)
    return NATIVE_SUFFIXES + ((own,) if isinstance(own, str) else tuple(own or ()))


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
    from .gaitmap import header_kind
    from .har import looks_like_har
    from .osd_log import looks_like_osd_log

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
    from .ipol import looks_like_ipol

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
    if suffix in _native_suffixes():
        return "native"
    if suffix == ".csv":
        return _sniff_csv(path)
    if suffix == ".json":
        return _sniff_json(path)
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
    if fmt in READERS:
        module, function = READERS[fmt]
        return getattr(import_module(module, __name__), function)(path, placement)
    from .wfdb import read_wfdb
    return read_wfdb(path, placement)
