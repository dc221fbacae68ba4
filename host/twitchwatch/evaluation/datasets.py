"""The public real recordings as scoring units: which files, how labelled, whose they are.

One skeleton serves every set: a set is a folder, a reader (:func:`twitchwatch.sources.files.open_file`
with its cases), a labelling rule (does it hold seizures; are they acted) and a group key (the
person, ``meta["subject"]``, or the set itself where persons are unknown). Adding a set is one
:class:`RealSet` line in :data:`SETS`.

A *unit* is what gets a fresh detector: an OSDB event, a UEA case, one recording file (one foot of a
gaitmap file). A *group* is what cross-fitting leaves out together: a person, or a source whose
persons are unknown. Events of the Open Seizure Database that share raw datapoints (the same
5 s of data stored in two events) are deduplicated: one is kept, preferring a labelled seizure and
then tonic-clonic (the more severe label); all of a user's events are one group anyway.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from twitchwatch.errors import ConfigError
from twitchwatch.sources.files import Case, FileSource, open_file
from twitchwatch.sources.files.osdb import overlapping_event_groups
from twitchwatch.sources.files.resample import upsample_accel

#: Placements a model exists for, and the one each recording placement uses.
MODEL_PLACEMENT = {"wrist": "wrist", "foot": "foot", "ankle": "foot"}
#: UEA acted seizures are healthy people imitating a seizure (sinusoidal, unlike real ones,
#: PHYSIOLOGY.md): their windows train the model at this fraction of a real seizure's weight
#: (DETECTION_NOTES.md: x 0.2).
ACTED_WEIGHT = 0.2


@dataclass(frozen=True)
class RealSet:
    """One folder of ``../shared/data/real``.

    folder : the set's name and folder; pattern : glob of its recordings (relative, ``**`` allowed);
    fmt : reader format; group_prefix : persons of sets sharing a prefix are the same people;
    seizures : the set holds labelled seizures; train : used to train (else evaluated only);
    acted : its seizures are acted; min_accel_hz : upsampled to this for the detector (0: as is).
    """

    folder: str
    pattern: str
    fmt: str
    group_prefix: str
    seizures: bool = False
    train: bool = True
    acted: bool = False


SETS: tuple[RealSet, ...] = (
    RealSet("osdb_seizure_samples", "*.json", "osdb", "osdb", seizures=True),
    RealSet("osdb_false_alarms", "*.json", "osdb_report", "osdb"),
    RealSet("uea_epilepsy", "*.ts", "uea", "uea_epilepsy", seizures=True, acted=True),
    RealSet("uea_basicmotions", "*.ts", "uea", "uea_basicmotions"),
    RealSet("adl_wrist_accelerometer", "*/*.txt", "adl", "adl"),
    RealSet("osd_watch_daylogs", "*.csv", "osd_log", "osd_watch_daylogs"),
    RealSet("smartwatch_har", "s*/*.csv", "har_csv", "smartwatch_har"),
    RealSet("daphnet_fog", "S*.txt", "daphnet", "daphnet_fog"),
    RealSet("foot_gait_ipol", "*_[lr]f.txt", "ipol", "foot_gait_ipol"),
    # imu_sample_not_rotated.csv is imu_sample.csv in the sensor's own frame: the same walk twice
    RealSet("foot_gait_gaitmap", "imu_sample*.csv", "gaitmap", "foot_gait_gaitmap"),
    RealSet("physionet_emgdb", "*.hea", "wfdb", "physionet_emgdb", train=False),
)
SET_NAMES = tuple(s.folder for s in SETS)
#: Files a set's pattern matches that are not separate recordings (see SETS).
SKIP_FILES = {"foot_gait_gaitmap": ("imu_sample_not_rotated.csv",)}


@dataclass(frozen=True, eq=False)
class Unit:
    """One recording (or case) that gets a fresh detector.

    set : folder name; name : file/case name; group : cross-fitting group; placement : the model's
    placement ("wrist" or "foot"); source : the samples (accel upsampled to the detector's minimum
    where slower); osd_source : the same recording as read (OSD resamples on its own);
    seizure : labelled [start, end] s or None; subtype : "tonic_clonic", "other" or "";
    label : the case's or file's activity; weight : of its seizure windows in training.
    """

    set: str
    name: str
    group: str
    placement: str
    source: FileSource
    osd_source: FileSource
    seizure: tuple[float, float] | None
    subtype: str
    label: str
    weight: float
    train: bool

    @property
    def duration_s(self) -> float:
        return self.source.duration_s


def _subtype(meta: dict) -> str:
    sub = str(meta.get("subtype") or "")
    return "tonic_clonic" if sub.replace("-", "_").lower() == "tonic_clonic" else "other"


def load_units(root: Path, min_accel_hz: float, only: tuple[str, ...] = SET_NAMES) -> tuple[list[Unit], dict]:
    """Every unit of every set found under ``root``, and facts about what was read.

    Returns
    -------
    units : in set order, then file order
    facts : per set, files read, units kept, OSDB duplicates dropped, unlabelled events skipped
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a folder of recordings")
    units: list[Unit] = []
    facts: dict = {}
    osdb_cases = []
    for rs in SETS:
        if rs.folder not in only:
            continue
        files = sorted(p for p in (root / rs.folder).glob(rs.pattern)
                       if p.is_file() and p.name not in SKIP_FILES.get(rs.folder, ()))
        if not files:
            continue
        fact = facts.setdefault(rs.folder, {"files": len(files), "units": 0, "unlabelled_skipped": 0})
        for f in files:
            src = open_file(f, rs.fmt)
            cases = src.cases() or (Case(f.stem, "", src, {"subject": None, "seizure": None}),)
            for case in cases:
                meta = case.meta
                seizure = meta.get("seizure")
                if rs.folder == "osdb_seizure_samples" and seizure is None:
                    fact["unlabelled_skipped"] += 1  # an event without seizure times cannot be scored
                    continue
                if rs.fmt in ("osdb", "osdb_report"):
                    osdb_cases.append((rs, case))
                    continue
                units.append(_unit(rs, case, min_accel_hz))
    if osdb_cases:
        units = _dedup_osdb(osdb_cases, min_accel_hz, facts) + units
    for u in units:
        facts[u.set]["units"] += 1
    order = {name: i for i, name in enumerate(SET_NAMES)}
    units.sort(key=lambda u: order[u.set])
    return units, facts


