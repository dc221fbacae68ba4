"""History over a period of whole local days: what the History page and the report show.

One function, :func:`history_view`, so the page (``/api/history``) and the printed report say the
same numbers:

- ``summary``: monitored time (session time minus the time the sensor was not worn or sent no
  data), the not-monitored time, isolated twitches at rest (see :meth:`twitchwatch.store.history.History.counts`), and a
  twitch rate per monitored hour only when at least :data:`~twitchwatch.store.MIN_RATE_MONITORED_S`
  was monitored (else ``rate_per_h`` is None and ``rate_note`` says why);
- ``daily``: one slot per local day of the period (a week is seven slots; days without a session
  are there, marked ``monitored: false``);
- ``weekly``: one slot per 7 days, counted back from the period's end (twelve weeks are twelve
  slots), with the same fields summed and a rate where it means something;
- ``hourly``: hours of the last 7 days that hold data;
- ``not_monitored``: the intervals when the sensor was off (kind, start, end, duration).
"""

from __future__ import annotations

import math

from twitchwatch.dashboard.guidance import GUIDANCE, persistence
from twitchwatch.store import MIN_RATE_MONITORED_S

DAY = 86400.0


def day_floor(t_unix: float, utc_offset_s: float) -> float:
    """Start (UTC seconds) of the local day holding ``t_unix``."""
    return math.floor((t_unix + utc_offset_s) / DAY) * DAY - utc_offset_s


def whole_days(start: float, end: float, utc_offset_s: float) -> tuple[float, float]:
    """[start, end) widened to whole local days."""
    a = day_floor(start, utc_offset_s)
    z = day_floor(end - 1e-6, utc_offset_s) + DAY
    return a, max(z, a + DAY)


def _empty(start_unix: float) -> dict:
    return {"start_unix": start_unix, "twitches": 0, "twitch_events": 0, "events": 0, "episodes": {}, "alerts": {},
            "faults": 0, "marks": 0, "monitored_s": 0.0, "not_monitored_s": 0.0, "rate_per_h": None}


def _rate(twitches: int, monitored_s: float) -> float | None:
    return twitches / (monitored_s / 3600.0) if monitored_s >= MIN_RATE_MONITORED_S else None


def format_duration(seconds: float) -> str:
    """``42 s``, ``12.5 min``, ``3.2 h``: never "0.0 h" for a few minutes."""
    s = max(0.0, float(seconds))
    if s < 90:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def rate_note(monitored_s: float) -> str:
    return (f"too little monitored time for a rate ({format_duration(monitored_s)}; a rate needs at least "
            f"{format_duration(MIN_RATE_MONITORED_S)})")


def history_view(store, start: float, end: float, utc_offset_s: float) -> dict:
    """Everything the History page and the report show for [start, end) (whole local days)."""
    start, end = whole_days(start, end, utc_offset_s)
    n_days = int(round((end - start) / DAY))
    rows = {round(r["start_unix"]): r for r in store.history.counts("day", start, end, utc_offset_s)}
    daily = []
    for i in range(n_days):
        t = start + i * DAY
        r = dict(rows.get(round(t)) or _empty(t))
        r["monitored"] = r["monitored_s"] > 0
        daily.append(r)
    weekly = []
    n_weeks = math.ceil(n_days / 7)
    for w in range(n_weeks):
        days = daily[max(0, n_days - 7 * (n_weeks - w)): n_days - 7 * (n_weeks - w - 1)]
        wk = _empty(days[0]["start_unix"])
        for d in days:
            for k in ("twitches", "twitch_events", "events", "faults", "marks", "monitored_s", "not_monitored_s"):
                wk[k] += d[k]
            for k in ("episodes", "alerts"):
                for kk, v in d[k].items():
                    wk[k][kk] = wk[k].get(kk, 0) + v
        wk["days"] = len(days)
        wk["rate_per_h"] = _rate(wk["twitches"], wk["monitored_s"])
        wk["monitored"] = wk["monitored_s"] > 0
        weekly.append(wk)
    last_data = max((d["start_unix"] for d in daily if d["monitored"] or d["events"]), default=end - DAY)
    hourly = store.history.counts("hour", max(start, last_data + DAY - 7 * DAY), end, utc_offset_s)
    monitored = sum(d["monitored_s"] for d in daily)
    not_monitored = sum(d["not_monitored_s"] for d in daily)
    twitches = sum(d["twitches"] for d in daily)
    rate = _rate(twitches, monitored)
    return {
        "since_unix": start,
        "until_unix": end,
        "utc_offset_s": utc_offset_s,
        "summary": {
            "monitored_s": monitored,
            "monitored_text": format_duration(monitored),
            "not_monitored_s": not_monitored,
            "not_monitored_text": format_duration(not_monitored),
            "twitches": twitches,
            "twitch_events": sum(d["twitch_events"] for d in daily),
            "rate_per_h": rate,
            "rate_note": None if rate is not None else rate_note(monitored),
            "days": n_days,
            "days_monitored": sum(1 for d in daily if d["monitored"]),
            "days_with_twitches": sum(1 for d in daily if d["twitches"] > 0),
            "min_rate_monitored_s": MIN_RATE_MONITORED_S,
        },
        "daily": daily,
        "weekly": weekly,
        "hourly": hourly,
        "not_monitored": store.history.not_monitored(start, end),
        "guidance": list(GUIDANCE),
        "persistence": persistence([d for d in daily if d["monitored"] or d["twitches"]]),
    }
