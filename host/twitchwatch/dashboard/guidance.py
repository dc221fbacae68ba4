"""What the dashboard says about the history: information, never a diagnosis.

The texts follow common patient information on muscle twitching (e.g. NHS "Muscle twitching",
nhs.uk/conditions/muscle-twitching; Mayo Clinic on benign fasciculation syndrome): occasional
twitching is usually harmless; persistence over two weeks or twitching with weakness, numbness,
pain or changes in awareness is a reason to see a doctor. The device cannot tell why a muscle
twitches, and rhythmic jerking episodes need a neurologist's judgement.
"""

from __future__ import annotations

GUIDANCE: tuple[str, ...] = (
    "This is information about what the sensor recorded, not a diagnosis. The sensor can miss "
    "events and can mistake movement for twitching.",
    "Occasional muscle twitching is common and usually harmless (tiredness, caffeine, exercise and "
    "stress can all cause it).",
    "See a doctor if twitching persists for more than two weeks, or comes with weakness, numbness, "
    "pain, muscle wasting, or changes in awareness.",
    "Rhythmic jerking episodes are shown for a neurologist to judge; bring this history or the "
    "printable report to the appointment.",
    "If someone has a seizure that lasts more than 5 minutes, does not wake up afterwards, or is "
    "injured, call emergency services.",
)

#: The gentle note shows when twitching appeared on most monitored days over a period longer than
#: two weeks: at least PERSIST_MIN_SPAN_DAYS calendar days from the first to the last twitching
#: day considered, with more than half of the monitored days in that period showing twitches.
PERSIST_MIN_SPAN_DAYS = 15
#: At least this many monitored days in the period, so a few scattered days do not trigger it.
PERSIST_MIN_MONITORED_DAYS = 8
#: Look back this many days from the latest day with data.
PERSIST_LOOKBACK_DAYS = 28

PERSIST_NOTE = (
    "Twitching showed on most of the days you wore the sensor over more than two weeks. That is "
    "often still harmless, but it is a good reason to mention it to your doctor, especially if you "
    "notice weakness, numbness, pain or changes in awareness."
)


def persistence(daily: list[dict]) -> dict:
    """Whether twitching shows on most days for more than two weeks.

    Parameters
    ----------
    daily : rows of :meth:`twitchwatch.store.history.History.counts` with bucket="day", oldest first
        (``start_unix``, ``twitches``, ``monitored_s``).

    Returns
    -------
    dict with ``show`` (bool), ``note`` (text or None), ``monitored_days``, ``twitch_days`` and
    ``span_days`` over the period considered.
    """
    days = [d for d in daily if d["monitored_s"] > 0 or d["twitches"] > 0]
    if not days:
        return {"show": False, "note": None, "monitored_days": 0, "twitch_days": 0, "span_days": 0}
    last = days[-1]["start_unix"]
    window = [d for d in days if d["start_unix"] > last - PERSIST_LOOKBACK_DAYS * 86400.0]
    twitch_days = [d for d in window if d["twitches"] > 0]
    span = 0
    if twitch_days:
        span = int(round((twitch_days[-1]["start_unix"] - twitch_days[0]["start_unix"]) / 86400.0)) + 1
    monitored = len(window)
    show = (
        span >= PERSIST_MIN_SPAN_DAYS
        and monitored >= PERSIST_MIN_MONITORED_DAYS
        and len(twitch_days) * 2 > monitored
    )
    return {
        "show": show,
        "note": PERSIST_NOTE if show else None,
        "monitored_days": monitored,
        "twitch_days": len(twitch_days),
        "span_days": span,
    }