def _unit(rs: RealSet, case, min_accel_hz: float) -> Unit:
    src = case.source
    meta = case.meta
    subject = meta.get("subject")
    group = rs.group_prefix if subject is None else f"{rs.group_prefix}:{subject}"
    seizure = meta.get("seizure")
    placement = MODEL_PLACEMENT.get(src.device_info.placement or "foot", "foot")
    accel = src.device_info.stream("accel")
    tw_src = upsample_accel(src, min_accel_hz) if accel is not None and accel.rate_hz < min_accel_hz else src
    return Unit(rs.folder, case.name, group, placement, tw_src, src,
                None if seizure is None else (float(seizure[0]), float(seizure[1])),
                _subtype(meta) if seizure is not None else "", str(case.label),
                ACTED_WEIGHT if (rs.acted and seizure is not None) else 1.0, rs.train)


def _dedup_osdb(cases: list, min_accel_hz: float, facts: dict) -> list[Unit]:
    """One unit per group of OSDB events sharing datapoints (seizure over none, tonic-clonic first)."""
    groups = overlapping_event_groups([c for _, c in cases])
    best: dict = {}
    for rs, case in cases:
        g = groups[case.meta["event_id"]]
        rank = (case.meta.get("seizure") is not None, _subtype(case.meta) == "tonic_clonic")
        if g not in best or rank > best[g][0]:
            best[g] = (rank, rs, case)
    dropped = Counter(rs.folder for rs, c in cases) - Counter(rs.folder for _, rs, c in best.values())
    for folder, n in dropped.items():
        facts[folder]["duplicates_dropped"] = n
    kept = sorted(best.values(), key=lambda v: (v[1].folder, str(v[2].meta["event_id"])))
    return [_unit(rs, case, min_accel_hz) for _, rs, case in kept]
