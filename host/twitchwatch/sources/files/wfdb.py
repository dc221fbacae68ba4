"""PhysioNet WFDB records (``.hea`` header + ``.dat`` signal file), format 16 only.

Format 16 is little-endian int16, channels interleaved (WFDB "signal(5)" manual). Physical value =
(digital - baseline) / gain in the header's units; the emgdb records give ``10000/mV`` and
baseline 0, so uV = digital / 10000 * 1000. The rate is the header's sampling frequency
(4000 Hz for emgdb). Signals are read as EMG (the emgdb records are concentric-needle EMG of
tibialis anterior); the header's comment lines become annotations.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Annotation, DeviceInfo, StreamInfo

from .base import ArraySource, Segment, resolve_placement

UV_PER_UNIT = {"uv": 1.0, "mv": 1000.0, "v": 1e6}
GAIN_RE = re.compile(r"^(?P<gain>[-+0-9.eE]+)(?:\((?P<base>[-+0-9]+)\))?(?:/(?P<unit>\S+))?$")


def parse_header(hea: Path) -> tuple[float, int, list[dict], list[str]]:
    try:
        lines = hea.read_text(encoding="ascii", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{hea}: cannot read WFDB header ({exc})") from None
    comments = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
    body = [ln.split() for ln in lines if ln.strip() and not ln.startswith("#")]
    if not body:
        raise FileFormatError(f"{hea}: empty WFDB header")
    rec = body[0]
    try:
        nsig = int(rec[1])
        fs = float(rec[2].split("/")[0]) if len(rec) > 2 else 250.0
        nsamp = int(rec[3]) if len(rec) > 3 else -1
    except (IndexError, ValueError):
        raise FileFormatError(f"{hea}: bad WFDB record line {' '.join(rec)!r}") from None
    if len(body) - 1 < nsig or nsig < 1:
        raise FileFormatError(f"{hea}: header announces {nsig} signals, describes {len(body) - 1}")
    sigs = []
    for fields in body[1:1 + nsig]:
        try:
            fmt = fields[1].split("x")[0].split(":")[0].split("+")[0]
            m = GAIN_RE.match(fields[2]) if len(fields) > 2 else None
            gain = float(m["gain"]) if m else 200.0
            unit = (m["unit"] if m and m["unit"] else "mV").lower()
            adczero = int(fields[4]) if len(fields) > 4 else 0
            base = int(m["base"]) if m and m["base"] else adczero
            desc = " ".join(fields[8:]) if len(fields) > 8 else f"sig{len(sigs)}"
        except (IndexError, ValueError):
            raise FileFormatError(f"{hea}: bad WFDB signal line {' '.join(fields)!r}") from None
        if fmt != "16":
            raise FileFormatError(f"{hea}: WFDB format {fmt} not supported (only format 16)")
        if unit not in UV_PER_UNIT:
            raise FileFormatError(f"{hea}: signal unit {unit!r} is not a voltage")
        sigs.append({"file": fields[0], "gain": gain if gain != 0 else 200.0, "base": base,
                     "uv_per_unit": UV_PER_UNIT[unit], "name": desc})
    if len({s["file"] for s in sigs}) != 1:
        raise FileFormatError(f"{hea}: signals in several .dat files are not supported")
    return fs, nsamp, sigs, comments


def read_wfdb(path: Path, placement: str | None = None) -> ArraySource:
    hea = path.with_suffix(".hea")
    if not hea.exists():
        raise FileFormatError(f"{path}: WFDB header {hea.name} not found beside it")
    fs, nsamp, sigs, comments = parse_header(hea)
    dat = hea.parent / sigs[0]["file"]
    try:
        raw = np.fromfile(dat, dtype="<i2")
    except OSError as exc:
        raise FileFormatError(f"{dat}: cannot read WFDB signal file ({exc})") from None
    nsig = len(sigs)
    if raw.size % nsig:
        raise FileFormatError(f"{dat}: {raw.size} samples is not a multiple of {nsig} signals (truncated?)")
    digital = raw.reshape(-1, nsig)
    if nsamp >= 0 and digital.shape[0] != nsamp:
        raise FileFormatError(f"{dat}: header says {nsamp} samples per signal, file holds {digital.shape[0]} (truncated?)")
    gain = np.array([s["gain"] for s in sigs])
    base = np.array([s["base"] for s in sigs])
    uv = np.array([s["uv_per_unit"] for s in sigs])
    samples_uv = (digital.astype(np.float64) - base) / gain * uv
    full_scale_uv = float(np.max(32767.0 / gain * uv))
    info = DeviceInfo(
        device_id=f"wfdb:{hea.stem}", firmware_version="", protocol_version=0,
        placement=resolve_placement("foot", placement),
        streams=(StreamInfo("emg", fs, nsig, full_scale_uv, 0.0, tuple(s["name"] for s in sigs)),),
        source=f"file:{hea}",
    )
    duration = digital.shape[0] / fs
    annotations = tuple(Annotation(0.0, duration, c) for c in comments if c)
    return ArraySource(hea, "wfdb", info, [Segment("emg", 0.0, fs, samples_uv)], annotations=annotations)
