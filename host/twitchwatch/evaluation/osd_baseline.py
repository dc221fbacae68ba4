"""OpenSeizureDetector's accelerometer algorithm, as a baseline for the real-data evaluation only.

Implemented from its published description (OpenSeizureDetector project, Graham Jones et al.;
summarised in ../shared/PHYSIOLOGY.md):

- acceleration magnitude in milli-g at 25 Hz; every 5 s a window of 125 samples;
- unnormalised real FFT, power per bin = re^2 + im^2 (bin width 25 / 125 = 0.2 Hz);
- whole-spectrum power = sum of bins 1..60 (0.2-12 Hz) / 125 / 2; region-of-interest (ROI) power
  = sum of bins 15..39 (3 to < 8 Hz) / 25; both divided by 1000 and truncated to integers;
- a window is positive when ROI power > 100 and 10 * ROI / spectrum power > 57 (integer
  arithmetic);
- an alarm count grows by 5 s per consecutive positive window and resets on a negative one:
  warning when it exceeds 5 s, alarm when it exceeds 10 s.

One detail the description leaves open is matched to the watch's own recorded values: when the
truncated spectrum power is 0 the watch reports 1 (so the ratio is defined). With that, this code
reproduces the ``specPower`` and ``roiPower`` the watches stored in the Open Seizure Database on
99.7 % of its 1,696 datapoints (all but 5) and ``roiRatio`` on all that carry it (tests/host/evaluation/test_osd_baseline.py).

Matching other recordings to what the watch sees (stated in docs/real-data-evaluation.md):
- units: g -> milli-g (x 1000); 3-axis -> magnitude sqrt(x^2 + y^2 + z^2) computed AFTER
  resampling each axis, as the watch resamples axes and then takes the magnitude; a 1-channel
  stream is taken to be the magnitude already;
- rate: 25 Hz input is used as is. Higher rates are low-pass filtered per axis (Butterworth, order
  8, 11 Hz, streaming SOS with carried state: keeps the 0.2-12 Hz spectrum OSD uses and suppresses
  what would alias into it) and then linearly interpolated at 25 Hz. Lower rates (10, 16 Hz) are
  linearly interpolated up to 25 Hz: nothing above their own Nyquist frequency exists to find;
- a gap (a Fault of kind "gap", or a chunk that does not continue the previous one) discards the
  partial window and resets the alarm count, as a watch restarting its analysis would.

The class offers the same streaming interface as the twitchwatch Detector (``process``,
``process_fault``, ``finish`` returning :class:`~twitchwatch.model.DetectorOutput`), so the
evaluation runs both on exactly the same items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from twitchwatch.errors import ConfigError
from twitchwatch.model import Alert, Chunk, DetectorOutput, DeviceInfo, Episode, Fault, WindowLabel

MG_PER_G = 1000.0


@dataclass(frozen=True)
class OsdConfig:
    """OpenSeizureDetector's default settings (PHYSIOLOGY.md; the OSD app's defaults).

    Attributes
    ----------
    rate_hz : analysis rate, Hz (25)
    window_n : samples per analysis window (125 = 5 s)
    spec_bins : (first, last) FFT bins of the whole spectrum, inclusive (1..60 = 0.2-12 Hz)
    roi_bins : (first, last) FFT bins of the region of interest, inclusive (15..39 = 3-<8 Hz)
    alarm_thresh : ROI power threshold (100)
    alarm_ratio_thresh : 10 x ROI / spectrum threshold (57)
    warn_time_s, alarm_time_s : the alarm count must exceed these (5 s, 10 s)
    antialias_order, antialias_hz : low-pass applied before downsampling to 25 Hz (8, 11 Hz)
    """

    rate_hz: float = 25.0
    window_n: int = 125
    spec_bins: tuple[int, int] = (1, 60)
    roi_bins: tuple[int, int] = (15, 39)
    alarm_thresh: int = 100
    alarm_ratio_thresh: int = 57
    warn_time_s: float = 5.0
    alarm_time_s: float = 10.0
    antialias_order: int = 8
    antialias_hz: float = 11.0


def window_powers(mag_mg: np.ndarray, config: OsdConfig = OsdConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Spectrum and ROI power of each window, as the watch computes them.

    Parameters
    ----------
    mag_mg : array, shape (n_windows, window_n): acceleration magnitude, milli-g, at 25 Hz

    Returns
    -------
    spec_power, roi_power : int64 arrays, shape (n_windows,)
    """
    mag_mg = np.atleast_2d(np.asarray(mag_mg, dtype=np.float64))
    power = np.abs(np.fft.rfft(mag_mg, axis=1)) ** 2
    s0, s1 = config.spec_bins
    r0, r1 = config.roi_bins
    spec = np.floor(power[:, s0:s1 + 1].sum(axis=1) / config.window_n / 2 / 1000).astype(np.int64)
    roi = np.floor(power[:, r0:r1 + 1].sum(axis=1) / (r1 - r0 + 1) / 1000).astype(np.int64)
    return np.maximum(spec, 1), roi


