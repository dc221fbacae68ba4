"""IPOL healthy-gait foot IMU ``.txt`` (Voisard et al., "A Reference Data Set for the Study of
Healthy Subject Gait with Inertial Measurements Units", Image Processing On Line 2023;
github.com/CyrilVoisard/ipol_dataset_1), format ``ipol``.

``<subject>-<trial>_lf.txt`` (left foot) / ``_rf.txt`` (right foot), XSens MTw Awinda export:
line 1 ``Acquisition frequency: 100 Hz`` (the rate, read from it), line 2 the tab-separated header
``PacketCounter Acc_X Acc_Y Acc_Z Gyr_X Gyr_Y Gyr_Z Mag_X Mag_Y Mag_Z``, then one sample a row.
Acc [m/s^2] -> g (/ :data:`~.base.STANDARD_GRAVITY_M_S2`); gyroscope [rad/s] and magnetometer
[a.u.] are not read.

PacketCounter has holes (dropped wireless packets): samples are placed by the counter, not by row
(:func:`~.base.place_by_counter`: counter value c is at ``(c - c0) / rate`` s; holes become
``Fault("gap")``; a repeated counter value is dropped; the XSens counter is 16-bit, so a wrap is
unwrapped).

Labels: ``<subject>-<trial>.json`` beside the file: ``TrialBoundaries`` and ``UTurnBoundaries``
([start, end]) and this foot's ``LeftFootEvents`` / ``RightFootEvents`` ([[swing start, swing
end], ...]), all in PacketCounter samples, become annotations ``"trial"``, ``"u_turn"``,
``"swing"`` on the same clock; Subject, Age, Gender, Height [cm], Weight [kg] go to the case meta.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo

from .base import (STANDARD_GRAVITY_M_S2, ArraySource, accel_stream, place_by_counter, resolve_placement,
                   single_case_source)

RATE_RE = re.compile(r"^\s*Acquisition frequency:\s*([0-9.]+)\s*Hz", re.I)
HEADER_START = ("PacketCounter", "Acc_X", "Acc_Y", "Acc_Z")
NAME_RE = re.compile(r"^(\w+)-(\w+)_(lf|rf)$", re.I)
FEET = {"lf": ("left", "LeftFootEvents"), "rf": ("right", "RightFootEvents")}
#: XSens PacketCounter width, bits (MT Manager exports an unsigned 16-bit counter).
COUNTER_BITS = 16
#: Facts copied from the trial JSON into the case meta.
JSON_FACTS = ("Age", "Gender", "Height", "Weight")


def looks_like_ipol(first_line: str) -> bool:
    """True if the first line of a .txt is the XSens export's ``Acquisition frequency: N Hz``."""
    return bool(RATE_RE.match(first_line))


def _annotations(labels: dict, foot_key: str | None, c0: int, rate: float) -> tuple[Annotation, ...]:
    """Annotations from an IPOL trial JSON (indices in PacketCounter samples) on the file's clock."""
    out = []

    def add(pair, label):
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, (int, float)) for v in pair):
            out.append(Annotation((pair[0] - c0) / rate, (pair[1] - pair[0]) / rate, label))

    add(labels.get("TrialBoundaries"), "trial")
    add(labels.get("UTurnBoundaries"), "u_turn")
    for pair in labels.get(foot_key, ()) if foot_key else ():
        add(pair, "swing")
    return tuple(sorted(out, key=lambda a: a.onset_s))


def read_ipol(path: Path, placement: str | None = None) -> ArraySource:
    """An IPOL foot IMU file as one 3-axis foot accel stream in g, placed by PacketCounter."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
            header = fh.readline().split()
            m = RATE_RE.match(first)
            if not m or tuple(header[:len(HEADER_START)]) != HEADER_START:
                raise FileFormatError(f"{path}: not an IPOL/XSens export (needs 'Acquisition frequency: N Hz' "
                                      f"then a PacketCounter, Acc_X.. header)")
            table = np.loadtxt(fh, dtype=np.float64, ndmin=2, usecols=(0, 1, 2, 3))
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None
    except ValueError as exc:
        raise FileFormatError(f"{path}: unreadable IPOL rows ({str(exc).splitlines()[0]}); truncated?") from None
    rate = float(m[1])
    if table.shape[0] < 1 or not rate > 0 or not np.all(np.isfinite(table)):
        raise FileFormatError(f"{path}: no samples, a rate of {rate} Hz or non-finite values")
    counter = table[:, 0]
    if np.any(counter != np.round(counter)):
        raise FileFormatError(f"{path}: PacketCounter holds non-integers")
    try:
        segments, faults, repeats = place_by_counter(counter, table[:, 1:4] / STANDARD_GRAVITY_M_S2, rate, str(path),
                                                     counter_bits=COUNTER_BITS, gap_detail="dropped packets")
    except ValueError as exc:
        raise FileFormatError(str(exc)) from None
    name = NAME_RE.match(path.stem)
    foot, foot_key = FEET.get(name[3].lower(), (None, None)) if name else (None, None)
    labels = {}
    if name:
        label_file = path.with_name(f"{name[1]}-{name[2]}.json")
        if label_file.is_file():
            try:
                labels = json.loads(label_file.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise FileFormatError(f"{label_file}: unreadable label JSON ({exc})") from None
    subject = str(labels.get("Subject", name[1] if name else "")) or None
    info = DeviceInfo(f"ipol:{path.stem}", "", 0, resolve_placement("foot", placement),
                      (accel_stream(rate),), f"file:{path}")
    meta = {"subject": subject, "seizure": None, "trial": str(labels.get("Trial", name[2] if name else "")) or None,
            "foot": foot, "missing_samples": int(sum(round((f.end_s - f.start_s) * rate) for f in faults)),
            "repeated_rows": repeats, **{k.lower(): labels.get(k) for k in JSON_FACTS}}
    src = ArraySource(path, "ipol", info, segments, _annotations(labels, foot_key, int(counter[0]), rate),
                      tuple(faults))
    return single_case_source(src, "gait", meta)
