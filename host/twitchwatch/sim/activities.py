"""Activity planners: each turns one scenario segment into events and tracks of a :class:`Plan`.

Device frame. Foot: x towards the toes, y to the left, z out of the dorsum; wrist: x along the
forearm towards the hand, y across, z out of the watch face. A still, level sensor reads
(0, 0, +1) g. Pitch (rotation about y) is ankle dorsiflexion (+) at the foot and forearm
elevation at the wrist; roll (about x) is inversion at the foot, pronation/supination at the wrist.

Modelling choices and sources (numbers from ``shared/PHYSIOLOGY.md`` unless said "assumed"):

- Clonic jerking: jerk frequency falls exponentially from the subject's onset frequency (2-4.5 Hz)
  towards its end frequency (0.3-1.5 Hz); intervals jitter with CV ~0.08 (assumed: clonic jerks
  are quasi-regular); burst duration = duty (0.4-0.65) x period and lengthens by up to 30% over
  the seizure, so bursts are >= 250 ms once jerking is <= ~2 Hz (Kumar et al. 2025); amplitude
  builds as 0.25 + 0.75 (1 - exp(-t / build)) with build 2.5-4 s (~90% by 10 s); agonist (TA) and
  antagonist (GA) bursts start together (co-activation, +-5 ms) and stop together; EMG carrier is
  the "clonic" band (12-70 Hz dominated plus broadband MUAP noise; Cardenas et al.); the end is
  abrupt (the last burst ends within 0.3 s of the segment end). Optional tonic phase (10-20 s,
  Kaufmann et al. 2015) with sustained 150-270 Hz EMG on both channels and a held plantarflexion;
  optional spread (``generalized``): from a fraction of the clonic phase on, jerks grow x2.2 and
  move the whole limb (all three axes). At the wrist (assumed, see ``WRIST_JERK_SCALE``): jerk
  size spread over a decade (magnitude SD ~0.08-1.3 g at 25 Hz), interval CV 0.08-0.3 and jerk
  amplitude CV ~0.35, because the arm's motion sums several muscle groups and is damped or
  restrained to a varying degree. This change (Nov 2026) was prompted by the real-data finding
  that the wrist model called real tonic-clonic seizures (Open Seizure Database) voluntary
  movement; the ranges were chosen wide on purpose, not fitted to those recordings, but that
  database is no longer entirely independent of the simulator's design (docs/real-data-evaluation.md).
- Voluntary foot tapping: bouts of 3-15 s separated by 1-6 s pauses (assumed); inter-tap interval
  CV ~0.04 (rhythmic tapping is far more regular than clonic jerking; Repp 2005, Psychon Bull Rev
  12:969, reports ITI variability of a few %); rate drifts randomly, no slowing trend; full
  amplitude from the first tap (amplitude CV ~0.08); EMG is agonist-led and alternating: a TA
  burst lifts the forefoot, a weaker, later GA burst brakes it (the triphasic pattern of fast
  voluntary movements; Hallett, Shahani & Young 1975, JNNP 38:1154); each tap ends with a
  forefoot impact on the floor.
- Tremor: sinusoidal ankle (wrist) rotation at the subject's frequency for the kind, phase
  wandering slowly (frequency CV ~2%); TA and GA EMG alternate (half-wave bursts, phase opposed).
  Orthostatic tremor is reported to show synchronous bursts in antagonists in many patients;
  ``pattern=synchronous`` selects that.
- Gait: heel strike ringing (15-30 Hz, 10-20 ms decay; assumed) of ``heel_strike_g`` (walking)
  or ``run_impact_g`` (running, up to 40 g: clips at 16 g); stride-phase ankle angle template
  (dorsiflexed at heel strike, plantarflexed at toe-off); TA active around heel strike and in
  swing, GA in mid/late stance; stride period jitter CV ~2.5% (running, stairs); walking stride
  CV 1.5-6% (``WALK_STRIDE_CV``: healthy to Parkinsonian, Hausdorff et al.) and a ``vigour``
  of 0.15-1 scaling impacts and swing (``WALK_VIGOUR``: shuffling gait, soft shoes, a sensor on
  the shank); wrist running feels 2-8 % of the foot's impact (``WRIST_RUN_IMPACT``). Prompted,
  like the wrist jerks, by false alarms on real gait (Daphnet, UEA running); assumed ranges.
- PLM: quasi-periodic (interval CV 0.25, 5-90 s), each a slow dorsiflexion of 0.5-10 s (median
  ~2 s) with sustained TA EMG (AASM scores PLMs on TA).
- Cramp: gastrocnemius EMG at 30-70% of maximum for the whole segment, held plantarflexion.
- Wrist activities (brushing 3.5-5 Hz scrubbing of 0.4-1.2 g with pauses; combing strokes every
  0.8-2 s; typing as Poisson keystroke taps; eating as hand-to-mouth every 8-25 s with cutting
  bouts; dish washing as irregular 2-5 Hz scrubbing bouts): all assumed, chosen because
  ``PHYSIOLOGY.md`` lists them as the classic false-alarm triggers of wrist detectors; they
  were deliberately not fitted to the real recordings used for evaluation.
- Seizure styles (``rhythmic_jerking[style=...]``, ``JERK_STYLES``): besides the clonic rhythm
  above, "irregular" impulsive jerks and "shaking" sinusoidal 3-5 Hz movement, sized to the Open
  Seizure Database window statistics measured with :mod:`twitchwatch.sim.calibration` (README).
- Confounders for real false alarms (electric toothbrush, shaving, clapping, vehicle, turning,
  stand-walk, realistic brushing and typing, several-g heel strikes at the foot): constants at
  the top of their section with sources or "assumed".
- Postural micro-movement (``SWAY_RAD``): a worn sensor is never perfectly still (assumed
  0.0015-0.01 rad RMS by posture, 0 off the body).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.model import Annotation
from twitchwatch.sim.plan import Gait, Oscillator, Plan
from twitchwatch.sim.scenario import ACTIVITIES, Segment
from twitchwatch.sim.subject import Subject, _loguniform

#: (pitch, roll) in rad of each posture, before the subject's mounting offset.
POSTURE_ANGLES: dict[str, tuple[float, float]] = {
    # foot
    "standing": (0.0, 0.0),
    "sitting": (0.12, 0.05),
    "sitting_crossed": (-0.6, 0.45),  # foot dangling, plantarflexed and inverted
    "lying": (1.25, 0.5),  # supine: toes to the ceiling, foot falls outwards
    "lying_side": (0.35, 1.35),
    "prone": (-1.4, 0.1),
    # wrist
    "arm_hanging": (-1.45, 1.3),
    "arm_bent": (0.15, 1.2),
    "lap": (-0.1, 0.4),
    "desk": (0.05, 0.0),
    "hand_at_mouth": (1.0, 0.9),
    "above_head": (1.3, 1.6),
    "sink": (-0.5, 0.2),
}
G = 9.81  # m/s^2 per g

#: RMS of the slow postural micro-movement (sway, breathing, pulse) per posture, rad. Assumed:
#: a still sensor on a living limb is never perfectly still; standing sways most, off the body is 0.
SWAY_RAD: dict[str, float] = {
    "standing": 0.008, "sitting": 0.003, "sitting_crossed": 0.006, "lying": 0.0015, "lying_side": 0.0015,
    "prone": 0.0015, "table": 0.0, "arm_hanging": 0.006, "arm_bent": 0.006, "lap": 0.004, "desk": 0.003,
    "hand_at_mouth": 0.008, "above_head": 0.01, "sink": 0.006,
}


#: Range (log-uniform) of the overall size of wrist clonic jerks relative to the subject's
#: ``jerk_rad``-based default, which alone gives a magnitude SD of ~0.8-1.3 g at 25 Hz. Assumed:
#: how much a convulsing arm moves depends on restraint, bedding, posture and who holds it, so
#: the size is spread over a decade (SD ~0.08-1.3 g) and cannot be the classifier's cue.
WRIST_JERK_SCALE = (0.08, 1.0)
#: Wrist jerk-interval CV range (uniform) and jerk-size CV (log-normal sigma); the foot keeps 0.08
#: and 0.15. Assumed: the arm's motion sums several muscle groups' jerks.
WRIST_JERK_INTERVAL_CV = (0.08, 0.3)
WRIST_JERK_AMP_CV = 0.35
#: Stride-period CV range of walking, log-uniform: ~1.5-3 % in healthy adults, up to ~6 % in
#: Parkinson's disease, more in freezers (Hausdorff et al. 1998, Mov Disord 13:428; Hausdorff
#: 2005, Eur J Neurosci 19:2052; values approximate).
WALK_STRIDE_CV = (0.015, 0.06)
#: Scale (log-uniform) of walking impacts and ankle swing: shuffling, short-stepped (Parkinsonian)
#: gait, soft shoes or a sensor on the shank above the ankle all reduce both (assumed range).
WALK_VIGOUR = (0.15, 1.0)
#: Wrist running: share of the foot's running impact reaching the wrist (assumed 2-8 %).
WRIST_RUN_IMPACT = (0.02, 0.08)


def posture_vector(pitch: float, roll: float) -> np.ndarray:
    """Gravity reading (g) of a sensor rotated by pitch about y then roll about x."""
    return np.array([np.sin(pitch), np.cos(pitch) * np.sin(roll), np.cos(pitch) * np.cos(roll)])


@dataclass
class Ctx:
    plan: Plan
    subject: Subject
    placement: str
    posture_now: np.ndarray | None = None  # gravity reading of the current posture, g

    @property
    def foot(self) -> bool:
        return self.placement != "wrist"

    @property
    def emg_max(self) -> np.ndarray:
        return np.asarray(self.subject.emg_max_uv)


def _posture(ctx: Ctx, seg: Segment, t0: float, t1: float, rng: np.random.Generator) -> str:
    """Add posture knots for the segment and return the posture name used."""
    spec = ACTIVITIES[seg.activity]
    name = seg.param("posture") or (spec.foot_posture if ctx.foot else spec.wrist_posture)
    if name == "table":
        # Off the body: resting in an odd orientation (upside down, on its side, tilted).
        v = rng.normal(size=3)
        v[2] = -abs(v[2]) - 0.3
        v = v / np.linalg.norm(v)
    else:
        p, r = POSTURE_ANGLES[name]
        v = posture_vector(p + rng.normal(0, 0.06), r + rng.normal(0, 0.06))
    trans = min(1.5, 0.3 * (t1 - t0))
    ctx.plan.posture_t.append(t0 + trans)
    ctx.plan.posture_v.append(v)
    ctx.posture_now = v
    ctx.plan.sway_amp_t.append(t0)
    ctx.plan.sway_amp_v.append(SWAY_RAD[name])
    return name


def _phase_knots(rng, t0, t1, f0, cv, amp_cv, step=1.0, dropout=0.0):
    n = int(np.ceil((t1 - t0) / step)) + 2
    kt = t0 + step * np.arange(n)
    # Phase random walk: frequency deviations with CV cv, integrated over each step.
    kp = np.concatenate([[0.0], np.cumsum(rng.normal(0.0, 2 * np.pi * f0 * cv * step, n - 1))])
    ka = np.clip(1.0 + rng.normal(0.0, amp_cv, n), 0.2, 2.0)
    if dropout > 0:
        ka = np.where(rng.random(n) < dropout, 0.0, ka)
    return kt, kp, ka


def _rhythm(rng, t0, t1, f_hz, cv):
    """Event times from t0 with mean rate f_hz and interval CV cv, all < t1."""
    n = int((t1 - t0) * f_hz * 1.5) + 4
    iv = np.clip(rng.normal(1.0 / f_hz, cv / f_hz, n), 0.3 / f_hz, None)
    t = t0 + np.cumsum(iv) - iv[0]
    return t[t < t1]


# ---------------------------------------------------------------------------------------------
# background processes (every worn segment)


def plan_fasciculations(ctx: Ctx, t0: float, t1: float, rate_per_min: float, rng) -> None:
    """Poisson single motor-unit twitches (EMG potential + a small mechanical twitch)."""
    if rate_per_min <= 0 or not ctx.foot:
        return
    s = ctx.subject
    n = rng.poisson(rate_per_min * (t1 - t0) / 60.0)
    on = np.sort(rng.uniform(t0, t1, n))
    on = on[on < t1 - 0.02]
    n = len(on)
    dur = rng.uniform(0.002, 0.015, n)
    amp = s.fasciculation_uv * np.exp(rng.normal(0.0, 0.5, n))  # log-normal spread
    in_ta = rng.random(n) < s.fasciculation_ta_fraction
    a0 = np.where(in_ta, amp, amp * s.crosstalk)
    a1 = np.where(in_ta, amp * s.crosstalk, amp)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    kind = rng.choice(3, n, p=[0.35, 0.35, 0.3])
    p = rng.random((n, 4))
    ctx.plan.muaps.add(on, dur, a0=sign * a0, a1=sign * a1, kind=kind, p0=p[:, 0], p1=p[:, 1], p2=p[:, 2], p3=p[:, 3])
    # Mechanical twitch: after ~15 ms electromechanical delay, mostly normal to the dorsum.
    tw = s.twitch_mg_per_100uv * amp / 100.0 * 1e-3
    ctx.plan.impacts.add(on + 0.015, 0.15, ax=0.3 * tw, ay=0.2 * tw, az=tw, freq=rng.uniform(8, 15, n), decay=0.03)
    ctx.plan.annotations += [Annotation(float(a), float(d), "fasciculation") for a, d in zip(on, dur)]


def plan_pops(ctx: Ctx, t0: float, t1: float, rng) -> None:
    """Electrode pops: a sudden baseline jump decaying over 50-500 ms, on one channel."""
    if not ctx.foot:
        return
    n = rng.poisson(ctx.subject.pops_per_h * (t1 - t0) / 3600.0)
    if n == 0:
        return
    on = np.sort(rng.uniform(t0, t1, n))
    amp = 500.0 * np.exp(rng.normal(0, 0.7, n)) * np.where(rng.random(n) < 0.5, -1, 1)
    ch0 = rng.random(n) < 0.5
    decay = rng.uniform(0.05, 0.5, n)
    ctx.plan.pops.add(on, 6 * decay, a0=np.where(ch0, amp, 0.0), a1=np.where(ch0, 0.0, amp), decay=decay)
    ctx.plan.annotations += [Annotation(float(a), float(d), "electrode_pop") for a, d in zip(on, decay)]


def _motion_artifact(ctx: Ctx, on, g, rng) -> None:
    """Low-frequency EMG artifact (cable/skin movement) proportional to the impact size g."""
    on = np.atleast_1d(on)
    n = len(on)
    if n == 0 or not ctx.foot:
        return
    a = ctx.subject.motion_artifact_uv * np.asarray(g) * np.exp(rng.normal(0, 0.4, n))
    ctx.plan.emg_pulses.add(on, rng.uniform(0.03, 0.1, n), a0=a * rng.uniform(0.5, 1.0, n), a1=a * rng.uniform(0.5, 1.0, n))


# ---------------------------------------------------------------------------------------------
# activities


def plan_rest(ctx: Ctx, seg, t0, t1, rng) -> None:
    """quiet / fasciculation / sleep: still; sleep turns over every 20-60 min."""
    if seg.activity == "sleep":
        t = t0 + rng.uniform(600, 3600)
        while t < t1 - 10:
            name = rng.choice(["lying", "lying_side", "prone"])
            p, r = POSTURE_ANGLES[str(name)] if ctx.foot else (0.0, rng.uniform(-2.5, 2.5))
            v = posture_vector(p, r)
            ctx.plan.posture_t += [t, t + 2.0]
            ctx.plan.posture_v += [ctx.posture_now, v]
            ctx.posture_now = v
            _motion_artifact(ctx, [t + 0.5], 0.5, rng)
            t += rng.uniform(1200, 3600)


#: Seizure movement styles of ``rhythmic_jerking[style=...]`` and the weights ``style=random``
#: draws them with. "clonic": the quasi-regular, slowing jerk rhythm (the original model, the
#: default); "irregular": impulsive jerks of random size at irregular intervals, the limb ringing
#: after each (what real wrist recordings of convulsions look like: OSDB window statistics in
#: ``README.md``, "Calibration"); "shaking": large sinusoidal 3-5 Hz shaking (about a quarter of
#: one OSDB user's OSD-positive seizure windows; PHYSIOLOGY.md / DETECTION_NOTES.md). Weights
#: assumed (irregular most common, as in the OSDB windows).
JERK_STYLES = ("clonic", "irregular", "shaking", "random")
JERK_STYLE_WEIGHTS = {"clonic": 0.2, "irregular": 0.55, "shaking": 0.25}
#: Irregular style: interval CV of the jerk renewal process (uniform). Target: OSDB IEI CV
#: quartiles 0.42/0.59/0.82 measured with ``calibration.py`` (PHYSIOLOGY.md: 0.5-1.0).
IRREGULAR_INTERVAL_CV = (0.4, 0.85)
#: Irregular style: log-normal sigma of single jerk sizes (uniform); sigma 0.45-0.75 is a jerk CV
#: of ~0.5-0.85. Target: OSDB jerk-amplitude CV 0.36/0.47/0.61 (PHYSIOLOGY.md: 0.4-0.8).
IRREGULAR_AMP_SIGMA = (0.4, 0.7)
#: Irregular style: peak acceleration of one jerk's limb ringing, g (log-uniform). Wrist range
#: tuned so that the 1-12 Hz band RMS of 5 s windows spans the OSDB quartiles (36-300 mg, median
#: ~76-115 mg; PHYSIOLOGY.md 100-800 mg); foot range assumed (an ankle jerk moves a lighter
#: segment on a shorter lever).
IRREGULAR_PEAK_G = {"wrist": (0.07, 0.8), "foot": (0.15, 1.5)}
#: Irregular style: ringing frequency of the limb after a jerk at onset and its fall by the end,
#: Hz (assumed; sets the dominant frequency, OSDB median 3.8 Hz, quartiles 2.8-5.2 Hz). The
#: ringing slows with the jerk rate because bursts lengthen (Kumar et al. 2025).
IRREGULAR_RING_HZ = (3.0, 6.0)
IRREGULAR_RING_END_RATIO = (0.55, 0.85)
#: Shaking style: onset frequency (Hz, uniform) and end/onset ratio (slowing; PHYSIOLOGY.md
#: "slowing frequency over 30-90 s"); peak linear acceleration along the main axis (g,
#: log-uniform) tuned to a 1-12 Hz band RMS of ~300-800 mg (DETECTION_NOTES.md).
SHAKING_HZ = (3.5, 5.0)
SHAKING_END_RATIO = (0.7, 0.9)
SHAKING_PEAK_G = {"wrist": (0.45, 1.2), "foot": (0.4, 1.0)}
#: Tonic prelude: peak of the 8-12 Hz low-amplitude vibration, g (the original model's 0.05 g
#: is the default of ``tonic_g``; ``style=random`` draws 0.02-0.15 g log-uniform, assumed).
TONIC_G_DEFAULT = 0.05
TONIC_G_RANDOM = (0.02, 0.15)
#: style=random: probability of a tonic prelude when ``tonic`` is not given (assumed: many focal
#: and most generalized convulsions start with a tonic phase; Kaufmann et al. 2015: 10-20 s).
TONIC_PROBABILITY = 0.3


def _freq_profile(dc: float, f0: float, f1: float, decay: float, step: float = 0.002):
    """Times u (s, from 0 to dc) and cycles phase(u) of f(u) = f1 + (f0 - f1) exp(-u / decay)."""
    u = np.arange(0.0, dc, step)
    return u, f1 * u + (f0 - f1) * decay * (1.0 - np.exp(-u / decay))


def plan_jerking(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Rhythmic, seizure-like jerking in one of :data:`JERK_STYLES` (``style``, default clonic)."""
    dur = t1 - t0
    style = str(seg.param("style", "clonic"))
    tonic_g = seg.param("tonic_g")
    tonic_param = seg.param("tonic")
    if style == "random":
        style = str(rng.choice(list(JERK_STYLE_WEIGHTS), p=list(JERK_STYLE_WEIGHTS.values())))
        if tonic_param is None and rng.random() < TONIC_PROBABILITY:
            tonic_param = 1.0
        if tonic_g is None:
            tonic_g = _loguniform(rng, *TONIC_G_RANDOM)
    tonic_g = TONIC_G_DEFAULT if tonic_g is None else float(tonic_g)
    amp_scale = float(seg.param("amplitude", 1.0 if ctx.foot else _loguniform(rng, *WRIST_JERK_SCALE)))
    tonic = float(tonic_param or 0.0)
    tc = t0
    if tonic > 0:
        tonic_s = tonic if tonic > 1 else rng.uniform(10.0, 20.0)
        tonic_s = min(tonic_s, 0.4 * dur)
        a = ctx.emg_max * rng.uniform(0.5, 0.8) * amp_scale
        ctx.plan.env.add(t0, tonic_s, a0=a[0], a1=a[1], band=2, rise=0.1)
        ctx.plan.angles.add(t0, tonic_s + 0.3, amp=-rng.uniform(0.2, 0.4) if ctx.foot else 0.5, rise=0.12, axis=0)
        kt, kp, ka = _phase_knots(rng, t0, t0 + tonic_s, 10.0, 0.03, 0.2)
        lin = (0.4 * tonic_g, 0.4 * tonic_g, tonic_g)
        ctx.plan.oscillators.append(Oscillator(t0, t0 + tonic_s, rng.uniform(8, 12), kt, kp, ka, lin_g=lin, ramp_s=2.0))
        ctx.plan.annotations.append(Annotation(t0, tonic_s, "tonic_phase"))
        tc = t0 + tonic_s
    if style == "irregular":
        _plan_irregular(ctx, seg, tc, t1, rng)
    elif style == "shaking":
        _plan_shaking(ctx, seg, tc, t1, rng)
    else:
        _plan_clonic(ctx, seg, tc, t1, rng, amp_scale)


