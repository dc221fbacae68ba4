// twitchwatch charts: a small canvas renderer for scrolling min/max traces and static plots.
// No dependencies. Data arrives already decimated by the server (min/max per bucket), so a frame
// draws at most a few thousand points per trace.
"use strict";

const TW = (window.TW = window.TW || {});
TW.frames = 0; // requestAnimationFrame counter (the bench reads it)

function setupCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h };
}

function niceTicks(lo, hi, n) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.abs(v) < 1e-12 ? 0 : v);
  return out;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

// A growable ring of (t, min, max) buckets for one series.
class Ring {
  constructor(capacity) {
    this.cap = capacity;
    this.t = new Float64Array(capacity);
    this.lo = new Float32Array(capacity);
    this.hi = new Float32Array(capacity);
    this.start = 0;
    this.n = 0;
  }
  push(t, lo, hi) {
    const i = (this.start + this.n) % this.cap;
    this.t[i] = t;
    this.lo[i] = lo;
    this.hi[i] = hi;
    if (this.n < this.cap) this.n++;
    else this.start = (this.start + 1) % this.cap;
  }
  get(k) {
    const i = (this.start + k) % this.cap;
    return i;
  }
  last() {
    return this.n ? this.t[(this.start + this.n - 1) % this.cap] : -Infinity;
  }
  clear() {
    this.start = 0;
    this.n = 0;
  }
}

