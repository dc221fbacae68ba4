"""One printable page for a doctor's appointment (HTML with print CSS; the browser prints it).

Period, monitored time, counts, twitches per day, the episodes with small signal snippets (inline
SVG, from the recordings when they are available) and the labels given to alerts. Everything is
escaped; nothing here runs script.
"""

from __future__ import annotations

import html
import time
from collections import Counter
from datetime import datetime, timezone

from twitchwatch.dashboard.guidance import GUIDANCE
from twitchwatch.dashboard.history import format_duration, history_view
from twitchwatch.dashboard.snippet import thumbnail

#: Episode kinds listed in the report (fasciculation clusters are counted, not listed one by one).
REPORT_EPISODE_KINDS = ("rhythmic_jerking", "tremor")
#: At most this many episodes get a snippet (each reads its recording).
MAX_SNIPPETS = 12
WHY = {"not_worn": "sensor off the body", "gap": "no data received", "signal_lost": "signal lost"}
LABEL_TEXT = {"confirmed": "confirmed", "false_alarm": "false alarm", "unsure": "unsure", None: "not labelled"}

CSS = """
body{font:13px/1.35 system-ui,sans-serif;color:#111;margin:24px auto;max-width:780px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:15px;margin:18px 0 6px;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:3px 5px;text-align:left;vertical-align:top}
th{font-weight:600} .num{text-align:right} .muted{color:#555} .note{background:#fff6d6;border:1px solid #e0c060;padding:6px 8px}
.guidance li{margin:2px 0} svg{display:block} .toolbar{margin-bottom:12px}
@media print{.toolbar{display:none} body{margin:0;max-width:none;font-size:11px} h2{break-after:avoid} tr{break-inside:avoid}
 @page{size:A4;margin:14mm}}
"""


def _fmt_time(t_unix: float, offset_s: float, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(t_unix + offset_s, tz=timezone.utc).strftime(fmt)


def svg_trace(trace: dict | None, width: int = 240, height: int = 36, color: str = "#1f5fa8") -> str:
    """A min/max band of a decimated trace as a tiny inline SVG (no script, no external refs)."""
    if not trace or not trace.get("max"):
        return '<span class="muted">no signal</span>'
    lo, hi = trace["min"], trace["max"]
    n = len(hi)
    vmin, vmax = min(lo), max(hi)
    span = (vmax - vmin) or 1.0

    def y(v: float) -> float:
        return round(height - 1 - (v - vmin) / span * (height - 2), 1)

    xs = [round(i * (width - 1) / max(1, n - 1), 1) for i in range(n)]
    upper = " ".join(f"{x},{y(v)}" for x, v in zip(xs, hi))
    lower = " ".join(f"{x},{y(v)}" for x, v in zip(reversed(xs), reversed(lo)))
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<polygon points="{upper} {lower}" fill="{color}" stroke="{color}" stroke-width="0.6"/></svg>'
    )


