"""ADL wrist accelerometer ``.txt`` (Bruno et al. 2013, IEEE ICRA; UCI "Dataset for ADL
Recognition with Wrist-worn Accelerometer").

Three integers a line (x, y, z), each a 6-bit code 0..63 for -1.5..+1.5 g:
``g = -1.5 + 3 * code / 63`` (the dataset's documentation). The files have no time column; the dataset
documents its rate as 32 Hz, so that documented rate is this format's definition.
The activity is the folder name (e.g. ``Brush_teeth``); the subject code is the file name's last
``-`` field (``...-brush_teeth-f1.txt`` -> ``f1``). :meth:`cases` gives the file as one case with
``meta["subject"]`` = that code and ``meta["seizure"]`` None.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo

from .base import ArraySource, Segment, accel_stream, resolve_placement, single_case_source

#: Sampling rate, Hz: 32 Hz per the dataset's documentation (Bruno et al. 2013, UCI "Dataset for ADL
#: Recognition with Wrist-worn Accelerometer") and ../shared/data/real/README.md.
ADL_RATE_HZ = 32.0
CODE_MAX = 63
RANGE_G = 1.5


def codes_to_g(codes: np.ndarray) -> np.ndarray:
    """6-bit codes (0..63) to g: -1.5 + 3 * code / 63."""
    return -RANGE_G + 2 * RANGE_G * codes.astype(np.float64) / CODE_MAX


def subject_of(path: Path) -> str:
    return path.stem.rsplit("-", 1)[-1]


def read_adl(path: Path, placement: str | None = None) -> ArraySource:
    try:
        codes = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except (ValueError, OSError) as exc:
        raise FileFormatError(f"{path}: not an ADL accelerometer .txt ({str(exc).splitlines()[0]})") from None
    if codes.shape[1] != 3 or codes.shape[0] < 1:
        raise FileFormatError(f"{path}: ADL lines need 3 integer codes, found {codes.shape[1]} columns")
    if (codes < 0).any() or (codes > CODE_MAX).any() or (codes != np.round(codes)).any():
        raise FileFormatError(f"{path}: ADL codes must be integers 0..{CODE_MAX}")
    activity = path.parent.name.lower()
    info = DeviceInfo(
        device_id=f"adl:{path.stem}", firmware_version="", protocol_version=0,
        placement=resolve_placement("wrist", placement),
        streams=(accel_stream(ADL_RATE_HZ, range_g=RANGE_G),), source=f"file:{path}",
    )
    n = codes.shape[0]
    src = ArraySource(path, "adl", info, [Segment("accel", 0.0, ADL_RATE_HZ, codes_to_g(codes))],
                      annotations=(Annotation(0.0, n / ADL_RATE_HZ, activity),))
    return single_case_source(src, activity, {"subject": subject_of(path), "seizure": None})