// Scrolling chart: series of min/max buckets against device time, right edge follows the clock.
class LiveChart {
  constructor(canvas, opts) {
    this.canvas = canvas;
    this.windowS = opts.windowS || 10;
    this.unit = opts.unit || "";
    this.title = opts.title || "";
    this.series = (opts.series || []).map((s) => ({ ...s, ring: new Ring(s.capacity || 4096), visible: true }));
    this.markers = new Ring(2048); // event ticks (t, amplitude)
    this.alerts = []; // [t_s]
    this.tLatest = null; // device time of the newest sample received
    this.perfAtLatest = 0;
    this.lagS = 0.25; // draw slightly behind "now" so batches arrive before they are due
    this.yLo = 0;
    this.yHi = 1;
    this.stale = false;
    this.note = "";
  }
  addSegment(name, t0, dt, lo, hi) {
    const s = this.series.find((x) => x.name === name);
    if (!s) return;
    const last = s.ring.last();
    for (let k = 0; k < hi.length; k++) {
      const t = t0 + k * dt;
      if (t <= last) continue; // duplicate after a reconnect
      s.ring.push(t, lo[k], hi[k]);
    }
    s.dt = dt;
    this.touch(t0 + hi.length * dt);
  }
  touch(tEnd) {
    if (this.tLatest === null || tEnd > this.tLatest) {
      const now = performance.now();
      // Keep the scroll smooth: only re-anchor when the clock estimate drifted by > 0.3 s.
      const est = this.tLatest === null ? null : this.tLatest + (now - this.perfAtLatest) / 1000;
      if (est === null || Math.abs(est - tEnd) > 0.3 || tEnd > est) {
        this.tLatest = tEnd;
        this.perfAtLatest = now;
      }
    }
  }
  addMarker(t, amp) {
    this.markers.push(t, amp, amp);
  }
  clear() {
    for (const s of this.series) s.ring.clear();
    this.markers.clear();
    this.alerts = [];
    this.tLatest = null;
  }
  rightEdge(now) {
    if (this.tLatest === null) return null;
    return this.tLatest + (now - this.perfAtLatest) / 1000 - this.lagS;
  }
  draw(now) {
    const { ctx, w, h } = setupCanvas(this.canvas);
    const padL = 48, padR = 8, padT = 16, padB = 18;
    const pw = w - padL - padR, ph = h - padT - padB;
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#333";
    ctx.fillText(this.title + (this.unit ? " (" + this.unit + ")" : ""), padL, 11);
    const tR = this.rightEdge(now);
    if (tR === null) {
      ctx.fillStyle = "#777";
      ctx.fillText(this.note || "waiting for data", padL + 8, padT + ph / 2);
      return;
    }
    const tL = tR - this.windowS;
    // y range over what is visible (expand at once, shrink gently).
    let lo = Infinity, hi = -Infinity;
    for (const s of this.series) {
      if (!s.visible) continue;
      const r = s.ring;
      for (let k = r.n - 1; k >= 0; k--) {
        const i = r.get(k);
        if (r.t[i] < tL) break;
        if (r.t[i] > tR) continue;
        if (r.lo[i] < lo) lo = r.lo[i];
        if (r.hi[i] > hi) hi = r.hi[i];
      }
    }
    if (lo <= hi) {
      const m = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
      lo -= m;
      hi += m;
      this.yLo = lo < this.yLo ? lo : this.yLo + (lo - this.yLo) * 0.05;
      this.yHi = hi > this.yHi ? hi : this.yHi + (hi - this.yHi) * 0.05;
    }
    const yLo = this.yLo, yHi = this.yHi;
    const X = (t) => padL + ((t - tL) / this.windowS) * pw;
    const Y = (v) => padT + ph - ((v - yLo) / (yHi - yLo || 1)) * ph;
    // grid
    ctx.strokeStyle = "#e4e4e4";
    ctx.lineWidth = 1;
    ctx.fillStyle = "#666";
    ctx.beginPath();
    for (const v of niceTicks(yLo, yHi, 4)) {
      const y = Math.round(Y(v)) + 0.5;
      ctx.moveTo(padL, y);
      ctx.lineTo(padL + pw, y);
      ctx.fillText(fmt(v), 4, y + 3);
    }
    const tStep = this.windowS > 20 ? 5 : this.windowS > 5 ? 1 : 0.5;
    for (let t = Math.ceil(tL / tStep) * tStep; t <= tR; t += tStep) {
      const x = Math.round(X(t)) + 0.5;
      ctx.moveTo(x, padT);
      ctx.lineTo(x, padT + ph);
      if (Math.abs(t / (tStep * 2) - Math.round(t / (tStep * 2))) < 1e-6) ctx.fillText(t.toFixed(tStep < 1 ? 1 : 0) + " s", x + 2, h - 4);
    }
    ctx.stroke();
    ctx.save();
    ctx.beginPath();
    ctx.rect(padL, padT, pw, ph);
    ctx.clip();
    for (const s of this.series) {
      if (!s.visible) continue;
      this.drawSeries(ctx, s, tL, tR, X, Y);
    }
    // event ticks at the bottom
    const m = this.markers;
    ctx.strokeStyle = "#2a7a2a";
    ctx.beginPath();
    for (let k = m.n - 1; k >= 0; k--) {
      const i = m.get(k);
      if (m.t[i] < tL) break;
      const x = Math.round(X(m.t[i])) + 0.5;
      ctx.moveTo(x, padT + ph);
      ctx.lineTo(x, padT + ph - 8);
    }
    ctx.stroke();
    ctx.strokeStyle = "#c0392b";
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (const t of this.alerts) {
      if (t < tL || t > tR) continue;
      const x = X(t);
      ctx.moveTo(x, padT);
      ctx.lineTo(x, padT + ph);
    }
    ctx.stroke();
    ctx.restore();
    if (this.stale) {
      ctx.fillStyle = "rgba(255,255,255,0.6)";
      ctx.fillRect(padL, padT, pw, ph);
      ctx.fillStyle = "#a33";
      ctx.font = "bold 13px system-ui, sans-serif";
      ctx.fillText(this.note || "no data", padL + 10, padT + 20);
    }
  }
  drawSeries(ctx, s, tL, tR, X, Y) {
    const r = s.ring;
    if (!r.n) return;
    // first visible index
    let k0 = r.n - 1;
    while (k0 > 0 && r.t[r.get(k0 - 1)] >= tL - (s.dt || 0)) k0--;
    const gap = (s.dt || 0.02) * 3;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.fill || s.color;
    ctx.lineWidth = s.width || 1;
    if (s.style === "line") {
      ctx.beginPath();
      let prev = -Infinity;
      for (let k = k0; k < r.n; k++) {
        const i = r.get(k);
        const t = r.t[i];
        if (t > tR) break;
        const x = X(t), y = Y((r.lo[i] + r.hi[i]) / 2);
        if (t - prev > gap) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
        prev = t;
      }
      ctx.stroke();
      return;
    }
    // min/max band: one vertical stroke per bucket, merged per pixel column
    ctx.beginPath();
    let colX = -1, colLo = 0, colHi = 0, prevT = -Infinity, prevMid = null;
    const flush = () => {
      if (colX < 0) return;
      const yTop = Y(colHi), yBot = Y(colLo);
      ctx.moveTo(colX + 0.5, yTop);
      ctx.lineTo(colX + 0.5, Math.max(yBot, yTop + 1));
    };
    for (let k = k0; k < r.n; k++) {
      const i = r.get(k);
      const t = r.t[i];
      if (t > tR) break;
      const px = Math.round(X(t));
      if (t - prevT > gap) {
        flush();
        colX = -1;
      }
      if (px !== colX) {
        flush();
        // connect neighbouring columns so a slow signal reads as a line
        if (colX >= 0 && prevMid !== null) {
          ctx.moveTo(colX + 0.5, prevMid);
          ctx.lineTo(px + 0.5, Y((r.lo[i] + r.hi[i]) / 2));
        }
        colX = px;
        colLo = r.lo[i];
        colHi = r.hi[i];
      } else {
        if (r.lo[i] < colLo) colLo = r.lo[i];
        if (r.hi[i] > colHi) colHi = r.hi[i];
      }
      prevMid = Y((colLo + colHi) / 2);
      prevT = t;
    }
    flush();
    ctx.stroke();
  }
}

