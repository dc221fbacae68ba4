"""OpenSeizureDetector DataLog CSV (the OSD Android app's own log, ``SdData.toCSVString``).

One line per 5 s datapoint, fields separated by ``", "``: date-time (``dd-mm-yyyy HH:MM:SS``, phone
local time), 10 spectrum bins, specPower, roiPower, sampleFreq [Hz] (0 on a few lines), the app's
alarm phrase (OK, ALARM, FAULT, WARNING, HR ABNORMAL), optionally heart rate [bpm], then the
datapoint's raw samples: the LAST :data:`SAMPLES_PER_DATAPOINT` fields, whatever precedes them.

Units: the 2019 Garmin (Garmin_SD V0.1-V0.7) and Pebble watch apps sent ``|x| + |y| + |z|`` in
milli-g, an L1 norm, NOT the Euclidean magnitude: at rest it reads 1.0 to 1.732 g depending on how
the watch is turned (Garmin_SD V1.0a, 2020, switched to the Euclidean norm). The reader delivers one
accel channel ``"l1_magnitude"`` in g (value / 1000) and does not try to undo the norm.

Clock: each datapoint's time is taken as the end of its samples (as for OSDB events). The
timestamps have 1 s resolution and jitter (steps of 3-7 s between 5 s datapoints), so datapoints
are joined step by step: a datapoint stamped at most one datapoint period plus the OSDB reader's
:data:`~.osdb.JOIN_TOLERANCE_S` after the previous one directly follows it (one segment, samples
back to back); a longer step starts a new segment at its own time, after a ``Fault("gap")``; a step
shorter than the period minus :data:`~.osdb.DUPLICATE_OVERLAP_S` repeats a datapoint and is dropped.
The phone stamps datapoints ~5.19 s apart on average (GJ_2019-03-31.csv), so within a long segment
the file clock (125 samples = 5 s a datapoint) falls behind the phone's clock; wall-clock times
(the notes) are therefore mapped onto the file clock through the datapoints' own times
(interpolated), so a label stays on the samples recorded at that time. Time 0 is the first sample;
``meta["start_local"]`` is its phone-local time.

Labels: a ``notes.txt`` beside the log (the ANN_SD repository's convention): only its first block
(lines up to the first blank line) of ``dd-mm-yyyy HH:MM:SS HH:MM:SS activity`` lines is read;
lines whose times fall within the log become :class:`Annotation` s (activity, onset, duration).
The app's own verdict for each datapoint is kept as ``meta["osd_phrases"]`` = [(t_s, phrase)]
(t_s = end of the datapoint's samples, when the app judged it) and as ``source.osd_phrases``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo, Fault

from .base import ArraySource, Segment, accel_stream, open_text, resolve_placement, single_case_source
from .osdb import DUPLICATE_OVERLAP_S, JOIN_TOLERANCE_S, MG_PER_G

#: Raw samples per datapoint: 5 s at 25 Hz (SdData in the OSD Android app; SOURCE.txt).
SAMPLES_PER_DATAPOINT = 125
#: 0-based fields before the raw samples that every layout has: time, 10 bins, specPower,
#: roiPower, sampleFreq, alarm phrase (HR, when present, is field 15).
FIELD_SAMPLE_FREQ = 13
FIELD_PHRASE = 14
MIN_FIELDS = FIELD_PHRASE + 1 + SAMPLES_PER_DATAPOINT
TIME_FORMAT = "%d-%m-%Y %H:%M:%S"
TIME_RE = re.compile(r"^\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}$")
NOTE_RE = re.compile(r"^(\d{2}-\d{2}-\d{4}) (\d{2}:\d{2}:\d{2}) (\d{2}:\d{2}:\d{2}) (.+?)\s*$")
NOTES_NAME = "notes.txt"


def looks_like_osd_log(first_line: str) -> bool:
    """True if a text line is an OSD DataLog line (date-time first, >= 140 comma-separated fields)."""
    fields = first_line.split(",")
    return len(fields) >= MIN_FIELDS and bool(TIME_RE.match(fields[0].strip()))


def _unix(text: str) -> float:
    """Seconds of a phone-local ``dd-mm-yyyy HH:MM:SS`` on a naive clock (read as UTC)."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc).timestamp()


def subject_of(path: Path) -> str | None:
    """The wearer's initials from ``<initials>_<date>.csv`` (``GJ_2019-03-31.csv`` -> ``GJ``), else None."""
    head = path.stem.split("_", 1)[0]
    return head if head.isalpha() and head.lower() != "datalog" and "_" in path.stem else None


def read_notes(path: Path, wall_s: np.ndarray, clock_s: np.ndarray) -> tuple[Annotation, ...]:
    """Activity annotations from the first block of ``notes.txt`` that overlap the log.

    Parameters
    ----------
    path : the notes file (absent: no annotations)
    wall_s : strictly increasing phone times of points of the log (datapoint ends), s
    clock_s : the same points on the file's clock, s: times map by linear interpolation
    """
    if not path.is_file():
        return ()
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            break  # first block only: later blocks describe other logs
        m = NOTE_RE.match(line.strip())
        if not m:
            continue
        try:
            start, end = _unix(f"{m[1]} {m[2]}"), _unix(f"{m[1]} {m[3]}")
        except ValueError:
            continue
        if end > start and start < wall_s[-1] and end > wall_s[0]:
            onset, finish = np.interp([start, end], wall_s, clock_s)
            out.append(Annotation(float(onset), float(finish - onset), m[4].strip()))
    return tuple(out)


