"""Make the sample sessions in this folder with the virtual device (reproducible: fixed seeds).

Each session goes the way a live one does: the virtual device's frames are encoded on the wire
(protocol v1), decoded by the same DeviceStream the serial and BLE sources use, and written by
the SessionWriter, with the simulator's ground truth as annotations.

Run: .venv/bin/python recordings/make_recordings.py
"""

from __future__ import annotations

from pathlib import Path

from twitchwatch.model import DeviceInfo
from twitchwatch.protocol import encode
from twitchwatch.recording import SessionWriter
from twitchwatch.sources.device_stream import DeviceStream
from twitchwatch.virtual import VirtualDevice

HERE = Path(__file__).resolve().parent
#: name -> (scenario text, seed, what it is)
SESSIONS = {
    "quiet_fasciculations": ("quiet:20,fasciculation[rate_per_min=40]:40", 11,
                             "60 s at rest: a low background, then fasciculations (~40/min) - benign, no alert expected"),
    "walk": ("quiet[posture=standing]:10,walking:40,stairs:10", 12,
             "60 s: standing, level walking, stairs - voluntary movement, no alert expected"),
    "rhythmic_jerking": ("quiet:20,rhythmic_jerking:40,quiet[posture=lying]:15", 13,
                         "75 s: rest, 40 s of focal clonic jerking (slowing bursts), rest - a warning/alarm expected"),
    "tremor": ("quiet:10,tremor[kind=rest]:50", 14,
               "60 s: rest, then a 4-6 Hz rest tremor (agonist/antagonist alternating) - reported, never alarmed"),
}
#: A fixed wall-clock start so the files are byte-for-byte reproducible (2026-01-01 09:00 UTC).
STARTED_AT_UNIX = 1767258000.0


def make(name: str, scenario: str, seed: int) -> Path:
    out = HERE / f"{name}.twr"
    dev = VirtualDevice(scenario, seed=seed)
    stream = DeviceStream(f"virtual:{name}")
    writer = None
    t_last = 0.0
    for _, frame in dev.frames():
        for item in stream.feed(encode(frame)):
            if isinstance(item, DeviceInfo):
                if writer is None:
                    writer = SessionWriter(out, item, force=True, started_at_unix=STARTED_AT_UNIX, fsync=False,
                                           wall_clock=False)
                continue
            if hasattr(item, "stream") and hasattr(item, "samples"):
                writer.write_chunk(item)
                t_last = max(t_last, item.t_end_s)
            elif hasattr(item, "kind"):
                writer.write_fault(item)
            elif hasattr(item, "battery_pct"):
                writer.write_status(item)
            else:
                writer.write_mark(item)
    writer.write_annotations(dev.annotations_until(t_last + 1e-9), kind="truth")
    writer.close({"closed_at_unix": STARTED_AT_UNIX + t_last, "scenario": scenario, "seed": seed})
    return out


if __name__ == "__main__":
    for name, (scenario, seed, _) in SESSIONS.items():
        path = make(name, scenario, seed)
        print(f"{path.name}: {path.stat().st_size / 1000:.0f} kB")
