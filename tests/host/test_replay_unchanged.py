"""Refactors and speed-ups keep the detector's outputs: ``replay --json`` of every sample
recording and every real file is byte for byte what it was when the digests were saved (wall
times aside; see tests/host/replay_outputs.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import replay_outputs  # noqa: E402


def _check(root_name: str) -> None:
    saved = {k: v for k, v in json.loads(replay_outputs.SAVED.read_text()).items() if k.startswith(root_name + "/")}
    now = replay_outputs.digests({root_name: replay_outputs.ROOTS[root_name]})
    assert sorted(now) == sorted(saved), "the set of replayable files changed"
    changed = sorted(k for k in saved if now[k] != saved[k])
    assert not changed, f"{len(changed)} of {len(saved)} replay outputs changed, e.g. {changed[:5]}"


def test_the_sample_recordings_replay_as_saved():
    _check("recordings")


def test_every_real_file_replays_as_saved(real_data):
    assert real_data == replay_outputs.ROOTS["real"]
    _check("real")


def test_the_digest_sees_a_change_in_the_output(monkeypatch):
    """The check can fail: one event fewer changes the digest of the file."""
    key = "recordings/walk.twr"
    before = replay_outputs.digest(("recordings", "walk.twr"))[1]
    import twitchwatch.replay as rp

    real_output = rp._Emitter.output

    def drop_first_event(self, out):
        if out and out.events and not getattr(self, "_dropped", False):
            self._dropped = True
            out = type(out)(**{**out.__dict__, "events": out.events[1:]})
        real_output(self, out)

    monkeypatch.setattr(rp._Emitter, "output", drop_first_event)
    after = replay_outputs.digest(("recordings", "walk.twr"))[1]
    assert before != after, key