// Static plot of one or more min/max traces (review view). traces: [{t0, dt, min, max, color, label}]
function plotTraces(canvas, traces, opts) {
  opts = opts || {};
  const { ctx, w, h } = setupCanvas(canvas);
  const padL = 52, padR = 8, padT = 16, padB = 18;
  const pw = w - padL - padR, ph = h - padT - padB;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#333";
  ctx.fillText(opts.title || "", padL, 11);
  let tL = Infinity, tR = -Infinity, lo = Infinity, hi = -Infinity;
  for (const tr of traces) {
    if (!tr || !tr.max || !tr.max.length) continue;
    tL = Math.min(tL, tr.t0);
    tR = Math.max(tR, tr.t0 + tr.dt * tr.max.length);
    for (let k = 0; k < tr.max.length; k++) {
      if (tr.min[k] < lo) lo = tr.min[k];
      if (tr.max[k] > hi) hi = tr.max[k];
    }
  }
  if (opts.xRange) [tL, tR] = opts.xRange;
  if (!(tR > tL) || !(hi >= lo)) {
    ctx.fillStyle = "#777";
    ctx.fillText("no data", padL + 8, padT + ph / 2);
    return;
  }
  const m = (hi - lo) * 0.06 || 1;
  lo -= m;
  hi += m;
  const X = (t) => padL + ((t - tL) / (tR - tL)) * pw;
  const Y = (v) => padT + ph - ((v - lo) / (hi - lo)) * ph;
  ctx.strokeStyle = "#e4e4e4";
  ctx.fillStyle = "#666";
  ctx.beginPath();
  for (const v of niceTicks(lo, hi, 4)) {
    const y = Math.round(Y(v)) + 0.5;
    ctx.moveTo(padL, y);
    ctx.lineTo(padL + pw, y);
    ctx.fillText(fmt(v), 4, y + 3);
  }
  for (const t of niceTicks(tL, tR, 8)) {
    const x = Math.round(X(t)) + 0.5;
    ctx.moveTo(x, padT);
    ctx.lineTo(x, padT + ph);
    ctx.fillText(fmt(t) + (opts.xUnit || " s"), x + 2, h - 4);
  }
  ctx.stroke();
  for (const span of opts.spans || []) {
    ctx.fillStyle = span.color || "rgba(192,57,43,0.10)";
    ctx.fillRect(X(span.from), padT, X(span.to) - X(span.from), ph);
  }
  for (const tr of traces) {
    if (!tr || !tr.max) continue;
    ctx.strokeStyle = tr.color || "#1f5fa8";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let k = 0; k < tr.max.length; k++) {
      const x = Math.round(X(tr.t0 + k * tr.dt)) + 0.5;
      const y1 = Y(tr.max[k]), y0 = Y(tr.min[k]);
      if (k === 0) ctx.moveTo(x, y1);
      else ctx.lineTo(x, y1);
      ctx.lineTo(x, Math.max(y0, y1 + 1));
    }
    ctx.stroke();
  }
  for (const mk of opts.markers || []) {
    const x = X(mk.t);
    ctx.strokeStyle = mk.color || "#c0392b";
    ctx.beginPath();
    ctx.moveTo(x, padT);
    ctx.lineTo(x, padT + ph);
    ctx.stroke();
    if (mk.label) {
      ctx.fillStyle = mk.color || "#c0392b";
      ctx.fillText(mk.label, x + 3, padT + 10);
    }
  }
}

