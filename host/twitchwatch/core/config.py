"""Detector settings: one frozen dataclass, every number with its unit and where it comes from.

Rates are never set here: every filter is designed from the rate the device or file announces.
Bands are clipped below the Nyquist frequency of the stream they are applied to
(``nyquist_fraction``), so the same settings work from 16 Hz wrist accelerometry to 4 kHz EMG.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Timestamp jitter tolerated before a discontinuity counts as a gap, in sample periods of the
#: stream (unitless: multiply by 1 / rate for seconds). Timestamps are rounded (device time to
#: whole microseconds, chunk starts to float seconds), so a contiguous stream can look up to half a
#: period early or late; a single dropped sample is a whole period more. 1.5 periods accepts the
#: rounding and still reports the loss of one sample. Used by the device link
#: (:mod:`twitchwatch.sources.device_stream`) and the detector (:mod:`twitchwatch.core.detector`).
GAP_TOLERANCE_SAMPLES = 1.5


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of :class:`twitchwatch.core.detector.Detector`.

    Time grid
    ---------
    window_s : analysis window, s. 4 s holds >= 2 periods of clonic jerking down to 0.5 Hz and
        >= 8 steps of walking; shorter windows made the latency goal (<= 5 s) reachable.
    hop_s : step between windows, s. 0.5 s keeps the added latency <= 0.5 s (issue 3 latency goal).

    Input limits
    ------------
    min_accel_rate_hz : 16 Hz, the slowest public wrist data we must read (UEA Epilepsy).
    min_emg_rate_hz : 500 Hz; surface EMG power extends to ~450 Hz (PHYSIOLOGY.md), Nyquist.
    nyquist_fraction : highest usable band edge as a fraction of Nyquist (0.9); a Butterworth edge
        closer to Nyquist becomes numerically fragile.

    Filters (Butterworth, second-order sections, streaming with carried state)
    --------------------------------------------------------------------------
    emg_band_hz : 20-450 Hz, the usual surface-EMG band (motion artefacts < 20 Hz).
    mains_hz : notch frequencies, Hz; both 50 and 60 Hz because a file need not say where it was
        recorded. notch_q : quality factor 30 (about 2 Hz wide at 50 Hz).
    accel_move_band_hz : 0.3-20 Hz: voluntary movement, gait, clonic jerking (0.2-5 Hz) and tremor
        up to orthostatic 13-18 Hz (Bhatia 2018).
    accel_twitch_band_hz : 5-100 Hz: accelerometer mechanomyography band (PHYSIOLOGY.md) in which
        twitches and jerk onsets are sharp.
    gravity_lowpass_hz : 0.3 Hz: below every movement of interest; gives posture.
    event_env_lowpass_hz : envelope for event timing: accel 20 Hz, EMG 50 Hz (a 2-15 ms
        fasciculation potential must stay a separate, sharp bump at +-50 ms scoring tolerance).
    feature_env_lowpass_hz : 8 Hz envelope for window features: follows 5 Hz jerking.
    feature_rate_hz : about 50 Hz; band and envelope signals are decimated by an integer factor to
        at least this rate before windowing (covers the 20 Hz movement band).
    filter_order : 2 (per band edge); enough roll-off for feature extraction, and it keeps the
        filter cost (the throughput ceiling, TOOLING.md) low.

    Events (adaptive noise floor)
    -----------------------------
    floor_history_blocks : the noise floor of a block is the median of the geometric-mean envelopes
        of the previous 20 blocks (10 s): adapts to electrode and posture changes within seconds,
        yet a 250 ms burst or a twitch moves it little. Only past blocks are used (causal).
    event_on_ratio, event_off_ratio : onset when the envelope exceeds 3x the floor, offset when it
        falls below 1.5x (hysteresis, ~10 dB above the noise). Chosen on the tuning subjects (seeds
        from 500 000, never the evaluation seeds): 4x/2x missed small fasciculations (F1 0.77 vs
        0.83 with 2 EMG channels). Events do not feed the window features, so this does not touch
        the classifier.
    refractory_s : events closer than this are one event: EMG 20 ms (a polyphasic potential is one
        twitch), accel 60 ms.
    twitch_max_s : events shorter than 50 ms are "twitch", longer "burst". Measured on the envelope,
        which widens a 2-15 ms fasciculation potential by the ~20 ms response of its 50 Hz low-pass
        (clonic bursts are >= 250 ms; cortical myoclonus 10-50 ms may land on either side,
        PHYSIOLOGY.md).
    min_floor_g, min_floor_uv : floor never below sensor noise: 1 mg (100 ug/sqrt(Hz) over ~100 Hz)
        and 0.5 uV (amplifier noise of surface EMG front ends).

    Episodes and alerts
    -------------------
    rj_min_probability : a window is labelled rhythmic jerking only when the classifier gives it at
        least this probability (otherwise the next most likely label); set on training-validation
        subjects, never on evaluation seeds.
    rj_on_windows : consecutive rhythmic-jerking windows that establish an episode (warning).
    rj_off_windows : consecutive other windows that end it (2 s at 0.5 s hop; a short miss inside
        a seizure does not split it).
    alarm_after_s : an established episode that lasts this long becomes an alarm (10 s: focal
        seizures last ~28-90 s, Kaufmann 2015; a 10 s run of rhythmic jerking is not voluntary).
    spread_rms_g : movement-band RMS above which a rhythmic-jerking window counts as spread
        (whole-limb, generalized) and raises the alarm at once.
    cluster_on_windows, cluster_off_windows : for tremor and fasciculation episodes (reported,
        never alarmed).

    Faults
    ------
    clip_fraction : a window with more than 5 % of samples at the sensor range is "saturated".
    flat_range : a stream whose raw values do not change at all over a block is flat (signal lost).
    still_rms_g : below 1.5 mg of movement-band RMS the sensor is motionless (noise ~0.5 mg).
    no_contact_uv : EMG RMS below 1 uV means no skin contact (baseline noise of worn electrodes is
        several uV).
    not_worn_s : motionless (and no EMG contact, when EMG exists) this long = not worn.
    fault_on_windows, fault_off_windows : hysteresis of fault alerts.
    """

    window_s: float = 4.0
    hop_s: float = 0.5

    min_accel_rate_hz: float = 16.0
    min_emg_rate_hz: float = 500.0
    nyquist_fraction: float = 0.9

    emg_band_hz: tuple[float, float] = (20.0, 450.0)
    mains_hz: tuple[float, ...] = (50.0, 60.0)
    notch_q: float = 30.0
    accel_move_band_hz: tuple[float, float] = (0.3, 20.0)
    accel_twitch_band_hz: tuple[float, float] = (5.0, 100.0)
    gravity_lowpass_hz: float = 0.3
    accel_event_env_lowpass_hz: float = 20.0
    emg_event_env_lowpass_hz: float = 50.0
    feature_env_lowpass_hz: float = 8.0
    feature_rate_hz: float = 50.0
    filter_order: int = 2

    floor_history_blocks: int = 20
    event_on_ratio: float = 3.0
    event_off_ratio: float = 1.5
    emg_refractory_s: float = 0.020
    accel_refractory_s: float = 0.060
    twitch_max_s: float = 0.050
    min_floor_g: float = 1e-3
    min_floor_uv: float = 0.5

    rj_min_probability: float = 0.5
    rj_on_windows: int = 2
    rj_off_windows: int = 4
    alarm_after_s: float = 10.0
    spread_rms_g: float = 1.0
    cluster_on_windows: int = 4
    cluster_off_windows: int = 4

    clip_fraction: float = 0.05
    still_rms_g: float = 1.5e-3
    no_contact_uv: float = 1.0
    not_worn_s: float = 60.0
    fault_on_windows: int = 2
    fault_off_windows: int = 2

    @property
    def blocks_per_window(self) -> int:
        """Number of hop blocks in one window (window_s must be a multiple of hop_s)."""
        return int(round(self.window_s / self.hop_s))


#: Detector settings that differ by placement (none today: a trained model carries its own alert
#: settings, :class:`twitchwatch.core.classify.SeizureSettings`).
PLACEMENT_SETTINGS: dict[str, tuple[tuple[str, float], ...]] = {}


def config_for_placement(placement: str, base: DetectorConfig | None = None) -> DetectorConfig:
    """The detector settings for a placement ("foot", "ankle", "wrist"): ``base`` plus its overrides."""
    from dataclasses import replace

    return replace(base or DetectorConfig(), **dict(PLACEMENT_SETTINGS.get(placement, ())))
