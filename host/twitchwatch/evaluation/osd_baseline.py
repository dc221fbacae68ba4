"""OpenSeizureDetector as a baseline: OSD's block test (:mod:`twitchwatch.core.osd`) plus its alarm
logic, with the Detector's streaming interface.

The block test (25 Hz magnitude in milli-g, 5 s blocks, ROI power and ratio) lives in
:mod:`twitchwatch.core.osd`, where the twitchwatch detector also uses it as an input. This module
adds what the OSD app does with it: an alarm count grows by 5 s per consecutive positive block and
resets on a negative one; warning when it exceeds 5 s, alarm when it exceeds 10 s. A gap (a Fault
of kind "gap", or a chunk that does not continue the previous one) discards the partial block and
resets the alarm count, as a watch restarting its analysis would. The code reproduces the
``specPower`` and ``roiPower`` the watches stored in the Open Seizure Database on 99.7 % of its
1,696 datapoints (tests/host/evaluation/test_osd_baseline.py).

The class offers the same interface as the twitchwatch Detector (``process``, ``process_fault``,
``finish`` returning :class:`~twitchwatch.model.DetectorOutput`), so the evaluation runs both on
exactly the same items.
"""

from __future__ import annotations

import numpy as np

from twitchwatch.core.osd import OsdConfig, OsdStream, positive_windows, roi_ratio, window_powers
from twitchwatch.errors import ConfigError
from twitchwatch.model import Alert, Chunk, DetectorOutput, DeviceInfo, Episode, Fault, WindowLabel

__all__ = ["OsdBaseline", "OsdConfig", "positive_windows", "roi_ratio", "window_powers"]

_RANK = {"": 0, "warning": 1, "alarm": 2}


class OsdBaseline:
    """OpenSeizureDetector's algorithm with the Detector's streaming interface.

    Parameters
    ----------
    device_info : the source's DeviceInfo; its accel stream (any rate, 1 or 3 channels, g) is used
    config : :class:`~twitchwatch.core.osd.OsdConfig`
    """

    def __init__(self, device_info: DeviceInfo, config: OsdConfig = OsdConfig()):
        accel = device_info.stream("accel")
        if accel is None:
            raise ConfigError(f"{device_info.source or device_info.device_id}: OSD needs an accelerometer stream")
        if accel.channels not in (1, 3):
            raise ConfigError(f"{device_info.source}: OSD needs 3 axes or 1 magnitude channel, got {accel.channels}")
        self.config = config
        self.channels = accel.channels
        self._stream: OsdStream | None = None
        self._expected_t: float | None = None
        self._count_s = 0.0
        self._episode_start = 0.0
        self._episode_level = ""
        self._episode_windows = 0
        self._episode_hz: list[float] = []
        self._last_window_end = 0.0

    def process(self, chunk: Chunk) -> DetectorOutput:
        if chunk.stream != "accel" or chunk.n == 0:
            return DetectorOutput()
        out: list[DetectorOutput] = []
        if self._expected_t is not None and abs(chunk.t0_s - self._expected_t) > 0.5 / chunk.rate_hz:
            out.append(self._gap())
        if self._stream is None:
            self._stream = OsdStream(chunk.rate_hz, self.channels, chunk.t0_s, self.config)
        self._expected_t = chunk.t_end_s
        out.append(self._alarm_logic(self._stream.push(chunk.samples)))
        return DetectorOutput.concat(out)

    def process_fault(self, fault: Fault) -> DetectorOutput:
        if fault.kind == "gap" and fault.end_s > fault.start_s:
            return self._gap()
        return DetectorOutput()

    def finish(self) -> DetectorOutput:
        return self._close_episode(self._last_window_end)

    def _gap(self) -> DetectorOutput:
        out = self._close_episode(self._last_window_end)
        self._count_s = 0.0
        self._stream = None
        self._expected_t = None
        return out

    def _alarm_logic(self, b) -> DetectorOutput:
        cfg = self.config
        windows, alerts, episodes = [], [], []
        for w in range(b.count):  # one block per 5 s: the alarm count is sequential
            end = float(b.end_s[w])
            start = end - cfg.block_s
            self._last_window_end = end
            pos = bool(b.positive[w])
            windows.append(WindowLabel(start, end, "rhythmic_jerking" if pos else "quiet",
                                       float(min(1.0, b.ratio[w] / 100.0)), float(b.peak_hz[w]), float(b.ratio[w])))
            if not pos:
                episodes.extend(self._close_episode(start).episodes)
                self._count_s = 0.0
                continue
            if self._count_s == 0.0:
                self._episode_start, self._episode_level = start, ""
                self._episode_windows, self._episode_hz = 0, []
            self._count_s += cfg.block_s
            self._episode_windows += 1
            self._episode_hz.append(float(b.peak_hz[w]))
            level = "alarm" if self._count_s > cfg.alarm_time_s else "warning" if self._count_s > cfg.warn_time_s else ""
            if _RANK[level] > _RANK[self._episode_level]:
                self._episode_level = level
                alerts.append(Alert(level, "rhythmic_jerking", end, self._episode_start,
                                    (("roi_power", float(b.roi[w])), ("roi_ratio", float(b.ratio[w])),
                                     ("spec_power", float(b.spec[w])), ("dominant_hz", float(b.peak_hz[w])))))
        return DetectorOutput(windows=tuple(windows), alerts=tuple(alerts), episodes=tuple(episodes))

    def _close_episode(self, end: float) -> DetectorOutput:
        if self._count_s > 0 and self._episode_level:
            ep = Episode("rhythmic_jerking", self._episode_start, end, float(np.median(self._episode_hz)),
                         self._episode_windows, self._episode_level)
            self._count_s = 0.0
            self._episode_level = ""
            return DetectorOutput(episodes=(ep,))
        return DetectorOutput()
