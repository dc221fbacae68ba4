// twitchwatch dashboard: live view, review, history. Plain JS, no build step, no third-party code.
// All text from the server is inserted with textContent (never innerHTML).
"use strict";

(function () {
  const TW = window.TW;
  const $main = document.getElementById("main");
  const $banners = document.getElementById("banners");
  const $server = document.getElementById("server-status");

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return e;
  }
  async function api(path, opts) {
    opts = opts || {};
    const init = { method: opts.method || "GET", credentials: "same-origin", headers: {} };
    if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers["Content-Type"] = "application/json";
    }
    const r = await fetch(path, init);
    let data = null;
    try {
      data = await r.json();
    } catch (_) {}
    if (!r.ok) {
      const err = new Error((data && data.detail) || r.status + " " + r.statusText);
      err.status = r.status;
      throw err;
    }
    return data;
  }
  const pad2 = (n) => String(n).padStart(2, "0");
  function fmtWall(t, withDate) {
    const d = new Date(t * 1000);
    const hm = pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
    if (!withDate) return hm;
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " + hm;
  }
  function fmtDur(s) {
    if (s === null || s === undefined) return "open";
    if (s < 90) return s.toFixed(0) + " s";
    if (s < 5400) return (s / 60).toFixed(0) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  const words = (s) => String(s || "").replace(/_/g, " ");
  const LABEL_TEXT = { confirmed: "confirmed", false_alarm: "false alarm", unsure: "unsure" };
  const REASON_UNITS = { dominant_hz: "Hz", duration_s: "s", rhythmicity: "", confidence: "", spread: "" };
  function fmtReason(name, v) {
    if (v === null || v === undefined) return "n/a";
    const unit = REASON_UNITS[name] !== undefined ? REASON_UNITS[name] : name.endsWith("_hz") ? "Hz" : name.endsWith("_s") ? "s" : "";
    return (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) + (unit ? " " + unit : "");
  }
  const REASON_NAMES = { dominant_hz: "dominant frequency", duration_s: "duration", rhythmicity: "rhythmicity", probability: "classifier probability", confidence: "confidence" };
  const reasonName = (k) => REASON_NAMES[k] || words(k);
  function reasonSummary(reasons) {
    return (reasons || []).map(([k, v]) => reasonName(k) + " " + fmtReason(k, v)).join(", ");
  }

  // ------------------------------------------------------------------ sound
  let audio = null;
  function unlockAudio() {
    try {
      if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume().then(renderSound, renderSound);
    } catch (_) {}
    renderSound();
  }
  // Browsers only play sound after the user has interacted with the page: say so, visibly.
  const $sound = document.getElementById("sound-status");
  function renderSound() {
    const on = audio && audio.state === "running";
    if (settings.alert_sound === false) {
      $sound.textContent = "alert sound off (settings)";
      $sound.className = "pill";
    } else {
      $sound.textContent = on ? "alert sound on" : "click here to enable the alert sound";
      $sound.className = "pill " + (on ? "ok" : "warn");
    }
  }
  $sound.addEventListener("click", () => {
    unlockAudio();
    if (audio && audio.state === "running") beep("warning");
  });
  document.addEventListener("click", unlockAudio, { once: false, passive: true });
  document.addEventListener("keydown", unlockAudio, { passive: true });
  function beep(level) {
    if (settings.alert_sound === false) return;
    unlockAudio();
    if (!audio || audio.state !== "running") return;
    const n = level === "alarm" ? 3 : 1;
    for (let i = 0; i < n; i++) {
      const t = audio.currentTime + i * 0.35;
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = level === "alarm" ? 880 : 660;
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
      o.connect(g).connect(audio.destination);
      o.start(t);
      o.stop(t + 0.3);
    }
  }

  // ------------------------------------------------------------------ live connection (global)
  let settings = { alert_sound: true, stale_after_s: 3 };
  const live = {
    ws: null,
    connected: false,
    isLive: false,
    state: null,
    lastTraceAt: 0,
    lastMsgAt: 0,
    retry: 500,
    unacked: new Map(),
    stats: { messages: 0, bytes: 0, since: performance.now() },
    raw: false,
    alertShownAt: {}, // alert key -> Date.now() when its banner was put up (the bench reads it)
  };
  TW.live = live;
  const accelChart = new TW.LiveChart(document.createElement("canvas"), {
    title: "Accelerometer magnitude",
    unit: "g",
    windowS: 10,
    series: [{ name: "accel", color: "#1f5fa8" }],
  });
  const emgChart = new TW.LiveChart(document.createElement("canvas"), {
    title: "EMG (high-passed band and RMS envelope)",
    unit: "\u00b5V",
    windowS: 10,
    series: [
      { name: "emg0", color: "#f0b7a4" },
      { name: "emg1", color: "#b8d4ee" },
      { name: "raw0", color: "#a83a1f", capacity: 16384 },
      { name: "raw1", color: "#1f5fa8", capacity: 16384 },
      { name: "env0", color: "#a83a1f", style: "line", width: 1.5 },
      { name: "env1", color: "#1f5fa8", style: "line", width: 1.5 },
    ],
  });
  TW.charts = { accel: accelChart, emg: emgChart };

  function addTrace(msg) {
    for (const seg of msg.accel || []) accelChart.addSegment("accel", seg.t0, seg.dt, seg.min, seg.max);
    for (const seg of msg.emg || []) {
      seg.max.forEach((_, c) => {
        if (c > 1) return;
        emgChart.addSegment("emg" + c, seg.t0, seg.dt, seg.min[c], seg.max[c]);
        emgChart.addSegment("env" + c, seg.t0, seg.dt, seg.env[c], seg.env[c]);
      });
    }
    for (const seg of msg.raw || []) {
      seg.max.forEach((_, c) => {
        if (c <= 1) emgChart.addSegment("raw" + c, seg.t0, seg.dt, seg.min[c], seg.max[c]);
      });
    }
    for (const [t, amp] of msg.events || []) emgChart.addMarker(t, amp);
  }

  function connectLive() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/ws/live");
    live.ws = ws;
    ws.onopen = () => {
      live.connected = true;
      live.retry = 500;
      if (live.raw) ws.send(JSON.stringify({ type: "view", raw: true }));
      renderServerStatus();
    };
    ws.onmessage = (ev) => {
      live.lastMsgAt = performance.now();
      live.stats.messages++;
      live.stats.bytes += ev.data.length;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (_) {
        return;
      }
      if (msg.type === "hello") {
        live.isLive = msg.live;
        live.state = msg.state;
        settings = Object.assign(settings, msg.settings || {});
        renderSound();
        accelChart.clear();
        emgChart.clear();
        const tr = msg.traces || {};
        addTrace({ accel: tr.accel, emg: tr.emg });
        if ((tr.accel || []).length || (tr.emg || []).length) live.lastTraceAt = performance.now();
        live.unacked.clear();
        for (const a of msg.alerts || []) live.unacked.set(a.key, a);
        renderBanners();
        renderLiveState();
      } else if (msg.type === "trace") {
        live.lastTraceAt = performance.now();
        addTrace(msg);
      } else if (msg.type === "state") {
        live.state = msg;
        renderLiveState();
        renderDurations();
      } else if (msg.type === "alert") {
        live.unacked.set(msg.key, msg);
        accelChart.alerts.push(msg.t_s);
        emgChart.alerts.push(msg.t_s);
        renderBanners();
        live.alertShownAt[msg.key] = Date.now();
        beep(msg.level);
      } else if (msg.type === "ack") {
        live.unacked.delete(msg.key);
        renderBanners();
      }
    };
    ws.onclose = () => {
      live.connected = false;
      live.ws = null;
      renderServerStatus();
      setTimeout(connectLive, live.retry);
      live.retry = Math.min(live.retry * 2, 5000);
    };
    ws.onerror = () => {};
  }

  function renderServerStatus() {
    $server.className = "pill " + (live.connected ? "ok" : "bad");
    $server.textContent = live.connected ? "server connected" : "server connection lost \u2013 reconnecting\u2026";
    renderBanners();
  }

  function ackAlert(key) {
    if (live.ws && live.connected) live.ws.send(JSON.stringify({ type: "ack", key }));
    else api("/api/live/ack", { method: "POST", body: { key } }).catch(() => {});
    live.unacked.delete(key);
    renderBanners();
  }

  async function reviewAlert(a) {
    try {
      const q = new URLSearchParams({ t_s: a.t_s, kind: a.kind });
      if (a.session_id != null) q.set("session", a.session_id);
      const r = await api("/api/alerts/lookup?" + q);
      location.hash = "#/alert/" + r.id;
    } catch (e) {
      location.hash = a.session_id != null ? "#/session/" + a.session_id : "#/review";
    }
  }

  function renderBanners() {
    $banners.textContent = "";
    if (!live.connected) {
      $banners.appendChild(
        el("div", { class: "banner conn", id: "conn-banner" }, el("span", { class: "grow" }, "Lost the connection to the twitchwatch server. Reconnecting\u2026 Alerts cannot reach this page until it is back."))
      );
    }
    for (const a of [...live.unacked.values()].sort((x, y) => y.key - x.key)) {
      const lvl = ["alarm", "warning"].includes(a.level) ? a.level : "fault";
      $banners.appendChild(
        el(
          "div",
          { class: "banner " + lvl, id: "alert-banner-" + a.key, "data-key": a.key, role: "alert" },
          el(
            "span",
            { class: "grow" },
            (a.level || "").toUpperCase() + ": " + words(a.kind) + " at device time " + a.t_s.toFixed(1) + " s (received " + fmtWall(a.received_unix) + ")",
            el("span", { class: "ep-dur", "data-key": a.key }, episodeDuration(a)),
            a.reasons && a.reasons.length ? el("span", { class: "muted-on-banner" }, " \u2013 " + reasonSummary(a.reasons)) : null
          ),
          el("button", { onclick: () => reviewAlert(a) }, "Review"),
          el("button", { class: "ack", onclick: () => ackAlert(a.key) }, "Acknowledge")
        )
      );
    }
  }

  // How long the episode (or lasting fault) behind an alert has lasted: from its start to its end
  // once the detector closed it, else to the latest device time received.
  function episodeDuration(a) {
    const s = live.state || {};
    const end = (s.episode_ends || []).find(([k, st]) => k === a.kind && Math.abs(st - a.episode_start_s) < 1e-3);
    const to = end ? end[2] : s.t_latest_s != null ? Math.max(s.t_latest_s, a.t_s) : a.t_s;
    const d = Math.max(0, to - a.episode_start_s);
    const txt = d >= 60 ? Math.floor(d / 60) + " min " + String(Math.round(d % 60)).padStart(2, "0") + " s" : Math.round(d) + " s";
    return end ? " – lasted " + txt + " (ended)" : " – lasting " + txt + " so far";
  }

  function renderDurations() {
    document.querySelectorAll(".ep-dur").forEach((n) => {
      const a = live.unacked.get(Number(n.dataset.key));
      if (a) n.textContent = episodeDuration(a);
    });
  }

  // ------------------------------------------------------------------ views
  let cleanup = null;
  const views = {};

  function tile(key, value, cls, id) {
    return el("div", { class: "tile " + (cls || ""), id }, el("div", { class: "k" }, key), el("div", { class: "v" }, value));
  }

  function renderLiveState() {
    const box = document.getElementById("live-tiles");
    if (!box) return;
    const s = live.state || {};
    const conn = !live.isLive ? ["not live", "warn"] : s.connection === "connected" ? ["connected", "ok"] : [words(s.connection || "waiting"), "bad"];
    const q = { good: "ok", poor: "warn", lost: "bad" }[s.signal_quality] || "";
    const w = s.window;
    const c = s.counts || {};
    box.textContent = "";
    box.append(
      tile("Sensor", conn[0], conn[1], "tile-connection"),
      tile("Signal", words(s.signal_quality || "unknown"), q, "tile-signal"),
      tile("Battery", s.battery_pct != null ? s.battery_pct + " %" : "\u2013", s.battery_pct != null && s.battery_pct < 15 ? "warn" : "", "tile-battery"),
      tile("Worn", s.worn === "yes" ? "yes" : s.worn === "no" ? "not worn" : "unknown", s.worn === "no" ? "warn" : s.worn === "yes" ? "ok" : "", "tile-worn"),
      tile("Detector sees", w ? words(w.label) : "\u2013", w && w.label === "rhythmic_jerking" ? "bad" : "", "tile-window"),
      tile("This session", (c.twitches || 0) + " twitches \u00b7 " + (c.episodes || 0) + " episodes \u00b7 " + (c.alerts || 0) + " alerts", "", "tile-counts")
    );
    const det = document.getElementById("live-detail");
    if (det) {
      const parts = [];
      if (s.device) parts.push("device " + s.device.device_id + " (" + s.device.placement + ", firmware " + s.device.firmware_version + ") via " + s.device.source);
      if (w) parts.push("latest window " + w.start_s.toFixed(1) + "\u2013" + w.end_s.toFixed(1) + " s: " + words(w.label) + " (confidence " + w.confidence.toFixed(2) + (w.dominant_hz ? ", " + w.dominant_hz.toFixed(1) + " Hz" : "") + ")");
      if (s.connection_detail) parts.push("link: " + s.connection_detail);
      if (s.faults_now && s.faults_now.length) parts.push("faults now: " + s.faults_now.map(words).join(", "));
      if (s.detector_error) parts.push("THE DETECTOR STOPPED (" + s.detector_error + "): no alerts until it is restarted; the recording goes on");
      if (s.dashboard_dropped) parts.push(s.dashboard_dropped + " items skipped by the dashboard (the detector saw them all)");
      det.textContent = parts.join(" \u00b7 ");
    }
  }

  views.live = function () {
    const accelCanvas = el("canvas", { class: "chart", id: "chart-accel" });
    const emgCanvas = el("canvas", { class: "chart tall", id: "chart-emg" });
    accelChart.canvas = accelCanvas;
    emgChart.canvas = emgCanvas;
    const buttons = [];
    const setWindow = (s) => {
      accelChart.windowS = s;
      emgChart.windowS = s;
      live.raw = s <= 2;
      for (const n of ["raw0", "raw1"]) emgChart.series.find((x) => x.name === n).visible = live.raw;
      if (live.ws && live.connected) live.ws.send(JSON.stringify({ type: "view", raw: live.raw }));
      buttons.forEach((b) => b.classList.toggle("on", Number(b.dataset.s) === s));
    };
    for (const [s, label] of [[2, "2 s (raw EMG)"], [10, "10 s"], [30, "30 s"]]) {
      const b = el("button", { "data-s": s, onclick: () => setWindow(s) }, label);
      buttons.push(b);
    }
    $main.append(
      el("h2", {}, "Live"),
      el("div", { class: "tiles", id: "live-tiles" }),
      el("div", { class: "muted", id: "live-detail" }),
      el("div", { class: "toolbar" }, el("span", { class: "muted" }, "Window:"), ...buttons, el("span", { id: "live-stale", class: "muted" })),
      el("div", { class: "card" }, accelCanvas),
      el("div", { class: "card" }, emgCanvas, el("div", { class: "legend muted" }, "Band: high-passed EMG (min/max); line: RMS envelope; green ticks: detected twitches; red lines: alerts."))
    );
    // settings: alert sound and how soon a silent sensor is called out
    const sound = el("input", { type: "checkbox", id: "set-sound", checked: settings.alert_sound !== false });
    const stale = el("input", { type: "number", id: "set-stale", min: "0.5", max: "60", step: "0.5", value: String(settings.stale_after_s || 3), style: "width:5em" });
    const setStatus = el("span", { class: "muted", id: "set-status" });
    const saveSettings = async () => {
      try {
        settings = Object.assign(settings, await api("/api/settings", { method: "PUT", body: { alert_sound: sound.checked, stale_after_s: Number(stale.value) } }));
        setStatus.textContent = "saved";
        setStatus.className = "muted";
        renderSound();
      } catch (e) {
        setStatus.textContent = "not saved: " + e.message;
        setStatus.className = "error";
      }
    };
    sound.addEventListener("change", saveSettings);
    stale.addEventListener("change", saveSettings);
    $main.append(
      el("div", { class: "toolbar muted" }, el("label", {}, sound, " beep on alerts"), el("label", {}, "call the sensor silent after ", stale, " s"), setStatus)
    );
    setWindow(live.raw ? 2 : accelChart.windowS);
    renderLiveState();
    let raf = 0;
    const staleEl = document.getElementById("live-stale");
    const frame = () => {
      TW.frames++;
      const now = performance.now();
      const staleMs = (settings.stale_after_s || 3) * 1000;
      let note = "";
      if (!live.connected) note = "no connection to the dashboard server \u2013 reconnecting";
      else if (!live.isLive) note = "not live: this dashboard was started without a sensor (use twitchwatch record or demo)";
      else if (live.lastTraceAt && now - live.lastTraceAt > staleMs) note = "no data from the sensor for " + ((now - live.lastTraceAt) / 1000).toFixed(0) + " s";
      else if (!live.lastTraceAt) note = "waiting for data from the sensor";
      for (const ch of [accelChart, emgChart]) {
        ch.stale = !!note && ch.tLatest !== null;
        ch.note = note;
        ch.draw(now);
      }
      if (staleEl.textContent !== note) {
        staleEl.textContent = note;
        staleEl.className = note ? "error" : "muted";
        staleEl.id = "live-stale";
        document.body.dataset.stale = note ? "1" : "0";
      }
      raf = requestAnimationFrame(frame);
    };
    raf = requestAnimationFrame(frame);
    return () => cancelAnimationFrame(raf);
  };

  views.review = async function () {
    const [data, al] = await Promise.all([api("/api/sessions"), api("/api/alerts")]);
    const todo = al.alerts.filter((a) => !a.label && a.level !== "fault").reverse();
    if (todo.length) {
      $main.append(
        el("h2", {}, "Alerts to label (" + todo.length + ")"),
        el(
          "table",
          { id: "to-label" },
          el("tr", {}, ...["When", "Level", "Kind", "Why", ""].map((h) => el("th", {}, h))),
          ...todo.slice(0, 20).map((a) =>
            el(
              "tr",
              { class: "clickable", "data-alert": a.id, onclick: () => (location.hash = "#/alert/" + a.id) },
              el("td", {}, fmtWall(a.t_unix, true)),
              el("td", {}, a.level),
              el("td", {}, words(a.kind)),
              el("td", {}, reasonSummary(a.reasons)),
              el("td", {}, el("a", { href: "#/alert/" + a.id }, "review"))
            )
          )
        )
      );
    }
    $main.append(el("h2", {}, "Sessions"));
    if (!data.sessions.length) {
      $main.append(el("p", { class: "muted" }, "No sessions yet. Record one with twitchwatch record or twitchwatch demo."));
      return;
    }
    const rows = data.sessions.map((s) =>
      el(
        "tr",
        { class: "clickable", "data-session": s.id, onclick: () => (location.hash = "#/session/" + s.id) },
        el("td", {}, fmtWall(s.started_at_unix, true)),
        el("td", {}, fmtDur(s.duration_s)),
        el("td", {}, s.source || s.device_id),
        el("td", {}, s.placement),
        el("td", { class: "num" }, s.n_twitches),
        el("td", { class: "num" }, s.n_episodes),
        el("td", { class: "num" }, s.n_alerts),
        el("td", { class: "num" }, s.n_unlabelled ? s.n_unlabelled + " to label" : "\u2013"),
        el("td", { class: "num" }, s.n_faults)
      )
    );
    $main.append(
      el(
        "table",
        { id: "sessions" },
        el("tr", {}, ...["Started", "Length", "Source", "Placement", "Twitches", "Episodes", "Alerts", "Labels", "Faults"].map((h, i) => el("th", { class: i >= 4 ? "num" : "" }, h))),
        ...rows
      )
    );
  };

  views.session = async function (id) {
    const tl = await api("/api/sessions/" + encodeURIComponent(id) + "/timeline");
    const s = tl.session;
    const wall = (t) => s.started_at_unix + (t - s.device_t0_s);
    $main.append(
      el("div", { class: "toolbar" }, el("a", { href: "#/review" }, "\u2190 sessions")),
      el("h2", {}, "Session " + s.id + ": " + fmtWall(s.started_at_unix, true)),
      el("div", { class: "muted" }, [s.source, s.device_id, s.placement, "length " + fmtDur(s.duration_s), tl.events_total + " events"].filter(Boolean).join(" \u00b7 "))
    );
    const canvas = el("canvas", { class: "chart timeline", id: "timeline" });
    $main.append(
      el(
        "div",
        { class: "card" },
        canvas,
        el(
          "div",
          { class: "legend muted" },
          el("span", {}, el("i", { style: "background:#2a7a2a" }), "twitch / burst"),
          el("span", {}, el("i", { style: "background:#c0392b" }), "rhythmic jerking"),
          el("span", {}, el("i", { style: "background:#8e44ad" }), "tremor"),
          el("span", {}, el("i", { style: "background:#e67e22" }), "fault"),
          el("span", {}, el("i", { style: "background:#2c3e50" }), "button mark"),
          el("span", {}, "\u25c6 alert (click to review; outlined = labelled)")
        )
      )
    );
    let hits = [];
    const draw = () => (hits = TW.plotTimeline(canvas, tl));
    draw();
    canvas.dataset.drawn = String(tl.events.length + tl.episodes.length + tl.alerts.length + tl.faults.length + tl.marks.length);
    canvas.addEventListener("click", (ev) => {
      const r = canvas.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top;
      const h = hits.find((b) => x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1);
      if (h) location.hash = "#/alert/" + h.id;
    });
    window.addEventListener("resize", draw);
    $main.append(el("h3", {}, "Alerts"));
    if (!tl.alerts.length) $main.append(el("p", { class: "muted" }, "No alerts in this session."));
    else
      $main.append(
        el(
          "table",
          { id: "alerts" },
          el("tr", {}, ...["Time", "Level", "Kind", "Why", "Label", ""].map((h) => el("th", {}, h))),
          ...tl.alerts.map((a) =>
            el(
              "tr",
              { class: "clickable", "data-alert": a.id, onclick: () => (location.hash = "#/alert/" + a.id) },
              el("td", {}, fmtWall(wall(a.t_s)) + " (" + a.t_s.toFixed(1) + " s)"),
              el("td", {}, a.level),
              el("td", {}, words(a.kind)),
              el("td", {}, reasonSummary(a.reasons)),
              el("td", {}, a.label ? LABEL_TEXT[a.label.label] : el("span", { class: "muted" }, "not labelled")),
              el("td", {}, el("a", { href: "#/alert/" + a.id }, "open"))
            )
          )
        )
      );
    const simpleTable = (title, items, cols) => {
      $main.append(el("h3", {}, title + " (" + items.length + ")"));
      if (!items.length) return;
      $main.append(el("table", {}, el("tr", {}, ...cols.map(([h]) => el("th", {}, h))), ...items.slice(0, 500).map((it) => el("tr", {}, ...cols.map(([, f]) => el("td", {}, f(it)))))));
    };
    simpleTable("Episodes", tl.episodes, [
      ["Start", (e) => fmtWall(wall(e.start_s))],
      ["Kind", (e) => words(e.kind)],
      ["Length", (e) => (e.end_s - e.start_s).toFixed(1) + " s"],
      ["Rhythm", (e) => e.dominant_hz.toFixed(2) + " Hz"],
      ["Level", (e) => e.max_level || "\u2013"],
    ]);
    simpleTable("Faults", tl.faults, [
      ["Start", (f) => fmtWall(wall(f.start_s))],
      ["Kind", (f) => words(f.kind)],
      ["Length", (f) => (f.end_s - f.start_s).toFixed(1) + " s"],
      ["Stream", (f) => f.stream || "\u2013"],
      ["Detail", (f) => f.detail || ""],
    ]);
    simpleTable("Button marks", tl.marks, [
      ["Time", (m) => fmtWall(wall(m.t_s))],
      ["Note", (m) => m.note || ""],
    ]);
    return () => window.removeEventListener("resize", draw);
  };

  views.alert = async function (id) {
    const a = await api("/api/alerts/" + encodeURIComponent(id));
    const s = a.session;
    $main.append(
      el("div", { class: "toolbar" }, el("a", { href: "#/session/" + a.session_id }, "\u2190 session " + a.session_id)),
      el("h2", {}, (a.level || "").toUpperCase() + ": " + words(a.kind) + " at " + fmtWall(a.t_unix, true)),
      el("div", { class: "muted" }, "device time " + a.t_s.toFixed(2) + " s; episode from " + a.episode_start_s.toFixed(2) + " s" + (a.episode_end_s != null ? " to " + a.episode_end_s.toFixed(2) + " s" : "") + " \u00b7 " + (s.source || s.device_id))
    );
    const grid = el("div", { class: "grid2" });
    const reasons = el(
      "table",
      { id: "reasons" },
      el("tr", {}, el("th", {}, "The detector's reasons"), el("th", { class: "num" }, "value")),
      ...(a.reasons || []).map(([k, v]) => el("tr", {}, el("td", {}, reasonName(k)), el("td", { class: "num" }, fmtReason(k, v))))
    );
    const cur = a.label || {};
    const radios = ["confirmed", "false_alarm", "unsure"].map((v) =>
      el("label", {}, el("input", { type: "radio", name: "label", value: v, id: "label-" + v, checked: cur.label === v }), " " + LABEL_TEXT[v])
    );
    const note = el("textarea", { id: "label-note", maxlength: "2000", placeholder: "What happened? (optional)" });
    note.value = cur.note || "";
    const by = el("input", { id: "label-by", maxlength: "100", placeholder: "who labels (optional)" });
    by.value = cur.labelled_by || "";
    const status = el("span", { id: "label-status", class: "muted" }, a.label ? "labelled " + fmtWall(a.label.labelled_at_unix, true) : "not labelled yet");
    const save = async () => {
      const chosen = document.querySelector('input[name="label"]:checked');
      if (!chosen) {
        status.textContent = "choose confirmed, false alarm or unsure first";
        status.className = "error";
        return;
      }
      try {
        const r = await api("/api/alerts/" + a.id + "/label", { method: "PUT", body: { label: chosen.value, note: note.value, by: by.value } });
        status.textContent = "saved: " + LABEL_TEXT[r.label];
        status.className = "";
      } catch (e) {
        status.textContent = "not saved: " + e.message;
        status.className = "error";
      }
    };
    grid.append(
      el("div", { class: "card" }, reasons, el("p", { class: "muted" }, "Rhythmic jerking is told apart from tremor and walking by its rhythm (0.2\u20135 Hz), how regular it is, and how long it lasts. A neurologist should judge what it was.")),
      el(
        "div",
        { class: "card labelform" },
        el("h3", {}, "Your label"),
        el("div", {}, ...radios),
        note,
        el("div", { class: "toolbar" }, by, el("button", { class: "primary", id: "label-save", onclick: save }, "Save label"), status)
      )
    );
    $main.append(grid);
    const sigBox = el("div", { id: "signal" }, el("p", { class: "muted" }, "Loading the signal from the recording\u2026"));
    $main.append(el("h3", {}, "Signal"), sigBox);
    let sig;
    try {
      sig = await api("/api/alerts/" + a.id + "/signal");
    } catch (e) {
      sigBox.textContent = "";
      sigBox.append(el("p", { class: "muted", id: "signal-missing" }, "Signal not available: " + e.message));
      return;
    }
    sigBox.textContent = "";
    const span = { from: a.episode_start_s, to: a.episode_end_s != null ? a.episode_end_s : a.t_s };
    const mk = [{ t: a.t_s, label: "alert" }];
    const domHz = (a.reasons || []).find(([k]) => k === "dominant_hz");
    const charts = [];
    if (sig.accel) {
      const c1 = el("canvas", { class: "chart small" }), c2 = el("canvas", { class: "chart small" }), c3 = el("canvas", { class: "chart small" });
      sigBox.append(el("div", { class: "card" }, c1, c2), el("div", { class: "card" }, c3));
      charts.push(() => TW.plotTraces(c1, [Object.assign({ color: "#1f5fa8" }, sig.accel.raw)], { title: "Accelerometer magnitude, raw (g)", spans: [span], markers: mk }));
      charts.push(() => TW.plotTraces(c2, [Object.assign({ color: "#1f5fa8" }, sig.accel.filtered)], { title: "Accelerometer magnitude, high-passed 0.5 Hz (g)", spans: [span], markers: mk }));
      charts.push(() => TW.plotSpectrum(c3, sig.accel.spectrum, { title: "Movement spectrum (accelerometer)", detectorHz: domHz ? domHz[1] : null }));
    }
    if (sig.emg) {
      sig.emg.channels.forEach((ch, i) => {
        const c1 = el("canvas", { class: "chart small" }), c2 = el("canvas", { class: "chart small" }), c3 = el("canvas", { class: "chart small" }), c4 = el("canvas", { class: "chart small" });
        sigBox.append(el("div", { class: "card" }, c1, c2, c3), el("div", { class: "card" }, c4));
        charts.push(() => TW.plotTraces(c1, [Object.assign({ color: "#888" }, ch.raw)], { title: "EMG channel " + (i + 1) + ", raw (\u00b5V)", spans: [span], markers: mk }));
        charts.push(() => TW.plotTraces(c2, [Object.assign({ color: "#a83a1f" }, ch.filtered)], { title: "EMG channel " + (i + 1) + ", band-pass " + sig.emg.band_hz.map((x) => x.toFixed(0)).join("\u2013") + " Hz (\u00b5V)", spans: [span], markers: mk }));
        charts.push(() => TW.plotTraces(c3, [Object.assign({ color: "#a83a1f" }, ch.envelope)], { title: "EMG channel " + (i + 1) + ", envelope (\u00b5V)", spans: [span], markers: mk }));
        charts.push(() => TW.plotSpectrum(c4, ch.envelope_spectrum, { title: "Burst rhythm: spectrum of the EMG envelope, channel " + (i + 1), color: "#a83a1f", detectorHz: domHz ? domHz[1] : null }));
      });
    }
    sigBox.dataset.charts = String(charts.length);
    const drawAll = () => charts.forEach((f) => f());
    drawAll();
    window.addEventListener("resize", drawAll);
    return () => window.removeEventListener("resize", drawAll);
  };

  function fillBuckets(rows, width, from, to) {
    const byStart = new Map(rows.map((r) => [Math.round(r.start_unix), r]));
    const out = [];
    for (let t = from; t <= to + 1; t += width) {
      out.push(byStart.get(Math.round(t)) || { start_unix: t, twitches: 0, events: 0, episodes: {}, alerts: {}, monitored_s: 0, missing: true });
    }
    return out;
  }

  views.history = async function (days) {
    days = days || "28";
    const tz = -new Date().getTimezoneOffset();
    const q = new URLSearchParams({ tz_offset_min: tz });
    if (days !== "all") q.set("days", days);
    const h = await api("/api/history?" + q);
    const ranges = [["7", "1 week"], ["28", "4 weeks"], ["84", "12 weeks"], ["all", "all"]];
    $main.append(
      el("h2", {}, "History"),
      el(
        "div",
        { class: "toolbar" },
        ...ranges.map(([d, label]) => el("button", { class: d === days ? "on" : "", onclick: () => (location.hash = "#/history/" + d) }, label)),
        el("a", { href: "/report?" + q, target: "_blank", rel: "noopener" }, "Printable report"),
        el("a", { href: "/api/labels/export?format=json" }, "Export labels (JSON)"),
        el("a", { href: "/api/labels/export?format=csv" }, "(CSV)")
      )
    );
    if (h.persistence && h.persistence.show) $main.append(el("div", { class: "note", id: "persist-note" }, h.persistence.note));
    // the server gives one slot per day of the period (a week: 7) and per 7 days (12 weeks: 12)
    const daily = h.daily;
    const dayLabel = (t) => {
      const d = new Date(t * 1000);
      return pad2(d.getDate()) + "/" + pad2(d.getMonth() + 1);
    };
    const sm = h.summary;
    $main.append(
      el(
        "div",
        { class: "tiles" },
        tile("Monitored", sm.monitored_text, "", "tile-monitored"),
        tile("Not worn / no data", sm.not_monitored_text, "", "tile-not-monitored"),
        tile("Isolated twitches at rest", String(sm.twitches), "", "tile-twitches"),
        tile("Per monitored hour", sm.rate_per_h != null ? sm.rate_per_h.toFixed(1) : "\u2013", "", "tile-rate"),
        tile("Days with twitches", sm.days_with_twitches + " of " + sm.days_monitored + " monitored (" + sm.days + " days)", "", "tile-days")
      )
    );
    if (sm.rate_note) $main.append(el("p", { class: "muted", id: "rate-note" }, "Per monitored hour: " + sm.rate_note + "."));
    if (h.not_monitored.length) {
      $main.append(
        el("h3", {}, "Not worn or no data (not counted as monitored)"),
        el(
          "table",
          { id: "not-worn" },
          el("tr", {}, el("th", {}, "from"), el("th", {}, "to"), el("th", { class: "num" }, "duration"), el("th", {}, "why")),
          ...h.not_monitored.map((f) =>
            el("tr", {}, el("td", {}, fmtWall(f.start_unix)), el("td", {}, fmtWall(f.end_unix)), el("td", { class: "num" }, (f.duration_s / 60).toFixed(1) + " min"), el("td", {}, f.kind === "not_worn" ? "sensor off the body" : words(f.kind)))
          )
        )
      );
    }
    const cDay = el("canvas", { class: "chart", id: "chart-daily", "data-slots": String(daily.length) });
    const cHour = el("canvas", { class: "chart", id: "chart-hourly" });
    const cEp = el("canvas", { class: "chart small", id: "chart-episodes" });
    const cWeek = el("canvas", { class: "chart small", id: "chart-weekly", "data-slots": String(h.weekly.length) });
    $main.append(el("div", { class: "card" }, cDay), el("div", { class: "card" }, cHour), el("div", { class: "grid2" }, el("div", { class: "card" }, cEp), el("div", { class: "card" }, cWeek)));
    const lastHour = h.hourly.length ? h.hourly[h.hourly.length - 1].start_unix : 0;
    const hourly = h.hourly.length ? fillBuckets(h.hourly, 3600, h.hourly[0].start_unix, lastHour) : [];
    const weekly = h.weekly;
    const epColors = { rhythmic_jerking: "#c0392b", tremor: "#8e44ad", fasciculation: "#2a7a2a" };
    const drawAll = () => {
      TW.plotBars(cDay, daily.map((r) => ({ label: dayLabel(r.start_unix), value: r.twitches, muted: !r.monitored })), { title: "Isolated twitches per day (grey: not monitored)", color: "#2a7a2a" });
      TW.plotBars(
        cHour,
        hourly.map((r) => {
          const d = new Date(r.start_unix * 1000);
          return { label: d.getHours() === 0 ? dayLabel(r.start_unix) : "", value: r.rate_per_h != null ? r.rate_per_h : 0, muted: r.rate_per_h == null };
        }),
        { title: "Twitches per monitored hour, last 7 days with data (grey: under 30 min monitored)", color: "#2a7a2a" }
      );
      TW.plotBars(
        cEp,
        daily.map((r) => ({ label: dayLabel(r.start_unix), stack: Object.entries(r.episodes).map(([k, v]) => ({ value: v, color: epColors[k] || "#7f8c8d" })) })),
        { title: "Episodes per day (red: rhythmic jerking, purple: tremor, green: twitch clusters)" }
      );
      TW.plotBars(
        cWeek,
        weekly.map((r) => ({ label: "wk " + dayLabel(r.start_unix), value: r.rate_per_h != null ? r.rate_per_h : 0, muted: r.rate_per_h == null })),
        { title: "Trend: twitches per monitored hour, by week (grey: under 1 h monitored)", color: "#1f5fa8" }
      );
    };
    drawAll();
    $main.append(el("div", { class: "guidance", id: "guidance" }, el("h3", {}, "What this means"), el("ul", {}, ...h.guidance.map((g) => el("li", {}, g)))));
    document.body.dataset.historyDays = String(h.daily.length);
    window.addEventListener("resize", drawAll);
    return () => window.removeEventListener("resize", drawAll);
  };

  async function route() {
    if (cleanup) {
      try {
        cleanup();
      } catch (_) {}
      cleanup = null;
    }
    $main.textContent = "";
    const parts = (location.hash || "#/live").slice(2).split("/");
    const name = parts[0] || "live";
    document.querySelectorAll("header nav a[data-view]").forEach((a) => a.classList.toggle("active", a.dataset.view === name || (name === "session" || name === "alert") && a.dataset.view === "review"));
    const view = views[name] || views.live;
    document.body.dataset.view = name;
    document.body.dataset.ready = "0";
    try {
      cleanup = (await view(parts[1])) || null;
    } catch (e) {
      $main.append(el("p", { class: "error", id: "view-error" }, "Could not load this page: " + e.message));
    }
    document.body.dataset.ready = "1";
  }

  window.addEventListener("hashchange", route);
  renderSound();
  renderServerStatus();
  connectLive();
  route();
})();