def roi_ratio(spec_power: np.ndarray, roi_power: np.ndarray) -> np.ndarray:
    """10 x ROI / spectrum power, integer division (int64 array)."""
    return (10 * np.asarray(roi_power, np.int64)) // np.maximum(np.asarray(spec_power, np.int64), 1)


def positive_windows(spec_power: np.ndarray, roi_power: np.ndarray, config: OsdConfig = OsdConfig()) -> np.ndarray:
    """Boolean array: ROI power > alarm_thresh and 10 x ROI / spectrum > alarm_ratio_thresh."""
    return (np.asarray(roi_power) > config.alarm_thresh) & (roi_ratio(spec_power, roi_power) > config.alarm_ratio_thresh)


class _Resampler:
    """Streaming per-axis resampling of one gap-free run to the analysis rate (see module doc)."""

    def __init__(self, rate_in: float, channels: int, config: OsdConfig):
        self.rate_in = rate_in
        self.rate_out = config.rate_hz
        self.sos = None
        if rate_in > self.rate_out:
            self.sos = signal.butter(config.antialias_order, config.antialias_hz, fs=rate_in, output="sos")
            self.zi = np.zeros((self.sos.shape[0], 2, channels))
        self.n_in = 0          # input samples consumed so far
        self.n_out = 0         # output samples produced so far
        self.last = None       # last input sample (channels,), for interpolation across chunks

    def push(self, x: np.ndarray) -> np.ndarray:
        """Input samples (n, channels) -> the output samples (m, channels) now computable."""
        if self.rate_in == self.rate_out:
            self.n_in += x.shape[0]
            return x
        if self.sos is not None:
            x, self.zi = signal.sosfilt(self.sos, x, axis=0, zi=self.zi)
        if self.last is None:
            idx0, xs = self.n_in, x
        else:
            idx0, xs = self.n_in - 1, np.vstack([self.last[None, :], x])
        self.n_in += x.shape[0]
        self.last = x[-1].copy()
        last_index = self.n_in - 1
        # outputs k with k / rate_out <= last_index / rate_in
        k_end = int(np.floor(last_index * self.rate_out / self.rate_in + 1e-9)) + 1
        if k_end <= self.n_out:
            return np.empty((0, x.shape[1]))
        k = np.arange(self.n_out, k_end)
        pos = k * self.rate_in / self.rate_out - idx0  # fractional index into xs
        self.n_out = k_end
        grid = np.arange(xs.shape[0])
        return np.stack([np.interp(pos, grid, xs[:, c]) for c in range(xs.shape[1])], axis=1)


