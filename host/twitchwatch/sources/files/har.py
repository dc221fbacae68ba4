"""GeoTecINIT smartwatch/smartphone activity CSV (Matey-Sanz, Casteleyn, Granell 2023, Data in Brief
109809; github.com/GeoTecINIT/sp-sw-har-dataset; CC BY 4.0), format ``har_csv``.

Header ``x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label``; one sample a row: acceleration
[m/s^2, gravity included] -> g (/ :data:`~.base.STANDARD_GRAVITY_M_S2`), gyroscope [rad/s] (not
read), UNIX time [ms], activity label (SEATED, STANDING_UP, WALKING, TURNING, SITTING_DOWN).

Rate: the watch's timestamps jitter (steps of 0 to ~60 ms around ~9.6 ms), so the samples are taken
as uniform at the file's mean rate ``(n - 1) / (t_last - t_first)`` (about 104.3 Hz), kept exactly
as computed. Each run of one label becomes an :class:`Annotation` on that uniform clock.

Subject: the file name's ``sNN`` prefix (``s01_03_sw.csv`` -> ``s01``, execution ``03``); facts
from a ``subjects_info.csv`` in the file's folder or the one above (age, gender, height [cm],
weight [kg], dominant hand) go to ``meta["subject_info"]``. Placement: wrist (which wrist is not
stated by the dataset).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import DeviceInfo

from .base import STANDARD_GRAVITY_M_S2, ArraySource, Segment, accel_stream, resolve_placement, single_case_source
from .daphnet import label_runs

HEADER = ("x_acc", "y_acc", "z_acc", "x_gyro", "y_gyro", "z_gyro", "timestamp", "label")
ACC_COLUMNS = (0, 1, 2)
TIME_COLUMN = 6
LABEL_COLUMN = 7
MS_PER_S = 1000.0
NAME_RE = re.compile(r"^(s\d+)_(\d+)")
SUBJECT_FOLDER_RE = re.compile(r"s\d+")
SUBJECTS_FILE = "subjects_info.csv"


def looks_like_har(header_line: str) -> bool:
    """True if a CSV header line is this dataset's header."""
    return tuple(c.strip() for c in header_line.strip().split(",")) == HEADER


def subject_info(path: Path, subject: str) -> dict | None:
    """The subject's row of ``subjects_info.csv`` (folder or parent of the file), or None."""
    for folder in (path.parent, path.parent.parent):
        table = folder / SUBJECTS_FILE
        if table.is_file():
            with open(table, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if row.get("subject_id") == subject:
                        return dict(row)
    return None


def read_har(path: Path, placement: str | None = None) -> ArraySource:
    """A smartwatch HAR CSV as one uniform 3-axis wrist accel stream in g, labels as annotations."""
    try:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline()
            if not looks_like_har(header):
                raise FileFormatError(f"{path}: header is not {','.join(HEADER)} (not a smartwatch HAR CSV)")
            table = np.loadtxt(fh, delimiter=",", dtype=str, ndmin=2)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: ragged or unreadable HAR rows ({str(exc).splitlines()[0]}); truncated?") from None
    if table.shape[0] < 2 or table.shape[1] != len(HEADER):
        raise FileFormatError(f"{path}: HAR CSV needs >= 2 rows of {len(HEADER)} columns, "
                              f"found {table.shape[0]} rows of {table.shape[1]}")
    try:
        acc = table[:, ACC_COLUMNS].astype(np.float64)
        t_ms = table[:, TIME_COLUMN].astype(np.float64)
    except ValueError:
        raise FileFormatError(f"{path}: non-numeric acceleration or timestamp in a HAR row") from None
    span_s = (t_ms[-1] - t_ms[0]) / MS_PER_S
    if not span_s > 0 or not np.all(np.isfinite(acc)):
        raise FileFormatError(f"{path}: timestamps do not increase or acceleration is not finite")
    n = acc.shape[0]
    rate = (n - 1) / span_s
    labels, codes = np.unique(table[:, LABEL_COLUMN], return_inverse=True)
    annotations = label_runs(np.arange(n) / rate, codes, rate, dict(enumerate(str(l) for l in labels)))
    m = NAME_RE.match(path.stem)
    subject = m[1] if m else (path.parent.name if SUBJECT_FOLDER_RE.fullmatch(path.parent.name) else None)
    info = DeviceInfo(f"har:{path.stem}", "", 0, resolve_placement("wrist", placement),
                      (accel_stream(rate),), f"file:{path}")
    meta = {"subject": subject, "seizure": None, "execution": m[2] if m else None,
            "subject_info": subject_info(path, subject) if subject else None,
            "labels": [str(l) for l in labels]}
    src = ArraySource(path, "har_csv", info, [Segment("accel", 0.0, rate, acc / STANDARD_GRAVITY_M_S2)],
                      annotations=annotations)
    return single_case_source(src, "activities", meta)