def _spread(ctx: Ctx, seg: Segment, tc: float, dc: float, on_u: np.ndarray) -> np.ndarray:
    """Spread factor (0 focal .. 1 generalized) per jerk, and the generalized_phase annotation."""
    gen = float(seg.param("generalized", 0.0))
    spread = np.zeros(len(on_u))
    if gen > 0:
        frac = gen if gen < 1 else 0.5
        tg = frac * dc
        spread = np.clip((on_u - tg) / 3.0, 0.0, 1.0)
        ctx.plan.annotations.append(Annotation(tc + tg, dc - tg, "generalized_phase"))
    return spread


def _jerk_emg(ctx: Ctx, on: np.ndarray, bdur: np.ndarray, size: np.ndarray, rng) -> None:
    """Co-activating agonist/antagonist EMG bursts (clonic band) and a "jerk" annotation per jerk."""
    n = len(on)
    a_emg = ctx.subject.jerk_emg_fraction * size
    ratio = rng.uniform(0.6, 1.0)
    lag = rng.normal(0.0, 0.005, n)
    emg_max = ctx.emg_max
    ctx.plan.env.add(on, bdur, a0=a_emg * emg_max[0], a1=0.0, band=1, rise=0.25)
    ctx.plan.env.add(on + lag, bdur, a0=0.0, a1=a_emg * emg_max[1] * ratio, band=1, rise=0.25)
    _motion_artifact(ctx, on, size, rng)
    ctx.plan.annotations += [Annotation(float(a), float(d), "jerk") for a, d in zip(on, bdur)]


