"""CSV: a header row, then one sample a row.

Columns: ``t`` (seconds, required), any of ``ax, ay, az`` (acceleration, g) and ``emg0, emg1``
(EMG, microvolts); other columns are ignored. Rows whose data columns are all ``nan`` (a gap,
as ``twitchwatch export --to csv`` writes it) become one ``Fault("gap")`` per run, not samples. One uniform rate is taken from ``t``: every step
must be within half a period of the mean step, else :class:`FileFormatError`. Accel and EMG share
the rows (and so the rate). Read in blocks of rows, so memory stays bounded on long files.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from twitchwatch.errors import ConfigError, FileFormatError
from twitchwatch.model import Chunk, DeviceInfo, Fault, StreamInfo

from .base import FileSourceBase, UNSTATED_ACCEL_RANGE_G, accel_stream, rate_from_times, resolve_placement

ACCEL_COLUMNS = ("ax", "ay", "az")
EMG_COLUMNS = ("emg0", "emg1")
#: EMG full-scale range reported for CSV files (no sensor range in the file), uV: the product's
#: EMG front end spans +-5 mV (firmware PROTOCOL.md default), used only as a clipping hint.
UNSTATED_EMG_RANGE_UV = 5000.0
#: Rows read to establish the rate at open time.
PROBE_ROWS = 4096


class CsvSource(FileSourceBase):
    def __init__(self, path: Path, placement: str | None = None):
        self.path = Path(path)
        self.format = "csv"
        self.annotations = ()
        try:
            with open(self.path, newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh), None)
                probe = list(itertools.islice(csv.reader(fh), PROBE_ROWS))
        except OSError as exc:
            raise FileFormatError(f"{self.path}: cannot open ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise FileFormatError(f"{self.path}: not a text CSV file") from None
        if not header:
            raise FileFormatError(f"{self.path}: empty CSV (no header row)")
        cols = [h.strip().lower() for h in header]
        if "t" not in cols:
            raise FileFormatError(f"{self.path}: CSV header has no 't' column (found: {', '.join(cols)})")
        self._t = cols.index("t")
        self._accel = [cols.index(c) for c in ACCEL_COLUMNS if c in cols]
        self._emg = [cols.index(c) for c in EMG_COLUMNS if c in cols]
        self._accel_names = tuple(c for c in ACCEL_COLUMNS if c in cols)
        self._emg_names = tuple(c for c in EMG_COLUMNS if c in cols)
        if not self._accel and not self._emg:
            raise FileFormatError(f"{self.path}: CSV has none of the columns {', '.join(ACCEL_COLUMNS + EMG_COLUMNS)}")
        self._ncols = len(cols)
        first = self._parse(probe, 2)
        if first.shape[0] < 2:
            raise FileFormatError(f"{self.path}: CSV needs at least 2 rows of samples")
        try:
            self.rate_hz = rate_from_times(first[:, self._t], str(self.path))
        except ValueError as exc:
            raise FileFormatError(str(exc)) from None
        self.t0_s = float(first[0, self._t])
        streams = []
        if self._accel:
            streams.append(accel_stream(self.rate_hz, len(self._accel), self._accel_names, UNSTATED_ACCEL_RANGE_G))
        if self._emg:
            streams.append(StreamInfo("emg", self.rate_hz, len(self._emg), UNSTATED_EMG_RANGE_UV, 0.0, self._emg_names))
        self.device_info = DeviceInfo(f"csv:{self.path.stem}", "", 0, resolve_placement("foot", placement),
                                      tuple(streams), f"file:{self.path}")

    def _parse(self, rows: list[list[str]], first_line: int) -> np.ndarray:
        """Rows -> float array; a short, long (cut or merged) or non-numeric row is one
        FileFormatError naming its line. Blank lines are skipped."""
        for i, r in enumerate(rows):
            if r and len(r) != self._ncols:
                what = "short or cut" if len(r) < self._ncols else "too long"
                raise FileFormatError(f"{self.path}: line {first_line + i}: {len(r)} field(s), the header has "
                                      f"{self._ncols} ({what} row)")
        try:
            arr = np.array([[float(v) for v in r] for r in rows if r], dtype=np.float64)
        except ValueError:
            bad = next((i for i, r in enumerate(rows) if r and not _all_float(r)), 0)
            value = next((v for v in rows[bad] if not _all_float([v])), "?") if rows else "?"
            raise FileFormatError(f"{self.path}: line {first_line + bad}: non-numeric value {value[:20]!r}") from None
        if not np.isfinite(arr).all() and np.isinf(arr).any():
            bad = int(np.argmax(np.isinf(arr).any(axis=1)))
            raise FileFormatError(f"{self.path}: line {first_line + bad}: infinite value")
        return arr.reshape(-1, self._ncols)

    def items(self, block_s: float = 10.0) -> Iterator[Chunk | Fault]:
        if not block_s > 0:
            raise ConfigError(f"block_s must be > 0 s, got {block_s}")
        n_block = max(1, int(round(block_s * self.rate_hz)))
        period = 1.0 / self.rate_hz
        index = 0
        with open(self.path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            line = 2
            gap_start = None
            while True:
                rows = list(itertools.islice(reader, n_block))
                if not rows:
                    if gap_start is not None:
                        yield Fault("gap", gap_start, self.t0_s + index * period, "", "nan rows in CSV")
                    return
                block = self._parse(rows, line)
                line += len(rows)
                if block.shape[0] == 0:
                    continue
                expected = self.t0_s + (index + np.arange(block.shape[0])) * period
                off = np.abs(block[:, self._t] - expected)
                if (off > 0.5 * period).any():
                    i = int(np.argmax(off > 0.5 * period))
                    raise FileFormatError(f"{self.path}: non-uniform t at sample {index + i + 1} "
                                          f"(t={block[i, self._t]:.6g} s, expected {expected[i]:.6g} s at "
                                          f"{self.rate_hz:.6g} Hz)")
                missing = np.isnan(block[:, self._accel + self._emg]).all(axis=1)
                edges = np.flatnonzero(np.diff(np.concatenate([[False], missing, [False]]).astype(np.int8)))
                # runs of all-nan rows (a gap, as twitchwatch's CSV export writes it) -> one Fault each
                runs = list(zip(edges[::2], edges[1::2]))
                start = 0
                for a, b in runs + [(block.shape[0], block.shape[0])]:
                    if a > start:
                        if gap_start is not None:
                            yield Fault("gap", gap_start, self.t0_s + (index + start) * period, "", "nan rows in CSV")
                            gap_start = None
                        t0 = self.t0_s + (index + start) * period
                        if self._accel:
                            yield Chunk("accel", t0, self.rate_hz, _ro(block[start:a, self._accel]))
                        if self._emg:
                            yield Chunk("emg", t0, self.rate_hz, _ro(block[start:a, self._emg]))
                    if b > a and gap_start is None:
                        gap_start = self.t0_s + (index + a) * period
                    start = b
                index += block.shape[0]


def _all_float(row: list[str]) -> bool:
    try:
        [float(v) for v in row]
        return True
    except ValueError:
        return False


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a