// Bar chart. bars: [{label, value, stack: [{value, color}]}]
function plotBars(canvas, bars, opts) {
  opts = opts || {};
  const { ctx, w, h } = setupCanvas(canvas);
  const padL = 44, padR = 8, padT = 16, padB = 20;
  const pw = w - padL - padR, ph = h - padT - padB;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#333";
  ctx.fillText(opts.title || "", padL, 11);
  if (!bars.length) {
    ctx.fillStyle = "#777";
    ctx.fillText("no data in this period", padL + 8, padT + ph / 2);
    return;
  }
  let vmax = 0;
  for (const b of bars) vmax = Math.max(vmax, b.stack ? b.stack.reduce((a, s) => a + s.value, 0) : b.value);
  vmax = vmax || 1;
  const bw = pw / bars.length;
  const Y = (v) => padT + ph - (v / vmax) * ph;
  ctx.strokeStyle = "#e4e4e4";
  ctx.fillStyle = "#666";
  ctx.beginPath();
  for (const v of niceTicks(0, vmax, 4)) {
    const y = Math.round(Y(v)) + 0.5;
    ctx.moveTo(padL, y);
    ctx.lineTo(padL + pw, y);
    ctx.fillText(fmt(v), 4, y + 3);
  }
  ctx.stroke();
  const every = Math.max(1, Math.ceil(bars.length / Math.max(1, Math.floor(pw / 60))));
  bars.forEach((b, i) => {
    const x = padL + i * bw;
    const stack = b.stack || [{ value: b.value, color: b.color || opts.color || "#1f5fa8" }];
    let base = 0;
    for (const s of stack) {
      if (s.value > 0) {
        ctx.fillStyle = s.color;
        ctx.fillRect(x + (bw > 3 ? 1 : 0), Y(base + s.value), Math.max(bw - (bw > 3 ? 2 : 0), 0.7), Y(base) - Y(base + s.value));
      }
      base += s.value;
    }
    if (b.muted) {
      ctx.fillStyle = "rgba(0,0,0,0.06)";
      ctx.fillRect(x, padT, bw, ph);
    }
    if (i % every === 0) {
      ctx.fillStyle = "#666";
      ctx.fillText(b.label, x + 1, h - 5);
    }
  });
}

// Spectrum line plot: f (Hz), p (power), with a marker at the dominant frequency.
function plotSpectrum(canvas, spec, opts) {
  opts = opts || {};
  const { ctx, w, h } = setupCanvas(canvas);
  const padL = 44, padR = 8, padT = 16, padB = 18;
  const pw = w - padL - padR, ph = h - padT - padB;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#333";
  ctx.fillText(opts.title || "spectrum", padL, 11);
  if (!spec || !spec.f || spec.f.length < 2) {
    ctx.fillStyle = "#777";
    ctx.fillText("too short for a spectrum", padL + 8, padT + ph / 2);
    return;
  }
  const fMax = spec.f[spec.f.length - 1];
  const pMax = Math.max(...spec.p) || 1;
  const X = (f) => padL + (f / fMax) * pw;
  const Y = (p) => padT + ph - (p / pMax) * ph;
  ctx.strokeStyle = "#e4e4e4";
  ctx.fillStyle = "#666";
  ctx.beginPath();
  for (const f of niceTicks(0, fMax, 6)) {
    const x = Math.round(X(f)) + 0.5;
    ctx.moveTo(x, padT);
    ctx.lineTo(x, padT + ph);
    ctx.fillText(fmt(f) + " Hz", x + 2, h - 4);
  }
  ctx.stroke();
  ctx.strokeStyle = opts.color || "#1f5fa8";
  ctx.beginPath();
  spec.f.forEach((f, k) => (k ? ctx.lineTo(X(f), Y(spec.p[k])) : ctx.moveTo(X(f), Y(spec.p[k]))));
  ctx.stroke();
  for (const mk of [
    spec.dominant_hz != null ? { f: spec.dominant_hz, label: "peak " + spec.dominant_hz.toFixed(2) + " Hz", color: "#c0392b" } : null,
    opts.detectorHz != null ? { f: opts.detectorHz, label: "detector " + opts.detectorHz.toFixed(2) + " Hz", color: "#2a7a2a" } : null,
  ]) {
    if (!mk || mk.f > fMax) continue;
    ctx.strokeStyle = mk.color;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(X(mk.f), padT);
    ctx.lineTo(X(mk.f), padT + ph);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = mk.color;
    ctx.fillText(mk.label, Math.min(X(mk.f) + 3, w - 110), padT + (mk.color === "#c0392b" ? 12 : 26));
  }
}

