"""Open Seizure Database JSON (OpenSeizureDetector project, github.com/OpenSeizureDetector/
OpenSeizureDatabase; CC BY 4.0 with a publish-a-comparison condition, see OSDB_LICENCE.txt).

A file holds one event (an object) or a list of events. Each event has ``dataTime`` (the event's
reference time), ``type``/``subType``, ``seizureTimes`` = [start, end] in seconds relative to
``dataTime``, and ``datapoints``: each datapoint is 5 s of watch data, ``rawData`` = 125
acceleration magnitudes [milli-g] at ``sampleFreq`` (25 Hz), and, when the watch sent it,
``rawData3D`` = 375 interleaved x, y, z values [milli-g].

How the datapoints are laid on a clock (their timestamps have 1 s resolution and jitter by +-1 s):
- a datapoint's ``dataTime`` is taken as the END of its samples (the watch sends a block when it is
  full), so its nominal start is ``dataTime - 125 / sampleFreq``;
- sorted by time, a datapoint whose nominal start is within :data:`JOIN_TOLERANCE_S` of where the
  previous one ended is placed right after it (contiguous samples);
- a later nominal start leaves a gap, reported as ``Fault("gap")``;
- an earlier one (more than :data:`DUPLICATE_OVERLAP_S` before the previous end) repeats a block
  already placed and is dropped (counted in ``dropped_datapoints``; an exact repeat or a copy of
  the same block in other units, seen in this database).
- Some datapoints hold magnitudes in m/s^2 (median ~9.8) instead of milli-g; they are converted
  (x 1000 / 9.80665) and counted in ``converted_datapoints``. Datapoints are ordered so that, at
  equal times, the milli-g one is kept.
- 3-axis data is used only when every datapoint of the event has a non-zero ``rawData3D`` whose
  magnitude matches ``rawData``; otherwise the stream is the magnitude, one channel.

Per event (:meth:`cases`) the clock starts at the event's first sample; the whole file is one
stream on the real clock (seconds since the earliest sample in the file), events separated by gaps.

Format ``osdb_report``: an OSDB curator tool's test report (``time_boundaries_results.json`` in
``osdb_false_alarms/``) is an object whose ``unique_events`` list holds ordinary OSDB events; it is
read by the same event parser (:func:`events_source`). Its event ``dataTime`` was re-written by the
curator as ``YYYY-MM-DD HH:MM:SS+00:00`` with day and month swapped where the day is <= 12 (event
19972: ``2022-02-10`` while its datapoints say ``02-10-2022``, 2 October); an event time more than a
day away from its datapoints whose day/month swap lies within a day of them is read swapped.

Every case's ``meta`` holds ``subject`` (``"user<userId>"``), ``seizure`` ([start, end] s on the
case's clock or None), ``datapoint_keys`` (one stable key per datapoint: end time and a hash of its
samples) and ``osd_phrases`` ([(t_s, alarmPhrase)] per datapoint, t_s = end of the datapoint's
samples on the case's clock: what OSD itself said). :func:`overlapping_event_groups` groups events
that share datapoints.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo, Fault

from .base import STANDARD_GRAVITY_M_S2, ArraySource, Case, Segment, accel_stream, resolve_placement

MG_PER_G = 1000.0
#: Timestamps have 1 s resolution and +-1 s jitter (measured: steps of 4, 5, 6 s between 5 s
#: blocks); a block starting within 2.5 s (half a block) of the previous end is contiguous.
JOIN_TOLERANCE_S = 2.5
#: A block starting more than 4 s before the previous block's end repeats one already placed.
DUPLICATE_OVERLAP_S = 4.0
#: A datapoint whose median magnitude is below 100 (0.1 g if milli-g) is in m/s^2 (a worn watch
#: always sees ~1 g of gravity in milli-g, i.e. ~1000).
MS2_MEDIAN_LIMIT = 100.0
#: rawData3D magnitude must match rawData within 2 % to be trusted.
MAG_MATCH_REL = 0.02
#: Datapoint times count as regular when this fraction of steps is within this many s of the median.
REGULAR_FRACTION = 0.75
REGULAR_STEP_TOL_S = 1.0
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%d-%m-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M:%S+00:00")
#: An event time further than this from its datapoints is suspected of a day/month swap, s (1 day).
SWAP_SUSPECT_S = 86400.0


def parse_time(text: str, where: str) -> float:
    """Unix seconds (UTC) from the formats OSDB uses."""
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()
        except (TypeError, ValueError):
            continue
    raise FileFormatError(f"{where}: unreadable dataTime {text!r}")


def lay_blocks(blocks: list[tuple[float, np.ndarray]], rate_hz: float
               ) -> tuple[list[tuple[float, np.ndarray, int]], list[tuple[float, float]], int]:
    """Lay time-sorted 5 s blocks on one clock by their (jittery, 1 s resolution) start times.

    Parameters
    ----------
    blocks : [(nominal start s, samples (n, ch)), ...], sorted by start
    rate_hz : sampling rate, Hz

    Returns
    -------
    (placed, gaps, dropped): placed = [(start s, samples, index into ``blocks``)]; a block starting
    within :data:`JOIN_TOLERANCE_S` of the previous end follows it directly; a later one leaves a
    gap (start s, end s); one starting more than :data:`DUPLICATE_OVERLAP_S` before the previous end
    repeats a block already placed and is dropped (counted).
    """
    placed, gaps = [], []
    dropped = 0
    cursor = None
    for i, (start, values) in enumerate(blocks):
        if cursor is not None and start < cursor - DUPLICATE_OVERLAP_S:
            dropped += 1
            continue
        if cursor is not None and start > cursor + JOIN_TOLERANCE_S:
            gaps.append((cursor, start))
            at = start
        else:
            at = start if cursor is None else cursor
        placed.append((at, values, i))
        cursor = at + values.shape[0] / rate_hz
    return placed, gaps, dropped


def datapoint_key(dp: dict, where: str) -> str:
    """A stable key for one datapoint: ``"<end unix s>:<sha1 of its rawData, 16 hex>"``.

    Two events holding the same datapoint (same timestamp, same samples) give it the same key.
    """
    end = parse_time(dp.get("dataTime"), where)
    raw = np.asarray(dp.get("rawData", ()), dtype=np.float64)
    return f"{end:.0f}:{hashlib.sha1(raw.tobytes()).hexdigest()[:16]}"


def overlapping_event_groups(cases) -> dict:
    """Map each OSDB event to a group of events that share any datapoint.

    Parameters
    ----------
    cases : OSDB :class:`Case` s (``meta["event_id"]`` and ``meta["datapoint_keys"]``), from one or
        several files

    Returns
    -------
    ``{event_id: group_id}`` for every event; events sharing a datapoint key, directly or through
    a chain, get one group, whose id is the smallest event id (as text-sorted ``str``) of the group.
    """
    parent: dict = {}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, object] = {}
    for case in cases:
        ev = case.meta["event_id"]
        parent.setdefault(ev, ev)
        for key in case.meta.get("datapoint_keys", ()):
            other = owner.setdefault(key, ev)
            a, b = find(ev), find(other)
            if a != b:
                parent[max(a, b, key=_id_order)] = min(a, b, key=_id_order)
    return {ev: find(ev) for ev in parent}


def _id_order(event_id) -> tuple:
    """Sort key for event ids that may be ints or strings: numbers first, in numeric order."""
    text = str(event_id)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _reference_time(event: dict, dp_times: list[float], where: str) -> float:
    """The event's ``dataTime`` (unix s), undoing a day/month swap (see the module docstring)."""
    text = event.get("dataTime")
    t_ref = parse_time(text, where)
    lo, hi = min(dp_times), max(dp_times)
    if lo - SWAP_SUSPECT_S <= t_ref <= hi + SWAP_SUSPECT_S:
        return t_ref
    ref = datetime.fromtimestamp(t_ref, timezone.utc)
    if ref.day <= 12:
        swapped = ref.replace(month=ref.day, day=ref.month).timestamp()
        if lo - SWAP_SUSPECT_S <= swapped <= hi + SWAP_SUSPECT_S:
            return swapped
    return t_ref