class OsdBaseline:
    """OpenSeizureDetector's algorithm with the Detector's streaming interface.

    Parameters
    ----------
    device_info : the source's DeviceInfo; its accel stream (any rate, 1 or 3 channels, g) is used
    config : :class:`OsdConfig`
    """

    def __init__(self, device_info: DeviceInfo, config: OsdConfig = OsdConfig()):
        accel = device_info.stream("accel")
        if accel is None:
            raise ConfigError(f"{device_info.source or device_info.device_id}: OSD needs an accelerometer stream")
        if accel.channels not in (1, 3):
            raise ConfigError(f"{device_info.source}: OSD needs 3 axes or 1 magnitude channel, got {accel.channels}")
        self.config = config
        self.channels = accel.channels
        self._reset_run(None)
        self._count_s = 0.0
        self._episode_start = None
        self._episode_level = ""
        self._episode_windows = 0
        self._episode_hz: list[float] = []
        self._last_window_end = 0.0

    def _reset_run(self, t0: float | None) -> None:
        self._run_t0 = t0
        self._expected_t = None
        self._resampler = None
        self._buf = np.empty(0)
        self._buf_start_index = 0  # index (at 25 Hz, from run start) of the first buffered sample

    def process(self, chunk: Chunk) -> DetectorOutput:
        if chunk.stream != "accel" or chunk.n == 0:
            return DetectorOutput()
        out: list[DetectorOutput] = []
        if self._expected_t is not None and abs(chunk.t0_s - self._expected_t) > 0.5 / chunk.rate_hz:
            out.append(self._gap())
        if self._resampler is None:
            self._reset_run(chunk.t0_s)
            self._resampler = _Resampler(chunk.rate_hz, self.channels, self.config)
        self._expected_t = chunk.t_end_s
        y = self._resampler.push(np.asarray(chunk.samples, dtype=np.float64))
        if y.shape[0]:
            mag = np.abs(y[:, 0]) if self.channels == 1 else np.sqrt((y * y).sum(axis=1))
            self._buf = np.concatenate([self._buf, mag * MG_PER_G])
        out.append(self._analyse())
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
        self._reset_run(None)
        return out

    def _analyse(self) -> DetectorOutput:
        cfg = self.config
        n_win = self._buf.size // cfg.window_n
        if n_win == 0:
            return DetectorOutput()
        used = n_win * cfg.window_n
        wins = self._buf[:used].reshape(n_win, cfg.window_n)
        self._buf = self._buf[used:]
        spec, roi = window_powers(wins, cfg)
        ratio = roi_ratio(spec, roi)
        pos = positive_windows(spec, roi, cfg)
        power = np.abs(np.fft.rfft(wins, axis=1)) ** 2
        r0, r1 = cfg.roi_bins
        peak_hz = (r0 + np.argmax(power[:, r0:r1 + 1], axis=1)) * cfg.rate_hz / cfg.window_n
        windows, alerts, episodes = [], [], []
        win_s = cfg.window_n / cfg.rate_hz
        for w in range(n_win):  # a handful of windows per chunk: the alarm count is sequential
            start = self._run_t0 + (self._buf_start_index + w * cfg.window_n) / cfg.rate_hz
            end = start + win_s
            self._last_window_end = end
            windows.append(WindowLabel(start, end, "rhythmic_jerking" if pos[w] else "quiet",
                                       float(min(1.0, ratio[w] / 100.0)), float(peak_hz[w]), float(ratio[w])))
            if pos[w]:
                if self._count_s == 0.0:
                    self._episode_start, self._episode_level = start, ""
                    self._episode_windows, self._episode_hz = 0, []
                self._count_s += win_s
                self._episode_windows += 1
                self._episode_hz.append(float(peak_hz[w]))
                level = "alarm" if self._count_s > cfg.alarm_time_s else "warning" if self._count_s > cfg.warn_time_s else ""
                rank = {"": 0, "warning": 1, "alarm": 2}
                if rank[level] > rank[self._episode_level]:
                    self._episode_level = level
                    alerts.append(Alert(level, "rhythmic_jerking", end, self._episode_start,
                                        (("roi_power", float(roi[w])), ("roi_ratio", float(ratio[w])),
                                         ("spec_power", float(spec[w])), ("dominant_hz", float(peak_hz[w])))))
            else:
                episodes.extend(self._close_episode(start).episodes)
                self._count_s = 0.0
        self._buf_start_index += used
        return DetectorOutput(windows=tuple(windows), alerts=tuple(alerts), episodes=tuple(episodes))

    def _close_episode(self, end: float) -> DetectorOutput:
        if self._count_s > 0 and self._episode_level:
            ep = Episode("rhythmic_jerking", self._episode_start, end, float(np.median(self._episode_hz)),
                         self._episode_windows, self._episode_level)
            self._count_s = 0.0
            self._episode_level = ""
            return DetectorOutput(episodes=(ep,))
        return DetectorOutput()