def _plan_irregular(ctx: Ctx, seg: Segment, tc: float, t1: float, rng) -> None:
    """Impulsive, irregular jerks: a slowing renewal process with gamma intervals (CV 0.5-0.95),
    log-normal jerk sizes, a slow size modulation, and after each jerk a damped ringing of the
    limb (3-6 Hz, slowing) on top of a brief rotation. Parameters: IRREGULAR_* (module top)."""
    s = ctx.subject
    dc = t1 - tc
    if dc < 0.5:
        return
    place = "wrist" if not ctx.foot else "foot"
    f0 = float(seg.param("f_start_hz", s.seizure_f_start_hz))
    f1 = min(float(seg.param("f_end_hz", s.seizure_f_end_hz)), f0)
    decay = float(seg.param("decay_s", s.seizure_decay_s))
    build = float(seg.param("build_s", rng.uniform(2.5, 4.0)))
    cv = float(seg.param("interval_cv", rng.uniform(*IRREGULAR_INTERVAL_CV)))
    sigma = rng.uniform(*IRREGULAR_AMP_SIGMA)
    peak = float(seg.param("amplitude", 1.0)) * _loguniform(rng, *IRREGULAR_PEAK_G[place])
    ring0 = rng.uniform(*IRREGULAR_RING_HZ)
    ring1 = ring0 * rng.uniform(*IRREGULAR_RING_END_RATIO)
    u, phase = _freq_profile(dc, f0, f1, decay)
    # gamma renewal process in operational time (one cycle of the slowing rhythm = 1 on average)
    n_max = int(phase[-1] * 1.5) + 8
    k = 1.0 / max(cv, 0.05) ** 2
    cyc = np.cumsum(rng.gamma(k, 1.0 / k, n_max))
    cyc = cyc[cyc < phase[-1]]
    on_u = np.interp(cyc, phase, u)
    n = len(on_u)
    if n == 0:
        return
    rate = f1 + (f0 - f1) * np.exp(-on_u / decay)
    nxt = np.diff(np.concatenate([on_u, [dc]]))
    bdur = np.clip(s.burst_duty / rate * (1.0 + 0.3 * on_u / dc), 0.08, np.maximum(0.9 * nxt, 0.08))
    keep = on_u + bdur < dc - 0.02
    on_u, rate, bdur = on_u[keep], rate[keep], bdur[keep]
    n = len(on_u)
    if n == 0:
        return
    # slow size modulation (knots every 3 s, CV 0.3; assumed) times the build-up and the jerk's own size
    kt = np.arange(0.0, dc + 3.0, 3.0)
    slow = np.interp(on_u, kt, np.exp(rng.normal(0.0, 0.3, len(kt))))
    size = (0.25 + 0.75 * (1.0 - np.exp(-on_u / build))) * slow * np.exp(rng.normal(0.0, sigma, n) - 0.5 * sigma * sigma)
    spread = _spread(ctx, seg, tc, dc, on_u)
    size = size * (1.0 + 1.2 * spread)
    on = tc + on_u
    ring = ring1 + (ring0 - ring1) * np.exp(-on_u / decay)
    ring = ring * np.exp(rng.normal(0.0, 0.1, n))
    ring_decay = rng.uniform(0.12, 0.3) * np.exp(rng.normal(0.0, 0.2, n))
    # direction of each jerk: a main direction of the limb plus per-jerk scatter (assumed)
    main = np.array([0.6, 0.35, 1.0]) if not ctx.foot else np.array([0.4, 0.15, 1.0])
    d = main[None, :] * (1.0 + 0.4 * rng.normal(size=(n, 3))) * np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    g = peak * size
    ctx.plan.impacts.add(on + 0.02, 8.0 * ring_decay, ax=g * d[:, 0], ay=g * d[:, 1], az=g * d[:, 2], freq=ring, decay=ring_decay)
    rad = 0.5 * s.jerk_sign * s.jerk_rad * size * peak  # brief rotation, scaled with the ringing (assumed)
    ctx.plan.angles.add(on + 0.02, bdur + 0.05, amp=rad, rise=0.3, axis=0)
    ctx.plan.angles.add(on + 0.02, bdur + 0.05, amp=0.3 * rad * (spread + 0.3), rise=0.5, axis=1)
    _jerk_emg(ctx, on, bdur, size, rng)