def _stated_rate(value) -> float | None:
    """A ``sampleFreq`` as a number, or None where it is missing or NaN (curator reports)."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None
    return rate if math.isfinite(rate) and rate > 0 else None


@dataclass
class PlacedEvent:
    event: dict
    t_ref_unix: float
    blocks: list[tuple[float, np.ndarray]]  # (start unix s, samples (n, ch) in g)
    rate_hz: float
    three_d: bool
    gaps: list[tuple[float, float]]
    dropped: int
    converted: int
    keys: tuple[str, ...]  # datapoint_key of every datapoint, in time order
    phrases: list[tuple[float, str]]  # (end unix s of the placed block, alarmPhrase)


def _block_values(dp: dict, where: str, rate: float, three_d: bool) -> tuple[np.ndarray, bool]:
    mag = np.asarray(dp.get("rawData", ()), dtype=np.float64)
    if mag.ndim != 1 or mag.size == 0:
        raise FileFormatError(f"{where}: datapoint {dp.get('id')} has no rawData")
    in_ms2 = bool(np.median(mag) < MS2_MEDIAN_LIMIT)
    factor = (MG_PER_G / STANDARD_GRAVITY_M_S2 if in_ms2 else 1.0) / MG_PER_G  # -> g
    if three_d:
        xyz = np.asarray(dp["rawData3D"], dtype=np.float64).reshape(-1, 3)
        return xyz * factor, in_ms2
    return (mag * factor)[:, None], in_ms2


def _has_good_3d(dp: dict) -> bool:
    raw3 = dp.get("rawData3D")
    mag = np.asarray(dp.get("rawData", ()), dtype=np.float64)
    if not raw3 or len(raw3) != 3 * mag.size:
        return False
    m3 = np.linalg.norm(np.asarray(raw3, dtype=np.float64).reshape(-1, 3), axis=1)
    return bool(np.all(np.abs(m3 - mag) <= MAG_MATCH_REL * np.maximum(np.abs(mag), 1.0)))


def place_event(event: dict, where: str, force_magnitude: bool = False) -> PlacedEvent:
    """Parse one OSDB event's datapoints and lay them on the real clock (module docstring)."""
    dps = event.get("datapoints")
    if not isinstance(dps, list) or not dps:
        raise FileFormatError(f"{where}: event {event.get('id')} has no datapoints")
    rate = event_rate(event, dps, where)
    three_d = not force_magnitude and all(_has_good_3d(dp) for dp in dps)
    keyed = []
    for dp in dps:
        values, in_ms2 = _block_values(dp, where, rate, three_d)
        end = parse_time(dp.get("dataTime"), where)
        keyed.append((end - values.shape[0] / rate, in_ms2, dp.get("id", 0), values, dp))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    t_ref = _reference_time(event, [k[0] for k in keyed], where)
    placed, gaps, dropped = lay_blocks([(k[0], k[3]) for k in keyed], rate)
    blocks = [(at, values) for at, values, _ in placed]
    converted = sum(keyed[i][1] for _, _, i in placed)
    phrases = [(at + values.shape[0] / rate, str(keyed[i][4].get("alarmPhrase", ""))) for at, values, i in placed]
    keys = tuple(datapoint_key(k[4], where) for k in keyed)
    return PlacedEvent(event, t_ref, blocks, rate, three_d, gaps, dropped, converted, keys, phrases)


