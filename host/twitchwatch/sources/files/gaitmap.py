"""gaitmap example foot IMU CSVs (Kuederle et al., IEEE OJEMB 5:163-172, 2024;
github.com/mad-lab-fau/gaitmap ``example_data/``, MIT), format ``gaitmap``.

Two layouts (pandas CSVs), acc [m/s^2] -> g (/ :data:`~.base.STANDARD_GRAVITY_M_S2`), gyroscope
[deg/s] not read:
- two header rows, ``(sensor, axis)`` = (``left_sensor``/``right_sensor``, ``acc_x`` .. ``gyr_z``):
  both feet in one file. The first column is the sample index or, in the stair files, time [s];
- ``imu_sample_ms_left.csv`` / ``_right.csv``: one header row (row number, ``index``, ``acc_x`` ..
  ``gyr_z``), one foot a file, the foot from the file name; the two feet are NOT synchronised.

Rate: from a time column when the file has one (stair files: steps of 1/204.8 s); otherwise (sample
indices) the rate the dataset documents for the file (gaitmap ``example_data.py``, SOURCE.txt):
102.4 Hz for ``*_ic_stride*`` and ``*_ms_*``, 204.8 Hz for the others (:data:`DOCUMENTED_RATES_HZ`).
Sample indices place samples (holes would become gap faults; none in these files).

Sources: :meth:`cases` gives one case per foot in the file (``left``, ``right``); the file itself
is the source of ONE foot, the left one where the file has it (``meta["foot"]`` says which), so
``replay`` shows one 3-axis foot sensor as the product would record it.

Labels: ``stride_borders_<name>.csv`` (``s_id, foot, start, end``, samples) beside the recording
(``imu_sample.csv`` -> ``stride_borders_sample.csv``; ``_not_rotated`` is the same recording and
uses its labels) give each foot's annotations ``"stride"``. The label files are not recordings:
opening one raises :class:`FileFormatError`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo

from .base import (STANDARD_GRAVITY_M_S2, ArraySource, Case, accel_stream, place_by_counter, rate_from_times,
                   resolve_placement)

ACC_AXES = ("acc_x", "acc_y", "acc_z")
SENSORS = {"left_sensor": "left", "right_sensor": "right"}
#: Documented rates by file-name pattern, Hz (gaitmap example_data.py; SOURCE.txt), first match wins.
DOCUMENTED_RATES_HZ = ((re.compile(r"_ic_stride|_ms_"), 102.4), (re.compile(r""), 204.8))
LABEL_HEADER_START = ("s_id", "foot", "start", "end")
#: Subject keys: the set has no person ids, so each key names the person behind a recording as the
#: dataset describes it (imu_sample and _not_rotated: one recording; the stair files: MaD stair
#: ambulation subject 11; the _ms_ files: one multiple-sclerosis patient).
SUBJECTS = ((re.compile(r"_stair_"), "mad_stair_11"), (re.compile(r"_ms_"), "ms_patient"),
            (re.compile(r"_ic_stride"), "ic_stride_subject"), (re.compile(r""), "sample_subject"))


def header_kind(first_line: str, second_line: str) -> str | None:
    """``"two_rows"``, ``"one_row"``, ``"labels"`` (a stride label file) or None (not gaitmap)."""
    a = [c.strip() for c in first_line.strip().split(",")]
    b = [c.strip() for c in second_line.strip().split(",")]
    if tuple(a[:len(LABEL_HEADER_START)]) == LABEL_HEADER_START:
        return "labels"
    if set(a[1:]) <= set(SENSORS) and set(a[1:]) and set(ACC_AXES) <= set(b[1:]):
        return "two_rows"
    if len(a) >= 5 and a[1] == "index" and tuple(a[2:5]) == ACC_AXES:
        return "one_row"
    return None


def _rate(path: Path, first_col: np.ndarray) -> tuple[float, np.ndarray | None]:
    """(rate Hz, sample counter or None) from the first column: integer steps of 1 are sample
    indices (documented rate), anything else is time in s."""
    steps = np.diff(first_col)
    if first_col.size >= 2 and np.all(steps == np.round(steps)) and np.all(steps >= 0):
        rate = next(r for pattern, r in DOCUMENTED_RATES_HZ if pattern.search(path.stem))
        return rate, first_col
    try:
        return rate_from_times(first_col, str(path)), None
    except ValueError as exc:
        raise FileFormatError(str(exc)) from None


def _strides(path: Path, rate: float) -> dict[str, tuple[Annotation, ...]]:
    """Per-foot stride annotations from the recording's ``stride_borders_`` file, if any."""
    stem = path.stem.replace("_not_rotated", "")
    label_file = path.with_name("stride_borders_" + stem.removeprefix("imu_") + ".csv")
    out: dict[str, list[Annotation]] = {}
    if not label_file.is_file():
        return {}
    with open(label_file, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                start, end = float(row["start"]), float(row["end"])
            except (KeyError, TypeError, ValueError):
                raise FileFormatError(f"{label_file}: unreadable stride row {row}") from None
            out.setdefault(row.get("foot", ""), []).append(Annotation(start / rate, (end - start) / rate, "stride"))
    return {foot: tuple(a) for foot, a in out.items()}


def read_gaitmap(path: Path, placement: str | None = None) -> ArraySource:
    """A gaitmap IMU CSV: the left (else the only) foot as the file's source, each foot a case."""
    try:
        with open(path, encoding="utf-8") as fh:
            first, second = fh.readline(), fh.readline()
            kind = header_kind(first, second)
            if kind == "labels":
                raise FileFormatError(f"{path}: a gaitmap stride label file (s_id, foot, start, end), "
                                      f"not a recording; open the imu_sample*.csv it labels")
            if kind is None:
                raise FileFormatError(f"{path}: not a gaitmap IMU CSV (needs a (sensor, axis) header or "
                                      f"index, acc_x.. columns)")
            if kind == "one_row":
                fh.seek(0)
                fh.readline()
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: unreadable gaitmap rows ({str(exc).splitlines()[0]}); truncated?") from None
    names = [c.strip() for c in first.strip().split(",")]
    if kind == "two_rows":
        axes = [c.strip() for c in second.strip().split(",")]
        columns = {(SENSORS[s], a): i for i, (s, a) in enumerate(zip(names, axes)) if s in SENSORS}
        feet = [f for f in ("left", "right") if all((f, a) in columns for a in ACC_AXES)]
        first_col = table[:, 0]
    else:
        foot = "right" if "right" in path.stem.lower() else "left"
        columns = {(foot, a): names.index(a) for a in ACC_AXES}
        feet = [foot]
        first_col = table[:, names.index("index")]
    if not feet or table.shape[1] != len(names) or table.shape[0] < 2:
        raise FileFormatError(f"{path}: gaitmap CSV needs acc_x..acc_z of a foot and >= 2 full rows")
    rate, counter = _rate(path, first_col)
    strides = _strides(path, rate)
    subject = next(s for pattern, s in SUBJECTS if pattern.search(path.stem))
    place = resolve_placement("foot", placement)
    sources = {}
    for foot in feet:
        acc = table[:, [columns[(foot, a)] for a in ACC_AXES]] / STANDARD_GRAVITY_M_S2
        try:
            segments, faults, _ = place_by_counter(counter if counter is not None else np.arange(acc.shape[0]),
                                                   acc, rate, str(path), gap_detail="missing sample indices")
        except ValueError as exc:
            raise FileFormatError(str(exc)) from None
        info = DeviceInfo(f"gaitmap:{path.stem}:{foot}", "", 0, place, (accel_stream(rate),), f"file:{path}#{foot}")
        sources[foot] = ArraySource(path, "gaitmap", info, segments, strides.get(foot, ()), tuple(faults))
    cases = tuple(Case(f"{path.stem}:{foot}", foot, src,
                       {"subject": subject, "seizure": None, "foot": foot, "recording": path.stem.replace("_not_rotated", "")})
                  for foot, src in sources.items())
    main = sources[feet[0]]
    out = ArraySource(path, "gaitmap", main.device_info, list(main.segments), main.annotations, main.faults, cases)
    out.foot = feet[0]
    return out
