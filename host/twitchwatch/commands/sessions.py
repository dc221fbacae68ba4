"""`twitchwatch sessions [list | show ID | delete ID... | prune [--older-than DAYS] | retention [DAYS]]`.

Recordings grow about 24 MB per hour worn: this lists what is kept, shows one session, deletes
sessions (the store's rows and the recording file together, after a confirmation; ``--yes`` for
scripts), prunes by age, and sets the retention (sessions older than it are deleted each time a
recording starts; 0 keeps everything). Sessions a recorder left open (killed) are closed from
their recording file first.
"""

from __future__ import annotations

import json
import sys
import time

from twitchwatch import sessions as S
from twitchwatch.errors import ConfigError
from twitchwatch.recording import format_clock
from twitchwatch.store import Store, default_db_path


def _days(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ConfigError(f"{text!r}: expected a number of days") from None
    if not (0 <= v <= 36500) or v != v:
        raise ConfigError(f"{text}: days must be between 0 and 36500")
    return v


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    ls = sub.add_parser("list", help="every session, newest first")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    sh = sub.add_parser("show", help="one session in detail")
    sh.add_argument("id", type=int)
    sh.add_argument("--json", action="store_true")
    de = sub.add_parser("delete", help="delete sessions and their recordings (asks first)")
    de.add_argument("ids", type=int, nargs="+", metavar="ID")
    de.add_argument("--yes", action="store_true", help="do not ask")
    pr = sub.add_parser("prune", help="delete sessions older than some days (asks first)")
    pr.add_argument("--older-than", type=_days, default=None, metavar="DAYS",
                    help="default: the retention setting")
    pr.add_argument("--yes", action="store_true", help="do not ask")
    re_ = sub.add_parser("retention", help="show or set how many days sessions are kept (0: forever)")
    re_.add_argument("days", type=_days, nargs="?", default=None)


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _size(n: int | None) -> str:
    if n is None:
        return "no file"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _dur(s: float | None) -> str:

    return "open" if s is None else format_clock(s)


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise ConfigError(f"{question.rstrip('?')}: not confirmed (no terminal to ask on; add --yes)")
    print(question + " [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def run(args) -> int:
    action = args.action or "list"
    store = Store(default_db_path())
    try:
        for sid, d in S.close_crashed(store):
            print(f"twitchwatch: session {sid} was left open (recorder stopped abruptly); closed at {_dur(d)}",
                  file=sys.stderr)
        if action == "list":
            return _list(store, getattr(args, "json", False))
        if action == "show":
            return _show(store, args.id, args.json)
        if action == "retention":
            return _retention(store, args.days)
        return _delete(store, args)
    finally:
        store.close()


def _list(store: Store, as_json: bool) -> int:
    rows = store.sessions.list_sessions(limit=100000)
    if as_json:
        for r in rows:
            print(json.dumps(r | {"recording_bytes": S.recording_size(r)}))
        return 0
    if not rows:
        print("no sessions")
        return 0
    print(f"{'id':>5}  {'started':16}  {'duration':>9}  {'twitches':>8}  {'alerts':>6}  {'recording':>9}  source")
    total = 0
    for r in rows:
        size = S.recording_size(r)
        total += size or 0
        print(f"{r['id']:>5}  {_when(r['started_at_unix']):16}  {_dur(r['duration_s']):>9}  {r['n_twitches']:>8}  "
              f"{r['n_alerts']:>6}  {_size(size):>9}  {r['source']}")
    print(f"{len(rows)} session(s), recordings {_size(total)}; retention: "
          + (f"{store.settings.get()['retention_days']} days" if store.settings.get()["retention_days"] else "keep everything"))
    return 0


def _show(store: Store, session_id: int, as_json: bool) -> int:
    s = store.sessions.get_session(session_id)
    if s is None:
        raise ConfigError(f"session {session_id}: no such session in {store.path}")
    tl = store.sessions.timeline(session_id, max_events=0)
    spans = {x["id"]: x for x in store.history.session_spans()}.get(session_id)
    info = {
        "session": s, "recording_bytes": S.recording_size(s), "events": tl["events_total"],
        "episodes": tl["episodes"], "alerts": [{k: a[k] for k in ("id", "level", "kind", "t_s", "episode_start_s")} for a in tl["alerts"]],
        "faults": tl["faults"], "marks": len(tl["marks"]),
        "not_monitored": spans["not_monitored"] if spans else [],
    }
    if as_json:
        print(json.dumps(info, default=str))
        return 0
    print(f"session {s['id']}: {s['source']} ({s['device_id']}, {s['placement']})")
    print(f"  started {_when(s['started_at_unix'])}, duration {_dur(s['duration_s'])}")
    print(f"  recording {s['recording_path'] or '-'} ({_size(info['recording_bytes'])})")
    print(f"  {info['events']} events, {len(info['episodes'])} episodes, {len(info['alerts'])} alerts, "
          f"{len(info['faults'])} faults, {info['marks']} marks")
    origin = s["device_t0_s"]
    for f in info["faults"]:
        print(f"  fault {f['kind']} {f['stream']} {_dur(f['start_s'] - origin)}-{_dur(f['end_s'] - origin)} "
              f"({f['end_s'] - f['start_s']:.1f} s) {f['detail']}".rstrip())
    for a in info["alerts"]:
        print(f"  alert {a['level']} {a['kind']} at {_dur(a['t_s'] - origin)}")
    return 0


def _retention(store: Store, days: float | None) -> int:
    if days is None:
        d = store.settings.get()["retention_days"]
        print(f"sessions are kept {d} days" if d else "sessions are kept until you delete them (retention 0)")
        return 0
    store.settings.update({"retention_days": int(days)})
    print(f"retention set to {int(days)} days" + (" (keep everything)" if not days else "")
          + "; applied each time a recording starts and by `twitchwatch sessions prune`")
    return 0


def _delete(store: Store, args) -> int:
    """``delete ID...`` or ``prune``: the sessions and their recordings, after a confirmation."""
    if args.action == "delete":
        targets = []
        for i in args.ids:
            s = store.sessions.get_session(i)
            if s is None:
                raise ConfigError(f"session {i}: no such session in {store.path}")
            targets.append(s)
    else:  # prune
        days = args.older_than if args.older_than is not None else store.settings.get()["retention_days"]
        if not days:
            raise ConfigError("prune: give --older-than DAYS (the retention setting is 0: keep everything)")
        targets = S.older_than(store, days)
        if not targets:
            print(f"no session is older than {days:g} days")
            return 0
    size = sum(S.recording_size(s) or 0 for s in targets)
    what = ", ".join(str(s["id"]) for s in targets)
    if not _confirm(f"delete {len(targets)} session(s) ({what}) and their recordings ({_size(size)})?", args.yes):
        print("nothing deleted", file=sys.stderr)
        return 1
    for s in targets:
        r = S.delete(store, s["id"])
        kept = "" if r["recording_deleted"] or not r["recording"] else f"; its recording outside the data folder was kept: {r['recording']}"
        print(f"deleted session {r['id']}" + (f" and its recording ({_size(r['bytes_freed'])})" if r["recording_deleted"] else "") + kept)
    return 0
