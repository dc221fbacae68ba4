"""Daphnet Freezing of Gait ``.txt`` (Baechlin et al. 2010, IEEE TITB 14:436; UCI dataset 245).

One row per sample, 11 space-separated integer columns: 1 time [ms]; 2-4 ankle (shank)
acceleration forward / vertical / lateral [mg]; 5-7 thigh; 8-10 trunk; 11 label (0 outside the
experiment, 1 no freeze, 2 freeze). The rate comes from the time column (64 Hz in the published
files). Only the ankle accelerometer is read (cols 2-4, mg -> g); labels become annotations.
:meth:`cases` gives the file as one case; ``meta["subject"]`` is the file name's ``S<nn>``
(``S01R02.txt`` = subject S01, run 2), ``meta["seizure"]`` None (no seizures in the set).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo

from .base import ArraySource, Segment, accel_stream, rate_from_times, resolve_placement, single_case_source

N_COLUMNS = 11
LABELS = {0: "outside_experiment", 1: "no_freeze", 2: "freeze"}
MG_PER_G = 1000.0
NAME_RE = re.compile(r"^(S\d+)R(\d+)", re.I)


def label_runs(t_s: np.ndarray, codes: np.ndarray, rate_hz: float, names: dict) -> tuple[Annotation, ...]:
    """Annotations for each run of equal label codes (onset at the run's first sample)."""
    if codes.size == 0:
        return ()
    edges = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [codes.size]])
    return tuple(
        Annotation(float(t_s[s]), float((e - s) / rate_hz), names.get(int(codes[s]), f"label_{int(codes[s])}"))
        for s, e in zip(starts, ends)
    )


def read_daphnet(path: Path, placement: str | None = None) -> ArraySource:
    try:
        table = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (ValueError, OSError) as exc:
        raise FileFormatError(f"{path}: not a Daphnet .txt table ({str(exc).splitlines()[0]})") from None
    if table.shape[1] != N_COLUMNS or table.shape[0] < 2:
        raise FileFormatError(f"{path}: Daphnet rows need {N_COLUMNS} columns, found "
                              f"{table.shape[1]} columns in {table.shape[0]} rows")
    t_ms = table[:, 0]
    try:
        rate = rate_from_times(t_ms / 1000.0, str(path))
    except ValueError as exc:
        raise FileFormatError(str(exc)) from None
    accel_g = np.ascontiguousarray(table[:, 1:4] / MG_PER_G)
    t_s = (t_ms - t_ms[0]) / 1000.0
    codes = table[:, 10].astype(np.int64)
    if not np.isin(codes, list(LABELS)).all():
        raise FileFormatError(f"{path}: Daphnet label column holds values other than 0, 1, 2")
    info = DeviceInfo(
        device_id=f"daphnet:{path.stem}", firmware_version="", protocol_version=0,
        placement=resolve_placement("ankle", placement),
        streams=(accel_stream(rate, names=("forward", "vertical", "lateral")),),
        source=f"file:{path}",
    )
    src = ArraySource(path, "daphnet", info, [Segment("accel", 0.0, rate, accel_g)],
                      annotations=label_runs(t_s, codes, rate, LABELS))
    name = NAME_RE.match(path.stem)
    return single_case_source(src, "gait", {"subject": name[1].upper() if name else None, "seizure": None,
                                            "run": name[2] if name else None})
