"""Render fixed tiles of samples from a :class:`~twitchwatch.sim.plan.Plan`.

Sample ``i`` of a stream at rate ``r`` is at time ``i / r`` s. Tile ``k`` holds samples
``[k L, (k + 1) L)`` with ``L = round(tile_s * r)``. A tile is a pure function of (plan, subject,
config, seed, k): its random noise comes from ``default_rng([seed, stream, k, ...])`` and every
deterministic component is evaluated at absolute times, so any read-out order gives the same
samples. Filtered noise (EMG carriers) is filtered per tile after a warm-up pad of its own noise.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from twitchwatch.sim import shapes
from twitchwatch.sim.activities import G
from twitchwatch.sim.config import SimConfig
from twitchwatch.sim.plan import N_BANDS, Plan
from twitchwatch.sim.subject import Subject

_STREAM_ACCEL = 1
_STREAM_EMG = 2
#: Largest noise bank, samples (8 MB of float64 per bank).
BANK_MAX = 1 << 20

# Gait templates: ankle angle (rad) over the stride from heel strike (dorsiflexed at heel strike,
# flat in stance, plantarflexed at toe-off ~0.62, dorsiflexing through swing). Assumed from
# textbook gait kinematics (e.g. Perry & Burnfield, Gait Analysis, 2010), rounded.
_FOOT_PITCH = shapes.fourier_template(
    [0.0, 0.08, 0.15, 0.40, 0.50, 0.62, 0.75, 0.90], [0.25, 0.05, 0.0, 0.0, -0.15, -0.5, -0.15, 0.2]
)


def _rotate(vx, vy, vz, pitch, roll):
    """Rotate readings by pitch (about y) then roll (about x); arrays broadcast."""
    cp, sp = np.cos(pitch), np.sin(pitch)
    x = vx * cp + vz * sp
    z1 = -vx * sp + vz * cp
    cr, sr = np.cos(roll), np.sin(roll)
    y = vy * cr + z1 * sr
    z = -vy * sr + z1 * cr
    return x, y, z


def _ipow(x: np.ndarray, k: int) -> np.ndarray:
    """x ** k for a small integer k, by multiplication (np.power with a float exponent is slow)."""
    out = x
    for _ in range(int(k) - 1):
        out = out * x
    return out


def _quantize(x: np.ndarray, scale: float) -> np.ndarray:
    """Physical units to int16 counts, rounding and clipping at full scale (in place on x)."""
    x *= 1.0 / scale
    np.rint(x, out=x)
    np.clip(x, -32768, 32767, out=x)
    return x.astype(np.int16)


def design_carriers(fe: float) -> list[list[tuple[np.ndarray, float]]]:
    """EMG carrier filters per band for white noise at ``fe`` Hz: a list per band of (sos,
    weight / unit-RMS gain)."""
    top = 0.45 * fe

    def bp(lo, hi):
        hi = min(hi, top)
        lo = min(lo, 0.6 * hi)
        sos = signal.butter(2, [lo, hi], btype="bandpass", fs=fe, output="sos")
        imp = np.zeros(int(4 * fe))
        imp[0] = 1.0
        gain = float(np.sqrt(np.sum(signal.sosfilt(sos, imp) ** 2)))
        return sos, gain

    def mix(parts):
        total = np.sqrt(sum(w * w for w, _ in parts))
        return [(sos, w / total / gain) for w, (sos, gain) in parts]

    broad = bp(20.0, 250.0)
    return [
        mix([(1.0, broad)]),  # voluntary interference pattern, 20-250 Hz
        mix([(0.85, bp(12.0, 70.0)), (0.5, broad)]),  # clonic: 12-70 Hz dominated + broadband
        mix([(0.9, bp(150.0, 270.0)), (0.3, broad)]),  # tonic: 150-270 Hz
    ]


class NoiseBanks:
    """Seeded banks of unit noise a renderer reads its tiles' noise from.

    Parameters
    ----------
    seed : the simulation's seed
    sizes : stream code -> (samples in the recording, tile length in samples)
    carriers : :func:`design_carriers` for the EMG rate, or None without EMG
    emg_rate : EMG sampling rate, Hz
    """

    def __init__(self, seed: int, sizes: dict[int, tuple[int, int]], carriers, emg_rate: float):
        self.seed = seed
        self.sizes = sizes
        self.carriers = carriers
        self.emg_rate = emg_rate
        self._banks: dict = {}

    def bank(self, stream: int, band: int) -> np.ndarray:
        """A seeded bank of unit noise (band -1: white; 0..: EMG carrier band), made once.

        When the whole recording fits (short recordings) tiles read consecutive, non-overlapping
        stretches of it, so the noise is one continuous realisation; longer recordings read each
        tile at a seeded random offset inside the region of its slot (a noise table: stretches
        repeat across tiles, never across channels or axes at the same time).
        """
        key = (stream, band)
        bank = self._banks.get(key)
        if bank is None:
            n_total, L = self.sizes[stream]
            need = 3 * (n_total + L) + 1
            # at least 3 slot regions of 8 tiles each, so random stretches vary
            size = max(min(BANK_MAX, 1 << int(np.ceil(np.log2(max(need, 1024))))), min(24 * L, 4 * BANK_MAX), 6 * L)
            rng = np.random.default_rng([self.seed, 100 + stream, band + 1])
            if band < 0:
                bank = rng.standard_normal(size)
            else:
                pad = int(0.3 * self.emg_rate)
                white = rng.standard_normal(size + pad)
                bank = np.zeros(size)
                for sos, wgt in self.carriers[band]:
                    bank += wgt * signal.sosfilt(sos, white)[pad:]
            self._banks[key] = bank
        return bank

    def noise(self, stream: int, k: int, slot: int, n: int, band: int = -1) -> np.ndarray:
        """n samples of unit noise for tile k and a slot (channel or axis): a view into a bank."""
        n_total, L = self.sizes[stream]
        bank = self.bank(stream, band)
        if 3 * (n_total + L) < len(bank):
            off = slot * (n_total + L) + k * L
        else:
            key = (stream, band, "offsets")
            offs = self._banks.get(key)
            if offs is None:
                rng = np.random.default_rng([self.seed, 200 + stream, band + 1])
                region = len(bank) // 3
                offs = rng.integers(0, region - L, size=((n_total + L - 1) // L, 3)) + region * np.arange(3)
                self._banks[key] = offs
            off = int(offs[k, slot])
        return bank[off : off + n]


class Renderer:
    """Turns tiles of a plan into int16 counts for both streams."""

    def __init__(self, plan: Plan, subject: Subject, config: SimConfig, seed: int):
        self.plan = plan
        self.subject = subject
        self.config = config
        self.seed = int(seed)
        self.accel_rate = float(config.accel_rate_hz)
        self.emg_rate = float(config.emg_rate_hz)
        self.k_emg = plan.emg_channels
        self.n_accel = int(round(plan.duration_s * self.accel_rate))
        self.n_emg = int(round(plan.duration_s * self.emg_rate)) if self.k_emg else 0
        # tiles no longer than the recording (a short recording is one tile)
        self.tile_accel = max(16, min(int(round(config.tile_s * self.accel_rate)), self.n_accel))
        self.tile_emg = max(16, min(int(round(config.tile_s * self.emg_rate)), self.n_emg))
        sizes = {_STREAM_ACCEL: (self.n_accel, self.tile_accel), _STREAM_EMG: (self.n_emg, self.tile_emg)}
        self._noise_banks = NoiseBanks(self.seed, sizes, design_carriers(self.emg_rate) if self.k_emg else None,
                                       self.emg_rate)
        self._noise = self._noise_banks.noise
        if self.k_emg:
            j = np.arange(self.tile_emg) / self.emg_rate
            w = 2 * np.pi * float(config.mains_hz)
            self._mains_tab = np.stack([np.sin(w * j), np.cos(w * j), np.sin(3 * w * j), np.cos(3 * w * j)])

    # ------------------------------------------------------------------ tiles
    def n_tiles(self, stream: str) -> int:
        n, L = (self.n_accel, self.tile_accel) if stream == "accel" else (self.n_emg, self.tile_emg)
        return (n + L - 1) // L

    def tile(self, stream: str, k: int) -> np.ndarray:
        if stream == "accel":
            i0 = k * self.tile_accel
            return self.accel(i0, min(i0 + self.tile_accel, self.n_accel), k)
        i0 = k * self.tile_emg
        return self.emg(i0, min(i0 + self.tile_emg, self.n_emg), k)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _events(table_sel: dict, rate: float, i0: int, n: int, dur: np.ndarray):
        """(event index, sample offset in tile) for events of duration dur starting at onset."""
        start = np.clip(np.ceil(table_sel["onset"] * rate - 1e-9).astype(np.int64) - i0, 0, n)
        stop = np.clip(np.ceil((table_sel["onset"] + dur) * rate - 1e-9).astype(np.int64) - i0, 0, n)
        return shapes.ragged_indices(start, stop)

    def _angles(self, te: np.ndarray, i0e: int) -> tuple[np.ndarray, np.ndarray]:
        """Pitch and roll (rad) at times te (absolute sample indices from i0e)."""
        rate = self.accel_rate
        n = len(te)
        # postural micro-movement: cosine interpolation between knots (C1, so no spikes in the
        # second derivative that becomes tangential acceleration)
        sw = self.plan.sway
        ki = te / self.plan.sway_step_s
        i = np.minimum(ki.astype(np.int64), len(sw) - 2)
        w = 0.5 * (1.0 - np.cos(np.pi * (ki - i)))
        ang = (sw[i] + (sw[i + 1] - sw[i]) * w[:, None]).T.copy()
        sel = self.plan.angles.select(te[0], te[-1])
        if sel:
            ev, j = self._events(sel, rate, i0e, n, sel["dur"])
            u = (te[j] - sel["onset"][ev]) / sel["dur"][ev]
            val = sel["amp"][ev] * shapes.trapezoid(u, sel["rise"][ev])
            axis = sel["axis"][ev].astype(np.int64)
            ang += np.bincount(axis * n + j, weights=val, minlength=2 * n).reshape(2, n)
        for o in self._active(self.plan.osc_t0, self.plan.osc_t1, self.plan.oscillators, te):
            m, phase, amp = self._osc(o, te)
            gain = max(float(shapes.antialias_gain(o.f0_hz, rate)), o.alias_leak)
            ang[0, m] += gain * o.pitch_rad * amp * np.sin(phase)
            ang[1, m] += gain * o.roll_rad * amp * np.sin(phase + 0.7)
        for g in self._active(self.plan.gait_t0, self.plan.gait_t1, self.plan.gaits, te):
            m, p, w = self._stride_phase(g, te)
            if g.kind == "armswing":
                ang[0, m] += g.pitch_scale * w * np.sin(2 * np.pi * p)
            else:
                ang[0, m] += g.pitch_scale * w * shapes.eval_template(_FOOT_PITCH, p)
        return ang[0], ang[1]

    @staticmethod
    def _active(t0s, t1s, items, t):
        if len(items) == 0:
            return []
        idx = np.nonzero((t0s < t[-1] + 1e-9) & (t1s > t[0]))[0]
        return [items[i] for i in idx]

    @staticmethod
    def _osc(o, t):
        m = (t >= o.t0) & (t < o.t1)
        tt = t[m]
        if len(tt) > 4000:
            # the deviation is smooth (knots 1 s apart): evaluate it every 5 ms and interpolate
            # (error < 1e-5 rad), the spline itself costs ~50x more per point
            coarse = np.linspace(tt[0], tt[-1], int((tt[-1] - tt[0]) / 0.005) + 2)
            dev = np.interp(tt, coarse, o.phase_dev(coarse))
        else:
            dev = o.phase_dev(tt)
        phase = 2 * np.pi * o.f0_hz * (tt - o.t0) + dev
        ramp = np.clip((tt - o.t0) / o.ramp_s, 0, 1) * np.clip((o.t1 - tt) / o.ramp_s, 0, 1)
        amp = np.interp(tt, o.knot_t, o.knot_amp) * ramp
        return m, phase, amp

    @staticmethod
    def _stride_phase(g, t):
        end = g.strike_s[-1] + g.period_s[-1]
        m = (t >= g.strike_s[0]) & (t < end)
        tt = t[m]
        k = np.searchsorted(g.strike_s, tt, side="right") - 1
        p = np.clip((tt - g.strike_s[k]) / g.period_s[k], 0.0, 1.0)
        w = np.clip((tt - g.strike_s[0]) / g.period_s[0], 0, 1) * np.clip((end - tt) / g.period_s[-1], 0, 1)
        return m, p, w

    # ------------------------------------------------------------------ accel
    def accel(self, i0: int, i1: int, k: int) -> np.ndarray:
        """Accelerometer counts for samples [i0, i1) of tile k: int16 (i1 - i0, 3)."""
        rate = self.accel_rate
        n = i1 - i0
        plan, s = self.plan, self.subject
        te = (i0 - 1 + np.arange(n + 2)) / rate  # one extra sample each side for derivatives
        t = te[1:-1]
        pitch_e, roll_e = self._angles(te, i0 - 1)
        h = 1.0 / rate
        dth = (pitch_e[2:] - pitch_e[:-2]) / (2 * h)
        ddth = (pitch_e[2:] - 2 * pitch_e[1:-1] + pitch_e[:-2]) / (h * h)
        pitch, roll = pitch_e[1:-1], roll_e[1:-1]
        # gravity from posture knots, rotated by the movement angles
        p0 = max(int(np.searchsorted(plan.posture_t, t[0])) - 1, 0)
        p1 = int(np.searchsorted(plan.posture_t, t[-1])) + 1
        pt, pv = plan.posture_t[p0:p1], plan.posture_v[p0:p1]
        gv = np.stack([np.interp(t, pt, pv[:, a]) for a in range(3)])
        gv /= np.linalg.norm(gv, axis=0, keepdims=True)
        gx, gy, gz = _rotate(gv[0], gv[1], gv[2], pitch, roll)
        lin = np.zeros((3, n))
        # tangential and centripetal acceleration of the sensor on its lever, g
        lin[2] += s.lever_m * ddth / G
        lin[0] -= s.lever_m * dth * dth / G
        sel = plan.lin.select(t[0], t[-1], pad_s=3.0 / rate)
        if sel:
            dur = np.maximum(sel["dur"], 3.0 / rate)
            ev, j = self._events(sel, rate, i0, n, dur)
            u = (t[j] - sel["onset"][ev]) / dur[ev]
            w = shapes.one_cycle(u) * (sel["dur"][ev] / dur[ev])
            for a, c in enumerate(("ax", "ay", "az")):
                lin[a] += np.bincount(j, weights=sel[c][ev] * w, minlength=n)
        sel = plan.impacts.select(t[0], t[-1], pad_s=8.0 / rate)
        if sel:
            freq = np.minimum(sel["freq"], 0.3 * rate)
            decay = np.maximum(sel["decay"], 1.0 / rate)
            dur = np.maximum(sel["dur"], 8.0 * decay)
            ev, j = self._events(sel, rate, i0, n, dur)
            w = shapes.damped_sine(t[j] - sel["onset"][ev], freq[ev], decay[ev]) * (freq[ev] / sel["freq"][ev])
            for a, c in enumerate(("ax", "ay", "az")):
                lin[a] += np.bincount(j, weights=sel[c][ev] * w, minlength=n)
        for o in self._active(plan.osc_t0, plan.osc_t1, plan.oscillators, t):
            m, phase, amp = self._osc(o, t)
            gain = max(float(shapes.antialias_gain(o.f0_hz, rate)), o.alias_leak)
            for a in range(3):
                if o.lin_g[a]:
                    lin[a, m] += gain * o.lin_g[a] * amp * np.sin(phase + 1.1 * a)
        for g in self._active(plan.gait_t0, plan.gait_t1, plan.gaits, t):
            m, p, w = self._stride_phase(g, t)
            if g.kind == "armswing":
                lin[0, m] += g.lin_g[0] * w * np.cos(2 * np.pi * p)
                lin[2, m] += g.lin_g[1] * w * np.sin(4 * np.pi * p)
            else:
                sw = (p - 0.6) / 0.4
                lin[0, m] += g.lin_g[0] * w * shapes.one_cycle(sw)
                lin[2, m] += g.lin_g[1] * w * shapes.one_cycle(2 * sw) * (sw <= 0.5)
        x, y, z = gx + lin[0], gy + lin[1], gz + lin[2]
        x, y, z = _rotate(x, y, z, s.mount_pitch_rad, s.mount_roll_rad)
        sigma = s.accel_noise_ug_rthz * 1e-6 * np.sqrt(rate / 2.0)
        bias = s.accel_bias_g
        out = np.empty((n, 3))
        for a, v in enumerate((x, y, z)):
            out[:, a] = v + bias[a] + sigma * self._noise(_STREAM_ACCEL, k, a, n)
        return _quantize(out, self.config.accel_scale_g)

    # ------------------------------------------------------------------ EMG
    def emg(self, i0: int, i1: int, k: int) -> np.ndarray:
        """EMG counts for samples [i0, i1) of tile k: int16 (i1 - i0, channels)."""
        rate = self.emg_rate
        n = i1 - i0
        kch = self.k_emg
        plan, s = self.plan, self.subject
        t = (i0 + np.arange(n)) / rate
        x = self._emg_bursts(t, i0, k)
        self._add_emg_transients(x, t, i0)
        self._add_emg_wander_and_hum(x, t, i0)
        x = x[:kch]
        if self._contact_changes(t) or (len(plan.contact_t) and np.interp(t[0], plan.contact_t, plan.contact_v) < 1.0):
            x = x * np.interp(t, plan.contact_t, plan.contact_v)
        sigma = s.emg_noise_uv_rthz * np.sqrt(rate / 2.0)
        out = np.empty((n, kch))
        for ch in range(kch):
            out[:, ch] = x[ch] + sigma * self._noise(_STREAM_EMG, k, ch, n)
        return _quantize(out, self.config.emg_scale_uv)

    def _emg_bursts(self, t: np.ndarray, i0: int, k: int) -> np.ndarray:
        """Muscle activity of the tile, (2, n) uV: envelopes (activity bursts and oscillators'
        contractions) times their bands' carrier noise, with crosstalk between the channels."""
        n, kch, rate, plan = len(t), self.k_emg, self.emg_rate, self.plan
        sel = plan.env.select(t[0], t[-1])
        oscs = [o for o in self._active(plan.osc_t0, plan.osc_t1, plan.oscillators, t) if any(o.emg_uv)]
        x = np.zeros((2, n))
        if not (sel or oscs):
            return x
        env = np.zeros((N_BANDS, 2, n))
        if sel:
            ev, j = self._events(sel, rate, i0, n, sel["dur"])
            u = (t[j] - sel["onset"][ev]) / sel["dur"][ev]
            w = shapes.trapezoid(u, sel["rise"][ev])
            band = sel["band"][ev].astype(np.int64)
            for ch, c in enumerate(("a0", "a1")):
                env[:, ch] += np.bincount(band * n + j, weights=sel[c][ev] * w, minlength=N_BANDS * n).reshape(N_BANDS, n)
        for o in oscs:
            m, phase, amp = self._osc(o, t)
            up = 0.5 * (1 + np.sin(phase))
            down = up if o.emg_pattern == "synchronous" else 1.0 - up
            env[o.emg_band, 0, m] += o.emg_uv[0] * amp * _ipow(up, o.emg_sharpness)
            env[o.emg_band, 1, m] += o.emg_uv[1] * amp * _ipow(down, o.emg_sharpness)
        for b in range(N_BANDS):
            for ch in range(kch):
                if env[b, ch].any():
                    x[ch] += env[b, ch] * self._noise(_STREAM_EMG, k, ch, n, band=b)
        if kch == 2:
            c = self.subject.crosstalk
            x = np.stack([x[0] + c * x[1], x[1] + c * x[0]])
        return x

    def _add_emg_transients(self, x: np.ndarray, t: np.ndarray, i0: int) -> None:
        """Add motor unit potentials (fasciculations), movement pulses and electrode pops to
        ``x`` (2, n) uV, in place."""
        n, kch, rate, plan = len(t), self.k_emg, self.emg_rate, self.plan
        sel = plan.muaps.select(t[0], t[-1], pad_s=4.0 / rate)
        if sel:
            dur = np.maximum(sel["dur"], 4.0 / rate)
            ev, j = self._events(sel, rate, i0, n, dur)
            u = (t[j] - sel["onset"][ev]) / dur[ev]
            p = np.stack([sel["p0"][ev], sel["p1"][ev], sel["p2"][ev], sel["p3"][ev]], axis=1)
            w = shapes.muap(u, sel["kind"][ev].astype(np.int64), p)
            for ch, c in enumerate(("a0", "a1")[:kch]):
                x[ch] += np.bincount(j, weights=sel[c][ev] * w, minlength=n)
        sel = plan.emg_pulses.select(t[0], t[-1])
        if sel:
            ev, j = self._events(sel, rate, i0, n, sel["dur"])
            xx = ((t[j] - sel["onset"][ev]) / sel["dur"][ev] - 0.5) * 6.0
            w = -xx * np.exp(-0.5 * xx * xx) / 0.6065
            for ch, c in enumerate(("a0", "a1")[:kch]):
                x[ch] += np.bincount(j, weights=sel[c][ev] * w, minlength=n)
        sel = plan.pops.select(t[0], t[-1])
        if sel:
            ev, j = self._events(sel, rate, i0, n, sel["dur"])
            w = np.exp(-(t[j] - sel["onset"][ev]) / sel["decay"][ev])
            for ch, c in enumerate(("a0", "a1")[:kch]):
                x[ch] += np.bincount(j, weights=sel[c][ev] * w, minlength=n)

    def _add_emg_wander_and_hum(self, x: np.ndarray, t: np.ndarray, i0: int) -> None:
        """Add the baseline wander and the mains hum to ``x`` (2, n) uV, in place."""
        n, kch, rate, plan, s = len(t), self.k_emg, self.emg_rate, self.plan, self.subject
        # wander: the knots are linear in time, so interpolate on the knot index
        ki = t / plan.wander_step_s
        w0 = int(ki[0])
        w1 = min(int(ki[-1]) + 2, plan.wander.shape[0])
        kx = np.arange(w0, w1, dtype=float)
        # mains: sin(w t + phi) = sin(w t0) cos(w j) + cos(w t0) sin(w j), from tables of j
        ph = 2 * np.pi * float(self.config.mains_hz) * (i0 / rate)
        # hum_ch = sin(ph + 0.4 ch + w j) + 0.15 sin(3 ph + 1 + 3 w j), from the sin/cos tables of
        # w j by angle addition: one small matrix product for all channels
        coef = np.array(
            [
                [np.cos(ph + 0.4 * ch), np.sin(ph + 0.4 * ch), 0.15 * np.cos(3 * ph + 1.0), 0.15 * np.sin(3 * ph + 1.0)]
                for ch in range(kch)
            ]
        ) * np.asarray(s.mains_uv[:kch])[:, None]
        hum = coef @ self._mains_tab[:, :n]
        # slow level change of the hum (period 37 s, assumed), linear within the tile
        m0, m1 = 1.0 + 0.2 * np.sin(2 * np.pi * np.array([t[0], t[-1]]) / 37.0)
        hum *= np.linspace(m0, m1, n)
        for ch in range(kch):
            x[ch] += np.interp(ki, kx, plan.wander[w0:w1, ch])
            x[ch] += hum[ch]

    def _contact_changes(self, t: np.ndarray) -> bool:
        ct = self.plan.contact_t
        if not len(ct):
            return False
        i0, i1 = np.searchsorted(ct, [t[0], t[-1]])
        return bool(i1 > i0)