// Session timeline: lanes of events, episodes, faults, marks, alerts. Returns hit boxes for alerts.
function plotTimeline(canvas, tl, opts) {
  opts = opts || {};
  const { ctx, w, h } = setupCanvas(canvas);
  const padL = 78, padR = 10, padT = 8, padB = 20;
  const pw = w - padL - padR;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  const s = tl.session;
  const t0 = s.device_t0_s;
  let tEnd = t0 + (s.duration_s || 0);
  for (const arr of [tl.events.map((e) => e.t_s), tl.episodes.map((e) => e.end_s), tl.faults.map((f) => f.end_s), tl.marks.map((m) => m.t_s), tl.alerts.map((a) => a.t_s)])
    for (const t of arr) if (t > tEnd) tEnd = t;
  if (!(tEnd > t0)) tEnd = t0 + 60;
  const X = (t) => padL + ((t - t0) / (tEnd - t0)) * pw;
  const lanes = ["events", "episodes", "faults", "marks", "alerts"];
  const laneH = (h - padT - padB) / lanes.length;
  const laneY = (i) => padT + i * laneH;
  lanes.forEach((name, i) => {
    ctx.fillStyle = i % 2 ? "#fafafa" : "#f1f1f1";
    ctx.fillRect(padL, laneY(i), pw, laneH);
    ctx.fillStyle = "#333";
    ctx.fillText(name, 6, laneY(i) + laneH / 2 + 4);
  });
  // events: ticks, height by amplitude (log)
  ctx.strokeStyle = "#2a7a2a";
  ctx.beginPath();
  for (const e of tl.events) {
    const x = Math.round(X(e.t_s)) + 0.5;
    const y0 = laneY(0) + laneH - 2;
    ctx.moveTo(x, y0);
    ctx.lineTo(x, y0 - (e.kind === "twitch" ? laneH * 0.45 : laneH * 0.85));
  }
  ctx.stroke();
  const colors = { rhythmic_jerking: "#c0392b", tremor: "#8e44ad", fasciculation: "#2a7a2a", voluntary_movement: "#7f8c8d", quiet: "#bbb" };
  for (const ep of tl.episodes) {
    ctx.fillStyle = colors[ep.kind] || "#555";
    ctx.fillRect(X(ep.start_s), laneY(1) + 3, Math.max(2, X(ep.end_s) - X(ep.start_s)), laneH - 6);
  }
  for (const f of tl.faults) {
    ctx.fillStyle = "#e67e22";
    ctx.fillRect(X(f.start_s), laneY(2) + 4, Math.max(2, X(f.end_s) - X(f.start_s)), laneH - 8);
  }
  ctx.fillStyle = "#2c3e50";
  for (const m of tl.marks) {
    const x = X(m.t_s), y = laneY(3) + laneH / 2;
    ctx.beginPath();
    ctx.moveTo(x, y - 6);
    ctx.lineTo(x + 5, y + 5);
    ctx.lineTo(x - 5, y + 5);
    ctx.fill();
  }
  const hits = [];
  for (const a of tl.alerts) {
    const x = X(a.t_s), y = laneY(4) + laneH / 2;
    ctx.fillStyle = a.level === "alarm" ? "#c0392b" : a.level === "warning" ? "#e67e22" : "#7f8c8d";
    ctx.beginPath();
    ctx.moveTo(x, y - 7);
    ctx.lineTo(x + 7, y);
    ctx.lineTo(x, y + 7);
    ctx.lineTo(x - 7, y);
    ctx.fill();
    if (a.label) {
      ctx.strokeStyle = "#000";
      ctx.stroke();
    }
    hits.push({ x0: x - 8, x1: x + 8, y0: y - 8, y1: y + 8, id: a.id });
  }
  // time axis in minutes from the start, with the wall clock at the ends
  ctx.fillStyle = "#666";
  const spanMin = (tEnd - t0) / 60;
  for (const m of niceTicks(0, spanMin, 8)) {
    const x = X(t0 + m * 60);
    ctx.fillRect(x, h - padB, 1, 4);
    ctx.fillText(fmt(m) + " min", x + 2, h - 5);
  }
  return hits;
}

TW.LiveChart = LiveChart;
TW.plotTraces = plotTraces;
TW.plotBars = plotBars;
TW.plotSpectrum = plotSpectrum;
TW.plotTimeline = plotTimeline;