def _lay_datapoints(times: np.ndarray, samples: np.ndarray, phrases: list[str], rate: float):
    """Segments and gaps of the datapoints (module docstring, "Clock").

    Parameters
    ----------
    times : phone time of each datapoint (end of its samples), s
    samples : (datapoints, 125) in g
    phrases : the app's alarm phrase of each datapoint
    rate : sampling rate, Hz

    Returns
    -------
    (segments, gap faults, wall s, file clock s of the same points (first start, every end),
    [(t_s, phrase)], datapoints dropped as repeats)
    """
    period = SAMPLES_PER_DATAPOINT / rate
    order = np.argsort(times, kind="stable")
    t = times[order]
    keep = np.concatenate([[True], np.diff(t) >= period - DUPLICATE_OVERLAP_S])
    order, t = order[keep], t[keep]
    dropped = int(np.count_nonzero(~keep))
    breaks = np.flatnonzero(np.diff(t) > period + JOIN_TOLERANCE_S) + 1
    starts, ends = np.concatenate([[0], breaks]), np.concatenate([breaks, [t.size]])
    origin = t[0] - period
    segments, faults, clock_ends = [], [], np.empty(t.size)
    prev_end = None
    for a, b in zip(starts, ends):
        t0 = float(t[a] - period - origin)
        if prev_end is not None:
            t0 = max(t0, prev_end)
            faults.append(Fault("gap", prev_end, t0, "accel", "no OSD datapoints"))
        segments.append(Segment("accel", t0, rate, samples[order[a:b]].reshape(-1, 1)))
        clock_ends[a:b] = t0 + period * np.arange(1, b - a + 1)
        prev_end = float(t0 + period * (b - a))
    wall = np.concatenate([[t[0] - period], t])  # strictly increasing: repeats were dropped
    clock = np.concatenate([[clock_ends[0] - period], clock_ends])
    osd_phrases = [(float(ce), phrases[i]) for ce, i in zip(clock_ends, order)]
    return segments, tuple(faults), wall, clock, osd_phrases, dropped


def read_osd_log(path: Path, placement: str | None = None) -> ArraySource:
    """An OSD DataLog CSV as one wrist accel stream (L1 magnitude, g) with a single case."""
    times, phrases, rates, raw = [], [], [], []
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split(",")
            if len(fields) < MIN_FIELDS:
                raise FileFormatError(f"{path}: line {lineno}: {len(fields)} fields, an OSD DataLog line "
                                      f"has at least {MIN_FIELDS} (truncated?)")
            try:
                times.append(_unix(fields[0].strip()))
                rates.append(float(fields[FIELD_SAMPLE_FREQ]))
            except ValueError:
                raise FileFormatError(f"{path}: line {lineno}: unreadable time or sampleFreq "
                                      f"(not an OSD DataLog?)") from None
            phrases.append(fields[FIELD_PHRASE].strip())
            raw.append(fields[-SAMPLES_PER_DATAPOINT:])
    if not times:
        raise FileFormatError(f"{path}: empty OSD DataLog")
    try:
        samples = np.array(raw, dtype=np.float64) / MG_PER_G  # (datapoints, 125) milli-g -> g
    except ValueError:
        raise FileFormatError(f"{path}: non-numeric raw samples in an OSD DataLog line") from None
    stated = np.asarray(rates)
    stated = stated[stated > 0]
    if stated.size:
        values, counts = np.unique(stated, return_counts=True)
        rate = float(values[np.argmax(counts)])
    else:  # every line says 0: the rate from the datapoints' spacing
        steps = np.diff(np.sort(times))
        steps = steps[steps > 0]
        if steps.size == 0:
            raise FileFormatError(f"{path}: sampleFreq 0 on every line and no datapoint spacing: rate unknown")
        rate = SAMPLES_PER_DATAPOINT / float(np.median(steps))
    segments, faults, wall, clock, osd_phrases, dropped = _lay_datapoints(np.asarray(times), samples, phrases,
                                                                          rate)
    annotations = read_notes(path.parent / NOTES_NAME, wall, clock)
    origin = wall[0]
    subject = subject_of(path)
    info = DeviceInfo(f"osd:{subject or path.stem}", "", 0, resolve_placement("wrist", placement),
                      (accel_stream(rate, 1, ("l1_magnitude",)),), f"file:{path}")
    meta = {"subject": subject, "seizure": None, "osd_phrases": osd_phrases,
            "start_local": datetime.fromtimestamp(origin, timezone.utc).strftime(TIME_FORMAT),
            "dropped_datapoints": dropped, "norm": "L1 (|x|+|y|+|z|)"}
    return single_case_source(ArraySource(path, "osd_log", info, segments, annotations, faults), "daylog", meta,
                              osd_phrases=osd_phrases)
