"""Simulated wearers: every subject draws its own physiology, sensor fit and electrode quality.

Ranges come from ``shared/PHYSIOLOGY.md`` where a source exists; elsewhere they are stated
plausible ranges to randomise over (marked "assumed"). Training and test subjects therefore
differ in amplitudes, rates, noise, tremor frequency, gait cadence and seizure profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.errors import ConfigError
from twitchwatch.model import PLACEMENTS


@dataclass(frozen=True)
class Subject:
    """One simulated wearer. Units are in the field names.

    Sensor and electrodes
    ---------------------
    mount_pitch_rad, mount_roll_rad : how the sensor sits on the foot dorsum or wrist (assumed +-0.3 rad)
    lever_m : distance of the sensor from the ankle (wrist: elbow) joint, m (tangential acceleration)
    accel_noise_ug_rthz : accelerometer noise density, ug/sqrt(Hz) (issue 3: ~100; LSM6DS3-class data
        sheets state 90-130)
    accel_bias_g : per-axis offset, g (assumed +-0.03)
    emg_noise_uv_rthz : EMG front-end + skin noise density, uV/sqrt(Hz) (assumed 0.05-0.25, i.e.
        ~1-5 uV RMS at 1 kHz, typical for gelled surface electrodes)
    electrode_quality : 0 (poor) to 1 (excellent); scales mains pick-up, pops and motion artifacts
    mains_uv : mains hum amplitude per channel, uV; wander_uv : baseline wander, uV RMS
    pops_per_h : electrode pops per hour; motion_artifact_uv : artifact per g of impact, uV
    emg_max_uv : EMG RMS at maximal contraction per channel (TA, GA), uV (assumed 300-1500)
    crosstalk : fraction of one muscle's EMG seen on the other channel (assumed 0.05-0.25)

    Physiology
    ----------
    fasciculation_per_min : rate in ``fasciculation`` segments, per minute (1-60; log-uniform;
        Bashford et al. 2019/2020: BFS ~1-10, ALS median ~40)
    background_fasciculation_per_min : rate during every other worn activity, per minute
    fasciculation_uv : median peak-to-peak at the skin, uV (tens to hundreds; PHYSIOLOGY.md)
    fasciculation_ta_fraction : share of fasciculations in tibialis anterior (rest in gastrocnemius)
    twitch_mg_per_100uv : mechanical twitch seen by the accelerometer per 100 uV of potential, mg
        (visibility not established: 0-4 mg, often invisible under ~1 mg RMS noise)
    tremor_hz_* : the subject's frequency for each tremor kind, Hz (Bhatia et al. 2018)
    tremor_g : tremor linear acceleration amplitude at the sensor, g
    cadence_spm : walking cadence, steps/min (100-120); run_cadence_spm : 150-185
    heel_strike_g : walking heel-strike peak at the foot, g; run_impact_g : running, g (Bailey &
        Harle 2014: up to ~70 g at the foot)
    tap_hz : preferred voluntary tapping rate, Hz (2-5)
    seizure_f_start_hz, seizure_f_end_hz : clonic jerk frequency at onset and at the end, Hz
        (0.2-5, falling; PHYSIOLOGY.md)
    seizure_decay_s : time constant of the frequency fall, s
    jerk_rad : peak ankle (wrist) rotation of one clonic jerk, rad; jerk_emg_fraction : burst EMG
        as a fraction of emg_max_uv
    burst_duty : burst duration / jerk period (bursts >= ~250 ms at <= 2 Hz; Kumar et al. 2025)
    plm_interval_s : mean interval between periodic limb movements, s (AASM 5-90)
    jerk_sign : direction of the clonic jerk rotation: +1 dorsiflexion (wrist: flexion), -1 the
        opposite (assumed 70/30: which muscle wins during co-contraction varies)
    """

    subject_id: str
    placement: str
    mount_pitch_rad: float
    mount_roll_rad: float
    lever_m: float
    accel_noise_ug_rthz: float
    accel_bias_g: tuple[float, float, float]
    emg_noise_uv_rthz: float
    electrode_quality: float
    mains_uv: tuple[float, float]
    wander_uv: float
    pops_per_h: float
    motion_artifact_uv: float
    emg_max_uv: tuple[float, float]
    crosstalk: float
    fasciculation_per_min: float
    background_fasciculation_per_min: float
    fasciculation_uv: float
    fasciculation_ta_fraction: float
    twitch_mg_per_100uv: float
    tremor_hz_rest: float
    tremor_hz_essential: float
    tremor_hz_orthostatic: float
    tremor_g: float
    cadence_spm: float
    run_cadence_spm: float
    heel_strike_g: float
    run_impact_g: float
    tap_hz: float
    seizure_f_start_hz: float
    seizure_f_end_hz: float
    seizure_decay_s: float
    jerk_rad: float
    jerk_emg_fraction: float
    burst_duty: float
    plm_interval_s: float
    jerk_sign: float = 1.0


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def draw_subject(seed: int, placement: str = "foot") -> Subject:
    """Draw one subject from seed (the same seed gives the same physiology at every placement).

    Parameters
    ----------
    seed : any non-negative integer; subjects with different seeds differ
    placement : "foot", "ankle" or "wrist"
    """
    if placement not in PLACEMENTS:
        raise ConfigError(f"simulator: unknown placement {placement!r} (known: {', '.join(PLACEMENTS)})")
    if int(seed) < 0:
        raise ConfigError(f"simulator: subject seed {seed} must be >= 0")
    rng = np.random.default_rng([int(seed), 0x5B1EC7])
    u = rng.uniform
    quality = float(u(0.25, 1.0))
    f_start = float(u(2.0, 4.5))
    subject = Subject(
        subject_id=f"s{int(seed)}",
        placement=placement,
        mount_pitch_rad=float(u(-0.3, 0.3)),
        mount_roll_rad=float(u(-0.25, 0.25)),
        lever_m=float(u(0.08, 0.14)) if placement != "wrist" else float(u(0.22, 0.30)),
        accel_noise_ug_rthz=float(u(80.0, 140.0)),
        accel_bias_g=tuple(float(x) for x in rng.uniform(-0.03, 0.03, 3)),
        emg_noise_uv_rthz=float(u(0.05, 0.25)),
        electrode_quality=quality,
        mains_uv=tuple(float(x) for x in rng.uniform(0.5, 5.0, 2) / quality),
        wander_uv=float(u(3.0, 20.0) / quality),
        pops_per_h=float(u(0.0, 3.0) / quality),
        motion_artifact_uv=float(u(10.0, 60.0) * (1.3 - quality)),
        emg_max_uv=(float(u(300.0, 1500.0)), float(u(300.0, 1500.0))),
        crosstalk=float(u(0.05, 0.25)),
        fasciculation_per_min=_loguniform(rng, 1.0, 60.0),
        background_fasciculation_per_min=float(u(0.0, 1.0)),
        fasciculation_uv=_loguniform(rng, 40.0, 300.0),
        fasciculation_ta_fraction=float(u(0.3, 0.8)),
        twitch_mg_per_100uv=float(u(0.0, 4.0)),
        tremor_hz_rest=float(u(4.0, 6.0)),
        tremor_hz_essential=float(u(6.0, 12.0)),
        tremor_hz_orthostatic=float(u(13.0, 18.0)),
        tremor_g=_loguniform(rng, 0.03, 0.4),
        cadence_spm=float(u(98.0, 122.0)),
        run_cadence_spm=float(u(150.0, 185.0)),
        heel_strike_g=float(u(1.5, 5.0)),
        run_impact_g=float(u(8.0, 40.0)),
        tap_hz=float(u(2.0, 5.0)),
        seizure_f_start_hz=f_start,
        seizure_f_end_hz=float(u(0.3, min(1.5, 0.6 * f_start))),
        seizure_decay_s=float(u(15.0, 60.0)),
        jerk_rad=float(u(0.08, 0.3)),
        jerk_emg_fraction=float(u(0.3, 0.8)),
        burst_duty=float(u(0.4, 0.65)),
        plm_interval_s=float(u(15.0, 40.0)),
        jerk_sign=float(rng.choice([-1.0, 1.0], p=[0.3, 0.7])),
    )
    return subject