def _plan_shaking(ctx: Ctx, seg: Segment, tc: float, t1: float, rng) -> None:
    """Large sinusoidal shaking at 3.5-5 Hz that slows by 10-30 %, with a co-activating EMG burst
    and a "jerk" annotation per cycle. Parameters: SHAKING_* (module top)."""
    s = ctx.subject
    dc = t1 - tc
    if dc < 1.0:
        return
    place = "wrist" if not ctx.foot else "foot"
    f0 = float(seg.param("f_start_hz", rng.uniform(*SHAKING_HZ)))
    f1 = min(float(seg.param("f_end_hz", f0 * rng.uniform(*SHAKING_END_RATIO))), f0)
    decay = float(seg.param("decay_s", s.seizure_decay_s))
    build = float(seg.param("build_s", rng.uniform(2.5, 4.0)))
    peak = float(seg.param("amplitude", 1.0)) * _loguniform(rng, *SHAKING_PEAK_G[place])
    # oscillator phase = 2 pi f0 t + deviation: the slowing enters as a smooth phase deviation
    kt, kp, ka = _phase_knots(rng, tc, t1, f0, 0.02, 0.12)
    ku = kt - tc
    kp = kp + 2 * np.pi * (f1 * ku + (f0 - f1) * decay * (1.0 - np.exp(-ku / decay)) - f0 * ku)
    ka = ka * (0.25 + 0.75 * (1.0 - np.exp(-ku / build)))
    rad = peak * G / (s.lever_m * (2 * np.pi * f0) ** 2)  # rotation giving the peak tangentially
    lin = (0.45 * peak, 0.3 * peak, peak) if not ctx.foot else (0.3 * peak, 0.15 * peak, peak)
    ctx.plan.oscillators.append(Oscillator(tc, t1, f0, kt, kp, ka, pitch_rad=0.5 * rad, roll_rad=0.2 * rad, lin_g=lin, ramp_s=0.3))
    u, phase = _freq_profile(dc, f0, f1, decay)
    on_u = np.interp(np.arange(1, int(phase[-1])), phase, u)
    rate = f1 + (f0 - f1) * np.exp(-on_u / decay)
    bdur = np.clip(s.burst_duty / rate, 0.08, 0.9 / rate)
    keep = on_u + bdur < dc - 0.02
    on_u, bdur = on_u[keep], bdur[keep]
    if len(on_u) == 0:
        return
    size = (0.25 + 0.75 * (1.0 - np.exp(-on_u / build))) * np.interp(tc + on_u, kt, ka.clip(0.2, None))
    _spread(ctx, seg, tc, dc, on_u)
    _jerk_emg(ctx, tc + on_u, bdur, size, rng)


def _plan_clonic(ctx: Ctx, seg: Segment, tc: float, t1: float, rng, amp_scale: float) -> None:
    """The quasi-regular clonic rhythm (the original model; see the module docstring)."""
    s = ctx.subject
    dc = t1 - tc
    f0 = float(seg.param("f_start_hz", s.seizure_f_start_hz))
    f1 = float(seg.param("f_end_hz", s.seizure_f_end_hz))
    f1 = min(f1, f0)
    decay = float(seg.param("decay_s", s.seizure_decay_s))
    build = float(seg.param("build_s", rng.uniform(2.5, 4.0)))
    # instantaneous frequency f(u) = f1 + (f0 - f1) exp(-u / decay); phase = its integral
    u = np.arange(0.0, dc, 0.002)
    phase = f1 * u + (f0 - f1) * decay * (1.0 - np.exp(-u / decay))
    n = int(phase[-1])
    nominal = np.interp(np.arange(n) + 0.1, phase, u)
    iv = np.diff(np.concatenate([[0.0], nominal]))
    # Interval jitter: CV 0.08 at the foot (one limb, quasi-regular); at the wrist the recorded
    # motion sums jerks of several arm and trunk muscle groups, so CV 0.08-0.3 (assumed).
    cv = 0.08 if ctx.foot else float(seg.param("interval_cv", rng.uniform(*WRIST_JERK_INTERVAL_CV)))
    iv = iv * np.clip(1.0 + rng.normal(0, cv, n), max(0.2, 1.0 - 3.5 * cv), 1.0 + 3.5 * cv)
    on_u = np.cumsum(iv)
    period = 1.0 / (f1 + (f0 - f1) * np.exp(-on_u / decay))
    bdur = np.clip(s.burst_duty * period * (1.0 + 0.3 * on_u / dc), 0.08, 0.9 * period)
    keep = on_u + bdur < dc - 0.02
    on_u, period, bdur = on_u[keep], period[keep], bdur[keep]
    n = len(on_u)
    if n == 0:
        return
    # bursts run at full strength to the last one that fits in the segment: an abrupt end
    amp_cv = 0.15 if ctx.foot else WRIST_JERK_AMP_CV
    amp = amp_scale * (0.25 + 0.75 * (1.0 - np.exp(-on_u / build))) * np.exp(rng.normal(0, amp_cv, n))
    gen = float(seg.param("generalized", 0.0))
    spread = np.zeros(n)
    if gen > 0:
        frac = gen if gen < 1 else 0.5
        tg = frac * dc
        spread = np.clip((on_u - tg) / 3.0, 0.0, 1.0)
        ctx.plan.annotations.append(Annotation(tc + tg, dc - tg, "generalized_phase"))
    m = 1.0 + 1.2 * spread
    on = tc + on_u
    a_emg = s.jerk_emg_fraction * amp * m
    ratio = rng.uniform(0.6, 1.0)
    lag = rng.normal(0.0, 0.005, n)
    emg_max = ctx.emg_max
    ctx.plan.env.add(on, bdur, a0=a_emg * emg_max[0], a1=0.0, band=1, rise=0.25)
    ctx.plan.env.add(on + lag, bdur, a0=0.0, a1=a_emg * emg_max[1] * ratio, band=1, rise=0.25)
    move = bdur + 0.1
    if ctx.foot:
        rad = s.jerk_sign * s.jerk_rad * amp * m
        lin = np.stack([0.15 + 0.4 * spread, 0.05 + 0.5 * spread, 0.4 + 0.3 * spread], axis=1) * amp[:, None]
    else:
        rad = 2.0 * s.jerk_sign * s.jerk_rad * amp * m
        lin = np.stack([0.6 + 0.8 * spread, 0.3 + 0.8 * spread, 1.0 + 0.5 * spread], axis=1) * amp[:, None]
    ctx.plan.angles.add(on + 0.02, move, amp=rad, rise=0.3, axis=0)  # fast, shock-like rise
    ctx.plan.angles.add(on + 0.02, move, amp=0.3 * rad * spread, rise=0.5, axis=1)
    ctx.plan.lin.add(on + 0.02, 0.6 * move, ax=lin[:, 0], ay=lin[:, 1], az=lin[:, 2])
    posture = seg.param("posture") or ACTIVITIES[seg.activity].foot_posture
    if ctx.foot and posture in ("sitting", "standing"):
        g = rng.uniform(0.3, 1.0) * amp * m
        ctx.plan.impacts.add(on + 0.02 + move, 0.1, ax=0.2 * g, ay=0.1 * g, az=g, freq=rng.uniform(15, 25), decay=0.015)
    _motion_artifact(ctx, on, amp * m, rng)
    ctx.plan.annotations += [Annotation(float(a), float(d), "jerk") for a, d in zip(on, bdur)]