def svg_bars(values: list[float | None], width: int = 700, height: int = 60, color: str = "#555",
             labels: list[str] | None = None) -> str:
    """One slot per value; a None value is a slot without monitoring (a pale hatched box)."""
    if not values:
        return ""
    n = len(values)
    vmax = max((v for v in values if v is not None), default=0.0) or 1.0
    bw = width / n
    lab_h = 12 if labels else 0
    h = height - lab_h
    parts = []
    for i, v in enumerate(values):
        x = i * bw
        if v is None:
            parts.append(f'<rect class="off" x="{x:.1f}" y="0" width="{max(bw - 1, 0.5):.1f}" height="{h}" fill="#eee" stroke="#ccc"/>')
        else:
            parts.append(f'<rect class="on" x="{x:.1f}" y="{h - v / vmax * h:.1f}" width="{max(bw - 1, 0.5):.1f}" height="{v / vmax * h:.1f}" fill="{color}"/>')
        if labels and (n <= 31 or i % max(1, n // 14) == 0):
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{height - 2}" font-size="9" text-anchor="middle" fill="#555">{html.escape(labels[i])}</text>')
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
            f'data-slots="{n}">{"".join(parts)}</svg>')


def render_report(store, since_unix: float, until_unix: float, utc_offset_s: float = 0.0) -> str:
    """The report page for [since_unix, until_unix) as one HTML document."""
    view = history_view(store, since_unix, until_unix, utc_offset_s)
    since_unix, until_unix = view["since_unix"], view["until_unix"]
    alerts = store.sessions.alerts(since_unix=since_unix, until_unix=until_unix)
    episodes = store.sessions.episodes(since_unix, until_unix, kinds=REPORT_EPISODE_KINDS, limit=200)
    out = _summary(view, alerts, utc_offset_s)
    out += _not_monitored(view, utc_offset_s)
    out += _days_chart(view, utc_offset_s)
    out += _episodes(store, episodes, alerts, utc_offset_s)
    out += _labelled(alerts, utc_offset_s)
    out += _about()
    return "\n".join(out)


def _summary(view: dict, alerts: list[dict], utc_offset_s: float) -> list[str]:
    """Head of the page and the summary table (and the persistence note when there is one)."""
    e = html.escape
    since_unix, until_unix = view["since_unix"], view["until_unix"]
    summ = view["summary"]
    ep_counts: Counter = Counter()
    al_counts: Counter = Counter()
    for d in view["daily"]:
        ep_counts.update(d["episodes"])
        al_counts.update(d["alerts"])
    labels = Counter(a["label"]["label"] if a["label"] else None for a in alerts)
    days_monitored = summ["days_monitored"]
    per_hour = summ["rate_per_h"]
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>twitchwatch report</title>",
        f"<style>{CSS}</style></head><body>",
        '<div class="toolbar"><a href="/">&larr; dashboard</a> &middot; use your browser\'s Print (Ctrl+P) for paper or PDF</div>',
        "<h1>twitchwatch: sensor report</h1>",
        f'<div class="muted">Period {e(_fmt_time(since_unix, utc_offset_s, "%Y-%m-%d"))} to '
        f'{e(_fmt_time(until_unix - 1, utc_offset_s, "%Y-%m-%d"))} &middot; generated '
        f"{e(_fmt_time(time.time(), utc_offset_s))} (local time UTC{utc_offset_s / 3600:+.1f} h)</div>",
        "<h2>Summary</h2><table>",
        f"<tr><th>Time monitored</th><td class=num id=monitored>{e(summ['monitored_text'])} on {days_monitored} "
        f"of {summ['days']} days</td></tr>",
        f"<tr><th>Sensor not worn / no data</th><td class=num id=not-monitored>{e(summ['not_monitored_text'])}"
        f" (not counted as monitored)</td></tr>",
        f"<tr><th>Isolated twitches at rest</th><td class=num id=twitches>{summ['twitches']}"
        + (f" ({per_hour:.1f} per monitored hour)" if per_hour is not None else f" ({e(summ['rate_note'])})")
        + "</td></tr>",
        f"<tr><th>Days with twitches</th><td class=num>{summ['days_with_twitches']} of {days_monitored}</td></tr>",
        "<tr><th>Episodes</th><td class=num>"
        + (e(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(ep_counts.items()))) or "none")
        + "</td></tr>",
        "<tr><th>Alerts</th><td class=num>"
        + (e(", ".join(f"{k}: {v}" for k, v in sorted(al_counts.items()))) or "none")
        + "</td></tr>",
        "<tr><th>Alert labels</th><td class=num>"
        + (e(", ".join(f"{LABEL_TEXT[k]}: {v}" for k, v in sorted(labels.items(), key=lambda kv: str(kv[0])))) or "none")
        + "</td></tr></table>",
    ]
    if view["persistence"]["show"]:
        out.append(f'<p class="note">{e(view["persistence"]["note"])}</p>')
    return out


def _not_monitored(view: dict, utc_offset_s: float) -> list[str]:
    """The table of time the sensor was not worn or sent no data (nothing when there was none)."""
    e = html.escape
    if not view["not_monitored"]:
        return []
    out = ["<h2>Time the sensor was not worn or sent no data</h2><table id=not-worn>"
           "<tr><th>From</th><th>To</th><th class=num>Duration</th><th>Why</th></tr>"]
    for f in view["not_monitored"]:
        out.append(f"<tr><td>{e(_fmt_time(f['start_unix'], utc_offset_s, '%Y-%m-%d %H:%M:%S'))}</td>"
                   f"<td>{e(_fmt_time(f['end_unix'], utc_offset_s, '%Y-%m-%d %H:%M:%S'))}</td>"
                   f"<td class=num>{e(format_duration(f['duration_s']))}</td>"
                   f"<td>{e(WHY.get(f['kind'], f['kind']))}</td></tr>")
    out.append("</table>")
    return out


def _days_chart(view: dict, utc_offset_s: float) -> list[str]:
    """Isolated twitches per day as bars (pale boxes for days not monitored)."""
    daily = view["daily"]
    out = ["<h2>Isolated twitches per day</h2><div id=chart-days>"]
    out.append(svg_bars([float(d["twitches"]) if d["monitored"] else None for d in daily],
                        labels=[_fmt_time(d["start_unix"], utc_offset_s, "%d/%m") for d in daily], height=72))
    busiest = max((d["twitches"] for d in daily if d["monitored"]), default=0)
    out.append(f'</div><div class="muted">{len(daily)} days, {view["summary"]["days_monitored"]} monitored '
               f'(pale boxes: not monitored); highest {busiest} in a day</div>')
    return out