def event_rate(event: dict, dps: list[dict], where: str) -> float:
    """Sampling rate of an event, Hz, from the file.

    ``sampleFreq`` is used unless the datapoints arrive regularly (>= 75 % of the steps between
    datapoint times within 1 s of their median) at a spacing that contradicts it by more than 10 %:
    then samples per datapoint / median step is the rate. Event 1046 of testDataVisualisation.json
    says 49 Hz while its 125-sample datapoints arrive every 5 s: there the timing (25 Hz) wins.
    Events with missing datapoints (irregular steps) keep their stated rate.
    """
    sizes = {len(dp.get("rawData") or ()) for dp in dps}
    if len(sizes) != 1 or 0 in sizes:
        raise FileFormatError(f"{where}: event {event.get('id')} has datapoints of different lengths {sorted(sizes)}")
    n = sizes.pop()
    times = np.sort([parse_time(dp.get("dataTime"), where) for dp in dps])
    steps = np.diff(times)
    steps = steps[steps > 0]
    stated = {_stated_rate(dp.get("sampleFreq", event.get("sampleFreq"))) for dp in dps} - {None}
    if steps.size == 0:
        if len(stated) == 1:
            return float(stated.pop())
        raise FileFormatError(f"{where}: event {event.get('id')}: rate unknown (one datapoint, no sampleFreq)")
    median_step = float(np.median(steps))
    timed = n / median_step
    regular = np.mean(np.abs(steps - median_step) <= REGULAR_STEP_TOL_S) >= REGULAR_FRACTION
    if len(stated) == 1:
        claimed = float(stated.pop())
        if abs(claimed - timed) <= 0.1 * timed or not regular:
            return claimed
        return timed
    if not regular:
        raise FileFormatError(f"{where}: event {event.get('id')}: no sampleFreq and irregular datapoint times")
    return timed


