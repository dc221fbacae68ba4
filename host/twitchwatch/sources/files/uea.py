"""UEA/UCR multivariate time-series archive ``.ts`` files (Bagnall et al. 2018, arXiv:1811.00075).

Header lines start with ``@`` (``@problemName``, ``@dimensions``, ``@seriesLength``,
``@classLabel``, ``@data``) or ``#`` (free text); each data line is one case,
``dim1:dim2:...:LABEL`` with comma-separated values. The format has no time column, so the rate is
taken from the file's own description where it states one ("The sampling frequency was 16 Hz"),
else from the dataset's documentation (:data:`DOCUMENTED_RATES_HZ`).

Units, found by inspecting the files (mean magnitude of quiet cases):
- Epilepsy (Villar et al. 2016): 3-axis wrist acceleration in g, gravity included (about 1.0 at
  rest, 1.8-2.0 running): read as is.
- BasicMotions: dims 1-3 wrist acceleration in m/s^2 with gravity REMOVED (0.3-0.9 m/s^2 while
  standing, ~17 m/s^2 running: a phone "linear acceleration" signal), dims 4-6 gyroscope (rad/s,
  not read). Acceleration is converted to g (/ 9.80665); the detector sees no gravity component.

The cases are joined into one continuous stream (case k starts where case k-1 ends), each case an
annotation ``"<LABEL>"``; :meth:`cases` gives each case as its own source. The archive has no
person ids (``meta["subject"]`` is None); an Epilepsy case labelled ``EPILEPSY`` is an ACTED seizure
(healthy people mimicking one, Villar et al. 2016) and its ``meta["seizure"]`` spans the whole case
(``meta["acted"]`` True); every other case has ``meta["seizure"]`` None.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo

from .base import STANDARD_GRAVITY_M_S2, ArraySource, Case, Segment, accel_stream, open_text, resolve_placement

#: Rates documented by each dataset where its .ts header does not state one parseably, Hz.
#: BasicMotions: "sampled once every tenth of a second" (archive description) -> 10 Hz.
#: Epilepsy: "The sampling frequency was 16 Hz" (archive description; Villar et al. 2016).
DOCUMENTED_RATES_HZ = {"basicmotions": 10.0, "epilepsy": 16.0}
#: Labels of cases that are (acted) seizures.
SEIZURE_LABELS = {"EPILEPSY"}
#: Acceleration unit per problem, as g per file unit (see module docstring for how it was found).
G_PER_UNIT = {"basicmotions": 1.0 / STANDARD_GRAVITY_M_S2, "epilepsy": 1.0}
RATE_RE = re.compile(r"sampl\w*\s+(?:frequency|rate)\s+(?:was|is|of)?\s*([0-9.]+)\s*hz", re.I)


def parse_ts(path: Path) -> tuple[dict, str, list[tuple[np.ndarray, str]]]:
    """(header fields, free-text description, [(values (n, dims), label), ...])."""
    header: dict[str, str] = {}
    text: list[str] = []
    cases: list[tuple[np.ndarray, str]] = []
    in_data = False
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                text.append(line.lstrip("#%").strip())
                continue
            if line.startswith("@"):
                key, _, value = line[1:].partition(" ")
                header[key.lower()] = value.strip()
                in_data = key.lower() == "data"
                continue
            if not in_data:
                raise FileFormatError(f"{path}: line {lineno}: data before the @data line (not a .ts file?)")
            *dims, label = line.split(":")
            try:
                arr = np.array([[float(v) for v in d.split(",")] for d in dims], dtype=np.float64).T
            except ValueError:
                raise FileFormatError(f"{path}: line {lineno}: non-numeric or ragged values") from None
            cases.append((arr, label.strip()))
    if "data" not in header or not cases:
        raise FileFormatError(f"{path}: no @data section with cases (not a UEA .ts file?)")
    ndim = int(header.get("dimensions", cases[0][0].shape[1]))
    bad = [i for i, (a, _) in enumerate(cases) if a.ndim != 2 or a.shape[1] != ndim]
    if bad:
        raise FileFormatError(f"{path}: case {bad[0] + 1} does not have {ndim} dimensions")
    return header, " ".join(text), cases


def rate_of(path: Path, problem: str, description: str) -> float:
    m = RATE_RE.search(description)
    if m:
        return float(m.group(1))
    if problem in DOCUMENTED_RATES_HZ:
        return DOCUMENTED_RATES_HZ[problem]
    raise FileFormatError(f"{path}: .ts has no time column and the rate of problem {problem!r} is unknown")


def read_uea(path: Path, placement: str | None = None) -> ArraySource:
    header, description, raw_cases = parse_ts(path)
    problem = header.get("problemname", path.stem.split("_")[0]).lower()
    if problem not in G_PER_UNIT:
        raise FileFormatError(f"{path}: UEA problem {problem!r} is not a known accelerometer set "
                              f"(known: {', '.join(sorted(G_PER_UNIT))})")
    if raw_cases[0][0].shape[1] < 3:
        raise FileFormatError(f"{path}: needs at least 3 dimensions (x, y, z acceleration)")
    rate = rate_of(path, problem, description)
    scale = G_PER_UNIT[problem]
    info = DeviceInfo(
        device_id=f"uea:{problem}", firmware_version="", protocol_version=0,
        placement=resolve_placement("wrist", placement),
        streams=(accel_stream(rate),), source=f"file:{path}",
    )
    segments, annotations, cases = [], [], []
    t = 0.0
    for i, (values, label) in enumerate(raw_cases):
        accel = np.ascontiguousarray(values[:, :3] * scale)
        n = accel.shape[0]
        segments.append(Segment("accel", t, rate, accel))
        annotations.append(Annotation(t, n / rate, label))
        case_info = DeviceInfo(info.device_id, "", 0, info.placement, info.streams, f"{info.source}#case{i + 1}")
        case_src = ArraySource(path, "uea", case_info, [Segment("accel", 0.0, rate, accel.copy())],
                               annotations=(Annotation(0.0, n / rate, label),))
        acted = label.upper() in SEIZURE_LABELS
        cases.append(Case(f"case{i + 1}", label, case_src,
                          {"index": i, "onset_in_stream_s": t, "subject": None,
                           "seizure": [0.0, n / rate] if acted else None, "acted": acted}))
        t += n / rate
    return ArraySource(path, "uea", info, segments, annotations=tuple(annotations), cases=tuple(cases))