def _episodes(store, episodes: list[dict], alerts: list[dict], utc_offset_s: float) -> list[str]:
    """The episodes table: when, kind, rhythm, the alert and its label, a signal thumbnail."""
    e = html.escape
    out = ["<h2>Episodes (rhythmic jerking and tremor)</h2>"]
    if not episodes:
        out.append("<p>No rhythmic jerking or tremor episodes were detected in this period.</p>")
        return out
    by_episode = _highest_alert_per_episode(alerts)
    out.append(
        "<table><tr><th>When</th><th>Kind</th><th class=num>Duration</th><th class=num>Rhythm</th>"
        "<th>Alert / label</th><th>Movement (accel) and muscle (EMG envelope)</th></tr>"
    )
    for i, ep in enumerate(episodes):
        a = by_episode.get((ep["session_id"], round(ep["start_s"], 3)))
        lab = ""
        if a is not None:
            lab = f"{e(a['level'])}; {e(LABEL_TEXT[a['label']['label'] if a['label'] else None])}"
            if a["label"] and a["label"]["note"]:
                lab += f'<br><span class="muted">&ldquo;{e(a["label"]["note"])}&rdquo;</span>'
        thumb = None
        if i < MAX_SNIPPETS:
            thumb = thumbnail(ep["recording_path"], store.data_dir, ep["start_s"], ep["end_s"])
        snip = (
            svg_trace(thumb["accel"], color="#1f5fa8") + svg_trace(thumb["emg_env"], color="#a83a1f")
            if thumb
            else '<span class="muted">recording not available</span>'
        )
        out.append(
            f"<tr><td>{e(_fmt_time(ep['start_unix'], utc_offset_s))}</td><td>{e(ep['kind'].replace('_', ' '))}</td>"
            f"<td class=num>{ep['end_s'] - ep['start_s']:.0f} s</td><td class=num>{ep['dominant_hz']:.1f} Hz</td>"
            f"<td>{lab or '<span class=muted>no alert</span>'}</td><td>{snip}</td></tr>"
        )
    out.append("</table>")
    if len(episodes) > MAX_SNIPPETS:
        out.append(f'<div class="muted">Signal snippets shown for the first {MAX_SNIPPETS} episodes.</div>')
    return out


def _highest_alert_per_episode(alerts: list[dict]) -> dict[tuple[int, float], dict]:
    """The highest alert each episode reached (its label is the one that matters), by
    (session id, episode start)."""
    by_episode: dict[tuple[int, float], dict] = {}
    rank = {"alarm": 2, "warning": 1}
    for a in alerts:
        key = (a["session_id"], round(a["episode_start_s"], 3))
        if key not in by_episode or rank.get(a["level"], 0) > rank.get(by_episode[key]["level"], 0):
            by_episode[key] = a
    return by_episode


def _labelled(alerts: list[dict], utc_offset_s: float) -> list[str]:
    """The labelled alerts, with their notes."""
    e = html.escape
    labelled = [a for a in alerts if a["label"]]
    out = ["<h2>Labelled alerts</h2>"]
    if not labelled:
        out.append("<p>No alerts were labelled in this period.</p>")
        return out
    out.append("<table><tr><th>When</th><th>Alert</th><th>Label</th><th>Note</th><th>By</th></tr>")
    for a in labelled:
        out.append(
            f"<tr><td>{e(_fmt_time(a['t_unix'], utc_offset_s))}</td><td>{e(a['level'])}: {e(a['kind'].replace('_', ' '))}</td>"
            f"<td>{e(LABEL_TEXT[a['label']['label']])}</td><td>{e(a['label']['note'])}</td><td>{e(a['label']['labelled_by'])}</td></tr>"
        )
    out.append("</table>")
    return out


def _about() -> list[str]:
    """What the numbers mean, and what they are not."""
    e = html.escape
    out = ['<h2>About these numbers</h2><ul class="guidance">']
    out.extend(f"<li>{e(g)}</li>" for g in GUIDANCE)
    out.append(
        "<li>Counts come from an automatic detector on a foot-worn accelerometer and surface EMG; "
        "they are estimates, and time not monitored is not counted. Isolated twitches are twitches "
        "at rest: jerks during a rhythmic-jerking episode, tremor beats and steps while moving are "
        "not counted as twitches.</li></ul></body></html>"
    )
    return out