def _seizure_times(event: dict) -> tuple[float, float] | None:
    st = event.get("seizureTimes")
    if isinstance(st, list) and len(st) == 2 and all(isinstance(v, (int, float)) for v in st):
        return float(st[0]), float(st[1])
    return None


def subtype_of(event: dict) -> str:
    sub = event.get("subType")
    return sub if isinstance(sub, str) and sub and sub.lower() != "null" else "unspecified"


def _event_source(path: Path, placed: PlacedEvent, placement: str, fmt: str) -> tuple[ArraySource, dict]:
    ev = placed.event
    origin = placed.blocks[0][0]
    ch = 3 if placed.three_d else 1
    names = ("x", "y", "z") if placed.three_d else ("magnitude",)
    info = DeviceInfo(f"osdb:user{ev.get('userId')}", str(ev.get("watchSdVersion", "")), 0, placement,
                      (accel_stream(placed.rate_hz, ch, names),), f"file:{path}#event{ev.get('id')}")
    segments = [Segment("accel", s - origin, placed.rate_hz, v) for s, v in placed.blocks]
    faults = tuple(Fault("gap", a - origin, b - origin, "accel", "missing OSDB datapoints") for a, b in placed.gaps)
    sz = _seizure_times(ev)
    annotations = []
    user = ev.get("userId")
    meta = {"event_id": ev.get("id"), "user_id": user, "subject": None if user is None else f"user{user}",
            "type": ev.get("type"), "subtype": subtype_of(ev), "desc": ev.get("desc"), "seizure": None,
            "dropped_datapoints": placed.dropped, "converted_datapoints": placed.converted,
            "three_axis": placed.three_d, "ref_offset_s": placed.t_ref_unix - origin,
            "datapoint_keys": placed.keys,
            "osd_phrases": [(t - origin, phrase) for t, phrase in placed.phrases]}
    if sz is not None:
        onset = placed.t_ref_unix + sz[0] - origin
        meta["seizure"] = [onset, placed.t_ref_unix + sz[1] - origin]
        annotations.append(Annotation(onset, sz[1] - sz[0], f"{str(ev.get('type', 'event')).lower()}:{subtype_of(ev)}"))
    return ArraySource(path, fmt, info, segments, tuple(annotations), faults), meta


