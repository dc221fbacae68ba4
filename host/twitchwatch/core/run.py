"""The one loop that drives a detector: feed items, collect what became final.

Every place that runs a detector over items (replay, evaluation, training, bench) calls
:func:`feed` per item or :func:`run` over an iterable, so a chunk's path from a source to an alert
is the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from twitchwatch.model import Chunk, DetectorOutput, Fault


class Analyser(Protocol):
    """What :func:`feed` drives: the twitchwatch Detector, or the OpenSeizureDetector baseline."""

    def process(self, chunk: Chunk) -> DetectorOutput: ...

    def process_fault(self, fault: Fault) -> DetectorOutput: ...

    def finish(self) -> DetectorOutput: ...


def feed(detector: Analyser, item: object) -> DetectorOutput:
    """One source item into ``detector``: a Chunk is analysed, a Fault reported, anything else
    (DeviceInfo, Mark, Status) passes by with an empty output."""
    if isinstance(item, Chunk):
        return detector.process(item)
    if isinstance(item, Fault):
        return detector.process_fault(item)
    return DetectorOutput()


def run(detector: Analyser, items: Iterable[object]) -> DetectorOutput:
    """Every item into ``detector``, then ``finish()``: everything it output, concatenated."""
    outs = [feed(detector, item) for item in items]
    outs.append(detector.finish())
    return DetectorOutput.concat(outs)