def plan_tremor(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    s = ctx.subject
    kind = str(seg.param("kind", "rest"))
    f = float(seg.param("hz", {"rest": s.tremor_hz_rest, "essential": s.tremor_hz_essential,
                               "orthostatic": s.tremor_hz_orthostatic}.get(kind, s.tremor_hz_rest)))
    g = float(seg.param("amplitude_g", s.tremor_g * (0.3 if kind == "orthostatic" else 1.0)))
    # rotation amplitude that gives g of tangential acceleration at the sensor: r theta (2 pi f)^2
    rad = g * G / (s.lever_m * (2 * np.pi * f) ** 2)
    kt, kp, ka = _phase_knots(rng, t0, t1, f, 0.02, 0.15)
    emg = ctx.emg_max * rng.uniform(0.08, 0.3) * (1.5 if kind == "orthostatic" else 1.0)
    ctx.plan.oscillators.append(
        Oscillator(t0, t1, f, kt, kp, ka, pitch_rad=rad, roll_rad=0.3 * rad, lin_g=(0.1 * g, 0.25 * g, 0.0),
                   emg_uv=(float(emg[0]), float(emg[1])), emg_pattern=str(seg.param("pattern", "alternating")),
                   emg_sharpness=3, emg_band=0, ramp_s=2.0)
    )


def plan_gait(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    s = ctx.subject
    act = seg.activity
    if act == "running":
        stride_hz = s.run_cadence_spm / 120.0
        kind, impact, pitch, lin = "run", s.run_impact_g, 1.3, (4.0, 2.0)
        ta, ga = 0.45, 0.6
    elif act == "stairs":
        stride_hz = 0.7 * s.cadence_spm / 120.0
        kind, impact, pitch, lin = "stairs", 0.5 * s.heel_strike_g, 0.8, (0.8, 1.2)
        if seg.param("direction", "up") == "down":
            # descending: the foot drops onto the step below, harder impacts (assumed x1.3 of level
            # walking, twice ascent) and a slightly faster cadence
            stride_hz, impact = 0.8 * s.cadence_spm / 120.0, 1.3 * s.heel_strike_g
        ta, ga = 0.25, 0.55
    else:
        stride_hz = float(seg.param("cadence_spm", s.cadence_spm)) / 120.0
        kind, impact, pitch, lin = "walk", s.heel_strike_g, 1.0, (1.5, 0.8)
        ta, ga = 0.25, 0.35
    stride_hz *= rng.uniform(0.95, 1.05)
    cv, vigour = 0.025, 1.0
    if kind == "walk":
        cv = _loguniform(rng, *WALK_STRIDE_CV)
        vigour = float(seg.param("vigour", _loguniform(rng, *(FOOT_WALK_VIGOUR if ctx.placement == "foot" else WALK_VIGOUR))))
        impact, pitch, lin = impact * vigour, pitch * np.sqrt(vigour), (lin[0] * np.sqrt(vigour), lin[1] * np.sqrt(vigour))
    n = int((t1 - t0) * stride_hz) + 2
    per = np.clip(rng.normal(1.0 / stride_hz, cv / stride_hz, n), 0.5 / stride_hz, None)
    hs = t0 + 0.4 + np.concatenate([[0.0], np.cumsum(per[:-1])])  # stride k lasts per[k]
    keep = hs + per < t1 - 0.3
    hs, per = hs[keep], per[keep]
    m = len(hs)
    if m == 0:
        return
    if not ctx.foot:
        # Wrist: arm swing at the stride frequency, attenuated impacts at every step.
        run_share = _loguniform(rng, *WRIST_RUN_IMPACT) if kind == "run" else 0.06
        arm = {"run": (0.6, 1.0, run_share * impact), "stairs": (0.3, 0.3, 0.1 * impact)}.get(kind, (0.35, 0.3, 0.1 * impact))
        ctx.plan.gaits.append(Gait(t0, t1, "armswing", hs, per, arm[0], (arm[1], 0.5 * arm[1])))
        steps = np.concatenate([hs, hs + per / 2])
        gi = arm[2] * np.exp(rng.normal(0, 0.2, len(steps)))
        ctx.plan.impacts.add(steps, 0.15, ax=0.5 * gi, ay=0.3 * gi, az=gi, freq=rng.uniform(8, 15), decay=0.03)
        return
    ctx.plan.gaits.append(Gait(t0, t1, kind, hs, per, pitch, lin))
    gi = impact * np.exp(rng.normal(0, 0.2, m))
    ctx.plan.impacts.add(hs, 0.15, ax=0.4 * gi, ay=0.15 * gi, az=gi, freq=rng.uniform(18, 30), decay=rng.uniform(0.01, 0.02))
    ctx.plan.impacts.add(hs + 0.08 * per, 0.15, ax=0.1 * gi, az=0.3 * gi, freq=20.0, decay=0.015)  # forefoot contact
    mx = ctx.emg_max
    amp = np.exp(rng.normal(0, 0.1, m))
    ctx.plan.env.add(hs - 0.05 * per, 0.2 * per, a0=ta * mx[0] * amp, a1=0.0, band=0, rise=0.3)
    ctx.plan.env.add(hs + 0.6 * per, 0.35 * per, a0=0.6 * ta * mx[0] * amp, a1=0.0, band=0, rise=0.3)
    ctx.plan.env.add(hs + 0.1 * per, 0.4 * per, a0=0.0, a1=ga * mx[1] * amp, band=0, rise=0.3)
    _motion_artifact(ctx, hs, gi, rng)


def plan_tapping(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    s = ctx.subject
    f_pref = float(seg.param("hz", s.tap_hz))
    mx = ctx.emg_max
    t = t0 + rng.uniform(0.2, 1.0)
    taps = []
    rates = []
    f = f_pref
    while t < t1 - 1.0:
        bout = rng.uniform(3.0, 15.0)
        f = float(np.clip(f + rng.normal(0, 0.1 * f_pref), 0.7 * f_pref, 1.3 * f_pref))  # drift, no trend
        tt = _rhythm(rng, t, min(t + bout, t1 - 0.5), f, 0.04)
        taps.append(tt)
        rates.append(np.full(len(tt), f))
        t = t + bout + rng.uniform(1.0, 6.0)
    if not taps:
        return
    on = np.concatenate(taps)
    f = np.concatenate(rates)
    n = len(on)
    amp = np.exp(rng.normal(0, 0.08, n))
    lift = 0.7 / f
    ctx.plan.angles.add(on + 0.03, lift, amp=rng.uniform(0.12, 0.25) * amp, rise=0.5, axis=0)
    ctx.plan.lin.add(on + 0.03, 0.5 * lift, ax=0.05 * amp, az=0.25 * amp)
    g = rng.uniform(0.4, 1.5) * amp
    ctx.plan.impacts.add(on + 0.03 + lift, 0.12, ax=0.2 * g, ay=0.05 * g, az=g, freq=rng.uniform(20, 35), decay=0.012)
    ctx.plan.env.add(on, 0.35 / f, a0=0.25 * mx[0] * amp, a1=0.0, band=0, rise=0.3)
    ctx.plan.env.add(on + 0.45 / f, 0.2 / f, a0=0.0, a1=0.1 * mx[1] * amp, band=0, rise=0.3)
    _motion_artifact(ctx, on + 0.03 + lift, g, rng)
    ctx.plan.annotations += [Annotation(float(a), float(d), "tap") for a, d in zip(on, lift + 0.03)]


def plan_plm(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    s = ctx.subject
    mean_iv = float(seg.param("interval_s", s.plm_interval_s))
    on = []
    t = t0 + rng.uniform(min(2.0, 0.1 * (t1 - t0)), max(min(20.0, 0.3 * (t1 - t0)), 0.1 * (t1 - t0)))
    while t < t1:
        on.append(t)
        t += float(np.clip(rng.normal(mean_iv, 0.25 * mean_iv), 5.0, 90.0))
    on = np.asarray(on)
    dur = np.clip(2.0 * np.exp(rng.normal(0, 0.5, len(on))), 0.5, 10.0)
    keep = on + dur < t1 - 0.1
    on, dur = on[keep], dur[keep]
    n = len(on)
    mx = ctx.emg_max
    ctx.plan.angles.add(on + 0.05, dur, amp=rng.uniform(0.2, 0.5, n), rise=0.3, axis=0)
    ctx.plan.angles.add(on + 0.05, dur, amp=rng.uniform(-0.1, 0.1, n), rise=0.3, axis=1)
    ctx.plan.env.add(on, dur, a0=rng.uniform(0.15, 0.4, n) * mx[0], a1=rng.uniform(0.0, 0.08, n) * mx[1], band=0, rise=0.2)
    _motion_artifact(ctx, on, np.full(n, 0.3), rng)
    ctx.plan.annotations += [Annotation(float(a), float(d), "plm_movement") for a, d in zip(on, dur)]


def plan_cramp(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    mx = ctx.emg_max
    d = t1 - t0
    if d < 3.0:
        return  # too short to be a cramp: the segment stays at rest
    rise = min(0.3, 5.0 / d)
    level = rng.uniform(0.3, 0.7)
    ctx.plan.env.add(t0 + 0.5, d - 1.0, a0=0.05 * mx[0], a1=level * mx[1], band=0, rise=rise)
    # fluctuation of the cramp: overlapping bursts
    k = int(d / 2)
    on = np.sort(rng.uniform(t0 + 0.2 * d, max(t1 - 0.2 * d - 2.0, t0 + 0.2 * d), k))
    ctx.plan.env.add(on, rng.uniform(0.5, 2.0, k), a0=0.0, a1=rng.uniform(0.0, 0.2, k) * mx[1], band=0, rise=0.5)
    ctx.plan.angles.add(t0 + 0.5, d - 1.0, amp=-rng.uniform(0.2, 0.45), rise=rise, axis=0)


def plan_fidget(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    rate = float(seg.param("rate_per_s", rng.uniform(0.15, 0.5)))
    n = rng.poisson(rate * (t1 - t0))
    on = np.sort(rng.uniform(t0, t1 - 2.2, n)) if t1 - t0 > 3 else np.zeros(0)
    n = len(on)
    if n == 0:
        return
    dur = rng.uniform(0.3, 2.0, n)
    kind = rng.integers(0, 3, n)
    amp = rng.uniform(-0.3, 0.3, n)
    ctx.plan.angles.add(on, dur, amp=np.where(kind == 0, amp, 0.0), rise=0.5, axis=0)
    ctx.plan.angles.add(on, dur, amp=np.where(kind == 1, amp, 0.0), rise=0.5, axis=1)
    vec = rng.normal(0, 0.25, (n, 3)) * (kind == 2)[:, None]
    ctx.plan.lin.add(on, np.minimum(dur, 0.6), ax=vec[:, 0], ay=vec[:, 1], az=vec[:, 2])
    mx = ctx.emg_max
    ch0 = rng.random(n) < 0.5
    a = rng.uniform(0.05, 0.3, n)
    ctx.plan.env.add(on, dur, a0=np.where(ch0, a, 0.1 * a) * mx[0], a1=np.where(ch0, 0.1 * a, a) * mx[1], band=0, rise=0.3)
    _motion_artifact(ctx, on, np.abs(amp) + 0.1, rng)
    ctx.plan.annotations += [Annotation(float(a), float(d), "movement") for a, d in zip(on, dur)]


def plan_not_worn(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Off the body: no movement; EMG contact drops to zero (flat front-end noise only)."""
    ctx.plan.contact_t += [t0, t0 + 0.2, t1 - 0.2, t1]
    ctx.plan.contact_v += [1.0, 0.0, 0.0, 1.0]


# ---- wrist --------------------------------------------------------------------------------


def plan_brushing(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Tooth brushing: stationary 3-6 Hz scrubbing (BRUSH_*: amplitude CV 0.2-0.35, frequency
    CV ~3 %), short pauses and side changes, forearm raised (posture hand_at_mouth)."""
    f = float(seg.param("hz", rng.uniform(*BRUSH_HZ)))
    kt, kp, ka = _phase_knots(rng, t0, t1, f, 0.03, rng.uniform(*BRUSH_AMP_CV), dropout=0.03)
    g = rng.uniform(*BRUSH_G)
    ctx.plan.oscillators.append(Oscillator(t0, t1, f, kt, kp, ka, pitch_rad=0.05, roll_rad=0.15, lin_g=(0.3 * g, g, 0.2 * g), ramp_s=0.5))
    side = t0 + np.arange(rng.uniform(5, 15), t1 - t0 - 2, rng.uniform(8, 20))
    ctx.plan.angles.add(side, rng.uniform(3, 8, len(side)), amp=rng.uniform(-0.5, 0.5, len(side)), rise=0.15, axis=1)


def plan_combing(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Hair combing: irregular 0.5-0.9 s strokes every 0.8-2 s, hand above the head."""
    on = t0 + np.cumsum(rng.uniform(0.8, 2.0, int((t1 - t0) / 0.8) + 2))
    on = on[on < t1 - 1.0]
    n = len(on)
    dur = rng.uniform(0.5, 0.9, n)
    ctx.plan.angles.add(on, dur, amp=-rng.uniform(0.3, 0.6, n), rise=0.4, axis=0)
    ctx.plan.angles.add(on, dur, amp=rng.uniform(-0.3, 0.3, n), rise=0.4, axis=1)
    ctx.plan.lin.add(on, dur, ax=rng.uniform(0.2, 0.6, n), ay=rng.uniform(-0.2, 0.2, n), az=rng.uniform(0.1, 0.4, n))


def plan_typing(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Typing: irregular (Poisson) keystrokes at 2-8/s in bursts with pauses to think; each a
    small tap (TYPING_TAP_G: 50-150 mg band RMS at 25 Hz) ringing at 10-15 Hz; occasional hand moves."""
    rate = rng.uniform(2.0, 8.0)
    n = rng.poisson(rate * (t1 - t0))
    on = np.sort(rng.uniform(t0, max(t1 - 0.2, t0), n))
    on = on[np.sin(2 * np.pi * on / rng.uniform(5, 15)) > -0.5]  # pauses to think
    g = _loguniform(rng, *TYPING_TAP_G) * np.exp(rng.normal(0.0, 0.4, len(on)))
    ctx.plan.impacts.add(on, 0.15, ax=0.3 * g, ay=0.3 * g, az=g, freq=rng.uniform(10.0, 15.0), decay=0.02)
    mv = np.sort(rng.uniform(t0, max(t1 - 1.0, t0), int((t1 - t0) / 8) + 1))
    v = rng.normal(0, 0.15, (len(mv), 3))
    ctx.plan.lin.add(mv, rng.uniform(0.3, 0.8, len(mv)), ax=v[:, 0], ay=v[:, 1], az=v[:, 2])


def plan_eating(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """A meal: hand-to-mouth every 8-25 s (2-3 s, forearm raised, supinated) and cutting bouts."""
    on = t0 + np.cumsum(rng.uniform(8.0, 25.0, int((t1 - t0) / 8) + 2))
    on = on[on < t1 - 4.0]
    n = len(on)
    dur = rng.uniform(2.0, 3.0, n)
    ctx.plan.angles.add(on, dur, amp=rng.uniform(0.8, 1.2, n), rise=0.3, axis=0)
    ctx.plan.angles.add(on, dur, amp=rng.uniform(0.3, 0.7, n), rise=0.3, axis=1)
    for a, b in zip(on[:-1] + dur[:-1] + 1.0, on[1:] - 1.0):
        if b - a > 2.0 and rng.random() < 0.6:
            cut = _rhythm(rng, a, a + min(b - a, rng.uniform(1.0, 4.0)), rng.uniform(2.0, 3.5), 0.15)
            g = rng.uniform(0.1, 0.4)
            ctx.plan.lin.add(cut, 0.8 / rng.uniform(2.0, 3.5), ax=g, ay=0.2 * g, az=0.1 * g)


def plan_dishes(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Washing dishes: irregular 2-5 Hz scrubbing bouts of 1-5 s, rinsing turns in between."""
    t = t0 + rng.uniform(0.5, 2.0)
    while t < t1 - 3.0:
        bout = rng.uniform(1.0, 5.0)
        f = rng.uniform(2.0, 5.0)
        sc = _rhythm(rng, t, min(t + bout, t1 - 1.0), f, 0.2)
        g = rng.uniform(0.2, 0.8) * np.exp(rng.normal(0, 0.2, len(sc)))
        d = rng.normal(0, 1, 3)
        d = d / np.linalg.norm(d)
        ctx.plan.lin.add(sc, 0.9 / f, ax=g * d[0], ay=g * d[1], az=g * d[2])
        t += bout
        turn = rng.uniform(0.5, 3.0)
        ctx.plan.angles.add(t, turn, amp=rng.uniform(-1.0, 1.0), rise=0.3, axis=1)
        ctx.plan.angles.add(t, turn, amp=rng.uniform(-0.5, 0.5), rise=0.3, axis=0)
        t += turn + rng.uniform(0.2, 2.0)



# ---- confounders added for real-world false alarms (OSD users, DETECTION_NOTES.md) ---------

#: Brushing: scrubbing frequency (Hz, uniform), slow amplitude CV (uniform) and peak scrubbing
#: acceleration (g, uniform). DETECTION_NOTES.md: 3-6 Hz per axis, amplitude CV 0.2-0.35,
#: stationary for 1-3 min, forearm raised; the ADL recordings' brushing RMS is ~360 mg (10^2.56).
BRUSH_HZ = (3.0, 6.0)
BRUSH_AMP_CV = (0.2, 0.35)
BRUSH_G = (0.3, 1.0)
#: Electric toothbrush motor: sonic brushes 31,000-62,000 strokes/min (~260-520 Hz), oscillating-
#: rotating ones ~70-170 Hz (manufacturers' figures, rounded); vibration reaching the wrist (g,
#: log-uniform, assumed) and the share leaking through a watch's anti-alias filter (assumed: many
#: watch accelerometers sample without a matched filter, which is why brushes alarm OSD).
TOOTHBRUSH_HZ = ((70.0, 170.0), (250.0, 520.0))
TOOTHBRUSH_G = (0.1, 0.8)
VIBRATION_LEAK = (0.05, 1.0)
#: Electric shaver motor ~100-250 Hz (rotary and foil shavers; assumed from motor speeds), and the
#: slow strokes over the face every 0.5-2 s (assumed).
SHAVER_HZ = (100.0, 250.0)
SHAVER_G = (0.03, 0.3)
#: Typing: peak of one keystroke tap at the wrist, g (per-segment level log-uniform, single taps
#: vary with CV ~0.4, 2-8 keys/s; assumed), chosen so that the 1-12 Hz band RMS of 5 s windows
#: at 25 Hz is ~50-150 mg (DETECTION_NOTES.md: typing/knitting 50-150 mg, irregular).
TYPING_TAP_G = (0.15, 0.45)
#: Clapping: 2-4.5 claps/s (Neda et al. 2000, Nature 403:849: applause ~2-4.5 Hz), bouts of
#: 3-20 s; the palm contact gives a sharp impact of 1-6 g at the wrist (assumed).
CLAP_HZ = (2.0, 4.5)
CLAP_G = (1.0, 6.0)
#: Vehicle: seat vibration of road vehicles is ~0.2-1 m/s^2 RMS (frequency-weighted, ISO 2631-1
#: whole-body vibration surveys; 0.02-0.1 g), broadband 2-20 Hz, plus bumps (potholes, speed
#: humps) every 5-60 s of 0.1-0.6 g ringing at the suspension's 1-3 Hz and the seat's 4-8 Hz
#: (assumed), and slow braking/turning accelerations of 0.05-0.3 g over seconds (assumed).
VEHICLE_RMS_G = (0.02, 0.1)
VEHICLE_BUMP_G = (0.1, 0.6)
#: Foot walking impacts: a foot-mounted IMU sees heel strikes of several g (DETECTION_NOTES.md,
#: real IPOL/gaitmap feet); the shuffling/shank range WALK_VIGOUR stays for the ankle.
FOOT_WALK_VIGOUR = (0.5, 1.3)


def _vibration(ctx: Ctx, t0, t1, f_range, g_range, rng, leak=None) -> None:
    """Motor vibration: an oscillator far above the band, of which ``alias_leak`` aliases."""
    f = rng.uniform(*f_range)
    g = _loguniform(rng, *g_range)
    leak = _loguniform(rng, *VIBRATION_LEAK) if leak is None else leak
    kt, kp, ka = _phase_knots(rng, t0, t1, f, 0.01, 0.15)  # motor speed wanders ~1 % with load
    ctx.plan.oscillators.append(Oscillator(t0, t1, f, kt, kp, ka, lin_g=(0.5 * g, g, 0.3 * g), ramp_s=0.2, alias_leak=leak))


def plan_electric_toothbrush(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Electric toothbrush: motor vibration (70-170 or 250-520 Hz, aliased as the sensor allows),
    small slow movements of the hand from tooth to tooth, forearm raised, 2 min timer pauses."""
    band = TOOTHBRUSH_HZ[int(rng.random() < 0.5)]
    _vibration(ctx, t0, t1, band, TOOTHBRUSH_G, rng)
    on = t0 + np.cumsum(rng.uniform(1.0, 4.0, int((t1 - t0) / 1.0) + 2))
    on = on[on < t1 - 1.0]
    n = len(on)
    dur = rng.uniform(0.4, 1.2, n)
    ctx.plan.angles.add(on, dur, amp=rng.uniform(-0.25, 0.25, n), rise=0.4, axis=1)
    v = rng.normal(0, 0.06, (n, 3))
    ctx.plan.lin.add(on, dur, ax=v[:, 0], ay=v[:, 1], az=v[:, 2])


def plan_shaving(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Electric shaving: 100-250 Hz motor vibration (aliased as the sensor allows) and slow strokes
    over the face every 0.5-2 s with the forearm raised."""
    _vibration(ctx, t0, t1, SHAVER_HZ, SHAVER_G, rng)
    on = t0 + np.cumsum(rng.uniform(0.5, 2.0, int((t1 - t0) / 0.5) + 2))
    on = on[on < t1 - 1.0]
    n = len(on)
    dur = rng.uniform(0.4, 1.0, n)
    ctx.plan.angles.add(on, dur, amp=rng.uniform(-0.3, 0.3, n), rise=0.4, axis=0)
    ctx.plan.angles.add(on, dur, amp=rng.uniform(-0.4, 0.4, n), rise=0.4, axis=1)
    ctx.plan.lin.add(on, dur, ax=rng.uniform(-0.15, 0.15, n), ay=rng.uniform(-0.1, 0.1, n), az=rng.uniform(0.05, 0.2, n))


def plan_clapping(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Clapping: bouts of 3-20 s at 2-4.5 claps/s (interval CV ~0.05), a swing of the forearm and
    a sharp palm impact per clap, pauses of 1-5 s."""
    t = t0 + rng.uniform(0.2, 1.0)
    f_pref = rng.uniform(*CLAP_HZ)
    g0 = _loguniform(rng, *CLAP_G)
    while t < t1 - 1.0:
        bout = rng.uniform(3.0, 20.0)
        f = f_pref * rng.uniform(0.9, 1.1)
        on = _rhythm(rng, t, min(t + bout, t1 - 0.5), f, 0.05)
        n = len(on)
        g = g0 * np.exp(rng.normal(0, 0.2, n))
        ctx.plan.lin.add(on - 0.5 / f, 0.5 / f, ax=0.1 * g, ay=0.05 * g, az=0.15 * g)
        ctx.plan.impacts.add(on, 0.1, ax=0.3 * g, ay=0.2 * g, az=g, freq=rng.uniform(15, 30), decay=0.015)
        t = t + bout + rng.uniform(1.0, 5.0)


def plan_vehicle(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Sitting in a moving vehicle: broadband 2-20 Hz road vibration (dense shot noise of damped
    sines), occasional bumps, slow braking and cornering accelerations."""
    d = t1 - t0
    rms = _loguniform(rng, *VEHICLE_RMS_G)
    rate = 25.0  # vibration "shots" per s: dense enough to be noise-like
    n = rng.poisson(rate * d)
    on = np.sort(rng.uniform(t0, t1, n))
    f = np.exp(rng.uniform(np.log(2.0), np.log(20.0), n))
    dec = 1.5 / f  # a few cycles each
    # RMS of shot noise of unit-peak damped sines ~ sqrt(rate * dec / 4): scale to the wanted RMS
    a = rms / np.sqrt(rate * np.mean(dec) / 4.0) * rng.normal(0.0, 1.0, (n, 3)) * np.array([0.6, 0.5, 1.0])
    keep = on + 8 * dec < t1
    ctx.plan.impacts.add(on[keep], 8 * dec[keep], ax=a[keep, 0], ay=a[keep, 1], az=a[keep, 2], freq=f[keep], decay=dec[keep])
    # bumps: suspension (1-3 Hz) and seat (4-8 Hz) ringing
    nb = rng.poisson(d / rng.uniform(5.0, 60.0))
    ob = np.sort(rng.uniform(t0, max(t0, t1 - 3.0), nb))
    gb = _loguniform(rng, *VEHICLE_BUMP_G) * np.exp(rng.normal(0, 0.4, nb))
    fb = rng.uniform(1.0, 3.0, nb)
    ctx.plan.impacts.add(ob, 2.5, ax=0.2 * gb, ay=0.1 * gb, az=gb, freq=fb, decay=0.3)
    ctx.plan.impacts.add(ob + 0.05, 1.0, ax=0.1 * gb, az=0.6 * gb, freq=rng.uniform(4.0, 8.0, nb), decay=0.1)
    # braking / cornering: smooth pushes of 2-8 s
    nm = rng.poisson(d / 20.0)
    om = np.sort(rng.uniform(t0, max(t0, t1 - 8.0), nm))
    dm = rng.uniform(2.0, 8.0, nm)
    gm = rng.uniform(0.05, 0.3, nm) * np.where(rng.random(nm) < 0.5, -1.0, 1.0)
    axis = rng.random(nm) < 0.5
    ctx.plan.lin.add(om, dm, ax=np.where(axis, gm, 0.0), ay=np.where(axis, 0.0, gm))


def _strides(rng, t0, t1, stride_hz, cv):
    """Heel-strike times and stride periods (s) from t0 + 0.4 s with period CV cv, ending < t1 - 0.3."""
    n = int((t1 - t0) * stride_hz) + 2
    per = np.clip(rng.normal(1.0 / stride_hz, cv / stride_hz, n), 0.5 / stride_hz, None)
    hs = t0 + 0.4 + np.concatenate([[0.0], np.cumsum(per[:-1])])
    keep = hs + per < t1 - 0.3
    return hs[keep], per[keep]


def plan_turning(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Walking with frequent turns (e.g. a timed up-and-go, pacing a room): slower, irregular steps
    (stride CV ~0.1), pivots that roll the foot and push it sideways (0.2-0.6 g), softer impacts."""
    s = ctx.subject
    t = t0
    while t < t1 - 2.0:
        straight = min(rng.uniform(3.0, 10.0), t1 - t)
        plan_gait(ctx, Segment("walking", straight, seg.params), t, t + straight, rng)
        t += straight
        turn = min(rng.uniform(1.5, 4.0), t1 - t)
        if turn < 1.0:
            break
        hs, per = _strides(rng, t - 0.4, t + turn, 0.7 * s.cadence_spm / 120.0, 0.1)
        m = len(hs)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        gi = 0.5 * s.heel_strike_g * np.exp(rng.normal(0, 0.3, m)) if ctx.foot else 0.1 * np.exp(rng.normal(0, 0.3, m))
        ctx.plan.impacts.add(hs, 0.15, ax=0.3 * gi, ay=0.4 * gi * sign, az=gi, freq=rng.uniform(15, 25), decay=0.015)
        lat = rng.uniform(0.2, 0.6, m) * sign
        ctx.plan.lin.add(hs + 0.1 * per, 0.5 * per, ax=0.3 * np.abs(lat), ay=lat)
        ctx.plan.angles.add(hs, 0.6 * per, amp=rng.uniform(0.1, 0.3, m) * sign, rise=0.3, axis=1)
        ctx.plan.angles.add(hs + 0.5 * per, 0.4 * per, amp=rng.uniform(0.2, 0.5, m), rise=0.4, axis=0)
        t += turn


def plan_stand_walk(ctx: Ctx, seg: Segment, t0, t1, rng) -> None:
    """Stand-walk-stand transitions: standing still for 3-20 s, then a bout of 2-12 strides
    (gait initiation and termination included in the bout's ramps), repeated."""
    s = ctx.subject
    t = t0 + rng.uniform(1.0, 5.0)
    while t < t1 - 3.0:
        strides = rng.integers(2, 13)
        bout = min(strides * 120.0 / s.cadence_spm + 0.8, t1 - t)
        if bout < 2.0:
            break
        plan_gait(ctx, Segment("walking", bout, seg.params), t, t + bout, rng)
        ctx.plan.annotations.append(Annotation(float(t), float(bout), "movement"))
        t += bout + rng.uniform(3.0, 20.0)

PLANNERS = {
    "quiet": plan_rest,
    "fasciculation": plan_rest,
    "sleep": plan_rest,
    "rhythmic_jerking": plan_jerking,
    "walking": plan_gait,
    "running": plan_gait,
    "stairs": plan_gait,
    "tapping": plan_tapping,
    "tremor": plan_tremor,
    "plm": plan_plm,
    "cramp": plan_cramp,
    "fidget": plan_fidget,
    "not_worn": plan_not_worn,
    "brushing_teeth": plan_brushing,
    "combing_hair": plan_combing,
    "typing": plan_typing,
    "eating": plan_eating,
    "washing_dishes": plan_dishes,
    "electric_toothbrush": plan_electric_toothbrush,
    "shaving": plan_shaving,
    "clapping": plan_clapping,
    "vehicle": plan_vehicle,
    "turning": plan_turning,
    "stand_walk": plan_stand_walk,
}
assert set(PLANNERS) == set(ACTIVITIES)


def plan_segment(ctx: Ctx, index: int, seg: Segment, t0: float, t1: float, seed: int) -> None:
    """Plan one segment: posture, the activity itself, fasciculations and electrode pops."""
    rng = np.random.default_rng([int(seed), 1, index])
    _posture(ctx, seg, t0, t1, rng)
    ctx.plan.segments.append(Annotation(t0, t1 - t0, seg.activity))
    PLANNERS[seg.activity](ctx, seg, t0, t1, rng)
    ctx.plan.posture_t.append(t1)
    ctx.plan.posture_v.append(ctx.posture_now)
    if seg.activity == "not_worn":
        return
    if seg.activity == "fasciculation":
        default_rate = ctx.subject.fasciculation_per_min
    else:
        default_rate = ctx.subject.background_fasciculation_per_min
    rate = float(seg.param("rate_per_min", seg.param("fasciculation_per_min", default_rate)))
    plan_fasciculations(ctx, t0, t1, rate, rng)
    plan_pops(ctx, t0, t1, rng)