def _load_json(path: Path):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path}: not valid JSON ({exc}); truncated?") from None


def read_osdb(path: Path, placement: str | None = None) -> ArraySource:
    """An OSDB event file (one event object or a list of events), format ``osdb``."""
    data = _load_json(path)
    if isinstance(data, dict) and "unique_events" in data:  # a report whose key came late for sniffing
        return read_osdb_report(path, placement)
    events = data if isinstance(data, list) else [data]
    if not events or not all(isinstance(e, dict) and "datapoints" in e for e in events):
        raise FileFormatError(f"{path}: not Open Seizure Database JSON (events need 'datapoints')")
    return events_source(path, events, placement, "osdb")


def read_osdb_report(path: Path, placement: str | None = None) -> ArraySource:
    """An OSDB curator test report: the events of its ``unique_events`` list, format ``osdb_report``."""
    data = _load_json(path)
    events = data.get("unique_events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) and "datapoints" in e for e in events):
        raise FileFormatError(f"{path}: not an OSDB curator report (needs a non-empty 'unique_events' "
                              f"list of events with 'datapoints')")
    return events_source(path, events, placement, "osdb_report")


def events_source(path: Path, events: list[dict], placement: str | None, fmt: str) -> ArraySource:
    """OSDB events as one source: a case per event, all events joined on the real clock.

    Parameters
    ----------
    path : the file, for messages and DeviceInfo
    events : OSDB event objects (each with ``datapoints``)
    placement : override of the dataset's placement (wrist)
    fmt : format name of the resulting sources
    """
    place = resolve_placement("wrist", placement)
    placed_each = [place_event(e, str(path)) for e in events]
    cases = []
    for p in placed_each:
        src, meta = _event_source(path, p, place, fmt)
        cases.append(Case(f"event{p.event.get('id')}", meta["subtype"], src, meta))
    # The joined stream needs one channel layout: 3 axes only if every event has them.
    all_3d = all(p.three_d for p in placed_each)
    joined = placed_each if all_3d else [place_event(e, str(path), force_magnitude=True) for e in events]
    rate = joined[0].rate_hz
    if any(p.rate_hz != rate for p in joined):
        raise FileFormatError(f"{path}: events at different sample rates cannot be joined")
    origin = min(p.blocks[0][0] for p in joined)
    # Several events can cover the same time (one seizure reported twice): lay every block of
    # every event on the real clock with the same rule as within an event, so no sample is
    # repeated and none is lost; every event keeps its annotations.
    blocks = sorted(((start, i, values) for i, p in enumerate(joined) for start, values in p.blocks),
                    key=lambda b: (b[0], b[1]))
    placed, gaps, _ = lay_blocks([(start, values) for start, _, values in blocks], rate)
    segments = [Segment("accel", at - origin, rate, values) for at, values, _ in placed]
    faults = [Fault("gap", a - origin, b - origin, "accel", "no OSDB datapoints") for a, b in gaps]
    annotations = []
    for p in joined:
        ev = p.event
        ev_start, ev_end = p.blocks[0][0], p.blocks[-1][0] + p.blocks[-1][1].shape[0] / rate
        annotations.append(Annotation(ev_start - origin, ev_end - ev_start, f"event:{ev.get('id')}"))
        sz = _seizure_times(ev)
        if sz is not None:
            annotations.append(Annotation(p.t_ref_unix + sz[0] - origin, sz[1] - sz[0],
                                          f"{str(ev.get('type', 'event')).lower()}:{subtype_of(ev)}"))
    annotations.sort(key=lambda a: a.onset_s)
    ch = 3 if all_3d else 1
    info = DeviceInfo("osdb", "", 0, place,
                      (accel_stream(rate, ch, ("x", "y", "z") if all_3d else ("magnitude",)),), f"file:{path}")
    return ArraySource(path, fmt, info, segments, tuple(annotations), tuple(faults), tuple(cases))
