"""`twitchwatch record --serial PORT | --ble NAME | --virtual [SCENARIO] [--out FILE]
[--duration S] [--speed X] [--force] [--on-alert CMD] [--no-dashboard]`: live session.

Records (native ``.twr`` under the data folder's ``sessions/`` unless ``--out``), detects, prints
alerts, stores the session in the local SQLite store and serves the dashboard. With no source
option the sensor is found on USB by its VID/PID. Ctrl-C closes everything cleanly.

``--virtual`` runs the simulated device on a real pseudo-terminal and reads it through the same
serial source as a real sensor (so the serial path is exercised end to end).
"""

from __future__ import annotations

import asyncio
import math
import signal
import sys
from pathlib import Path

from twitchwatch.core.classify import load_classifier
from twitchwatch.core.detector import make_detector
from twitchwatch.dashboard.server import start_dashboard
from twitchwatch.errors import ConfigError, RefuseOverwrite
from twitchwatch.hub import Hub
from twitchwatch.live import LivePipeline
from twitchwatch.recording import default_session_name, format_clock
from twitchwatch.sessions import apply_retention, close_crashed
from twitchwatch.sources.serial import SerialSource
from twitchwatch.store import Store, default_data_dir, default_db_path

# The virtual device (the simulator, scipy.signal), BLE (bleak), LSL (liblsl) and BrainFlow
# transports are imported where their option is chosen: each costs start-up time or native
# libraries that a session on another source never needs.

DEFAULT_DASHBOARD_PORT = 8765


def add_source_arguments(p) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--serial", metavar="PORT", help="serial port of the sensor (default: find it by USB VID/PID)")
    which.add_argument("--ble", metavar="NAME", help="BLE sensor by advertised name or address")
    which.add_argument("--virtual", nargs="?", const="demo", metavar="SCENARIO",
                       help="the built-in virtual device playing SCENARIO (default: demo); a name or "
                            "a text like 'quiet:60,rhythmic_jerking:45'")
    which.add_argument("--brainflow", metavar="BOARD",
                       help="a BrainFlow board by name or id (synthetic, cyton, playback_file, ...; "
                            "see `twitchwatch devices`)")
    p.add_argument("--brainflow-param", action="append", default=[], metavar="KEY=VALUE",
                   help="a BrainFlowInputParams field for --brainflow (serial_port=/dev/ttyUSB0, "
                        "file=F, master_board=cyton, ...); repeatable")


def add_live_arguments(p) -> None:
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds (default: Ctrl-C)")
    p.add_argument("--speed", type=float, default=1.0, metavar="X",
                   help="--virtual only: play X times faster than real time")
    p.add_argument("--seed", type=int, default=1, help="--virtual only: simulated subject and recording seed")
    p.add_argument("--placement", choices=("foot", "wrist"), default=None, help="override the device's placement")
    p.add_argument("--classifier", choices=("model", "baseline"), default="model",
                   help="the trained model (default) or the rule-based baseline")
    p.add_argument("--on-alert", metavar="CMD", default=None,
                   help="run this shell command for each alert, with the alert as JSON on stdin")
    p.add_argument("--no-dashboard", action="store_true", help="do not serve the dashboard")
    p.add_argument("--dashboard-port", type=int, default=DEFAULT_DASHBOARD_PORT, metavar="N",
                   help=f"dashboard port on 127.0.0.1 (default {DEFAULT_DASHBOARD_PORT}; 0 = any free port)")
    p.add_argument("--no-store", action="store_true", help="do not write the session to the local store")
    p.add_argument("--lsl", nargs="?", const=True, default=None, metavar="NAME_OR_QUERY",
                   help="alone: publish the raw samples and a marker stream of events, episodes and alerts "
                        "to Lab Streaming Layer; record --lsl NAME_OR_QUERY: read an LSL stream instead "
                        "(a name, 'prefix*' or an XPath predicate like \"type='EMG'\")")
    p.add_argument("--lsl-timeout", type=float, default=5.0, metavar="S",
                   help="how long --lsl NAME_OR_QUERY looks for a stream (default 5 s)")


def add_arguments(p) -> None:
    add_source_arguments(p)
    p.add_argument("--out", metavar="FILE", default=None,
                   help="session file to write (default: <data dir>/sessions/<date>-<source>.twr)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    add_live_arguments(p)


class VirtualLink:
    """The virtual device on a pty, closed with the session."""

    def __init__(self, scenario: str, speed: float, seed: int, loop: bool, placement: str | None):
        from twitchwatch.virtual import VirtualDevice, VirtualSerialPort

        if not (speed > 0):
            raise ConfigError(f"--speed {speed}: must be > 0")
        self.device = VirtualDevice(scenario, seed=seed, loop=loop, placement=placement)
        self.port = VirtualSerialPort(self.device, speed=speed).start()

    def truth(self, t_s: float | None) -> list:
        return self.device.annotations_until(float("inf") if t_s is None else t_s)

    def close(self) -> None:
        self.port.stop()


def make_source(args, loop_virtual: bool = False):
    """(source, virtual_link or None, source_name)."""
    if getattr(args, "virtual", None):
        link = VirtualLink(args.virtual, args.speed, args.seed, loop_virtual, args.placement)
        return SerialSource(link.port.path), link, f"virtual:{link.device.scenario.name}"
    if isinstance(getattr(args, "lsl", None), str):
        from twitchwatch.sources.lsl import LslSource

        if any(getattr(args, k, None) for k in ("serial", "ble", "virtual", "brainflow")):
            raise ConfigError("--lsl NAME_OR_QUERY is a source of its own; to publish another source to LSL, "
                              "give --lsl without a value")
        src = LslSource(args.lsl, timeout_s=args.lsl_timeout, placement=args.placement)
        return src, None, src.name
    if getattr(args, "brainflow", None):
        from twitchwatch.sources.brainflow import source_for_detector

        src = source_for_detector(args.brainflow, args.brainflow_param, args.placement,
                                  note=lambda text: print(f"twitchwatch: note: {text}", file=sys.stderr))
        return src, None, src.name
    if getattr(args, "ble", None):
        from twitchwatch.sources import ble

        return ble.BleSource.for_target(args.ble), None, f"ble:{args.ble}"
    return SerialSource(args.serial), None, args.serial or "serial"


def _virtual_placement(scenario: str) -> str:
    from twitchwatch.virtual import resolve_scenario

    return resolve_scenario(scenario).placement


def data_paths():
    """(data_dir, store path) from twitchwatch.store (``$TWITCHWATCH_HOME`` or ~/.local/share/twitchwatch)."""
    d = default_data_dir()
    return d, default_db_path(d)


async def run_live(args, *, out_path: Path | None, force: bool, loop_virtual: bool, banner: str = "") -> int:
    """Source -> LivePipeline (+ store, dashboard) until Ctrl-C / --duration / the source ends."""
    check_live_arguments(args)
    data_dir, db_path = data_paths()
    if args.placement or getattr(args, "virtual", None):
        # fail before opening anything when the classifier for a known placement cannot load
        load_classifier(args.placement or _virtual_placement(args.virtual), args.classifier)
    source, link, source_name = make_source(args, loop_virtual)
    store = None
    dashboard = None
    hub = Hub()
    try:
        if not args.no_store:
            store = Store(db_path)
            _tidy_store(store)
        if not args.no_dashboard:
            dashboard = await _start_dashboard(store, hub, args)

        def factory(info):
            return make_detector(info, placement=args.placement, classifier=args.classifier)

        if out_path is None:
            out_path = data_dir / "sessions" / default_session_name(source_name.rsplit("/", 1)[-1])
        pipeline = LivePipeline(
            source, factory, recording_path=out_path, force=force, store=store, hub=hub,
            on_alert=args.on_alert, source_name=source_name,
            truth=(lambda: link.truth(pipeline.summary.t_last_s)) if link else None,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
                pass
        async def announce():  # once the device has said what it is (not before a port error)
            await pipeline.started.wait()
            print(f"twitchwatch: recording {source_name} to {out_path}", file=sys.stderr, flush=True)
            if banner:
                print(banner, file=sys.stderr, flush=True)
            if dashboard is not None:
                print(f"twitchwatch: dashboard at {dashboard.url}", file=sys.stderr, flush=True)

        publisher = None
        if getattr(args, "lsl", None) is True:
            from twitchwatch.lsl import LslPublisher

            publisher = LslPublisher().attach(hub)
            publishing = asyncio.create_task(publisher.run())
        announcer = asyncio.create_task(announce())
        watcher = asyncio.create_task(_stop_when_virtual_ends(link, pipeline, stop)) if link and not loop_virtual else None
        try:
            summary = await pipeline.run(duration_s=args.duration, stop=stop)
        finally:
            announcer.cancel()
            if watcher:
                watcher.cancel()
            if publisher is not None:
                await asyncio.gather(publishing, return_exceptions=True)  # the hub is closed: it ends
                publisher.close()
        _print_summary(summary)
        return 1 if summary.detector_error else 0
    finally:
        if dashboard is not None:
            await dashboard.stop()
        if link is not None:
            link.close()
        if store is not None:
            store.close()


def check_live_arguments(args) -> None:
    """Refuse out-of-range options before anything is opened or written (one line, exit 2)."""
    d = getattr(args, "duration", None)
    if d is not None and not (math.isfinite(d) and d > 0):
        raise ConfigError(f"--duration {d:g}: must be a number of seconds > 0 (nothing was recorded)")
    port = getattr(args, "dashboard_port", DEFAULT_DASHBOARD_PORT)
    if not getattr(args, "no_dashboard", False) and not 0 <= port <= 65535:
        raise ConfigError(f"--dashboard-port {port}: must be 0..65535 (0 = any free port)")
    speed = getattr(args, "speed", 1.0)
    if not (math.isfinite(speed) and 0 < speed <= 1000):
        raise ConfigError(f"--speed {speed:g}: must be > 0 and at most 1000")


def _tidy_store(store) -> None:
    """Before a new session: close sessions a killed recorder left open (from their recording
    files) and delete sessions past the retention setting."""
    for sid, d in close_crashed(store):
        print(f"twitchwatch: session {sid} was left open (recorder stopped abruptly); closed from its "
              f"recording at {format_clock(d)}", file=sys.stderr)
    for r in apply_retention(store):
        print(f"twitchwatch: deleted session {r['id']} (older than the retention setting)", file=sys.stderr)


async def _start_dashboard(store, hub, args):
    """The dashboard served in this event loop, or None with a note when it is not available."""
    if store is None:
        print("twitchwatch: no dashboard without the store (--no-store)", file=sys.stderr)
        return None
    try:
        return await start_dashboard(store, hub, host="127.0.0.1", port=args.dashboard_port)
    except ConfigError as exc:
        if args.dashboard_port != DEFAULT_DASHBOARD_PORT:
            raise  # the user asked for that port
        # the default port is taken (another twitchwatch running?): any free port will do
        print(f"twitchwatch: {exc}; using a free port instead", file=sys.stderr)
        return await start_dashboard(store, hub, host="127.0.0.1", port=0)


async def _stop_when_virtual_ends(link, pipeline, stop: asyncio.Event) -> None:
    """A finite virtual scenario has ended: stop once the last bytes have been processed."""
    while not link.port.finished.is_set():
        await asyncio.sleep(0.1)
    last = -1
    while pipeline.items_processed != last:
        last = pipeline.items_processed
        await asyncio.sleep(0.3)
    stop.set()


def _print_summary(s) -> None:
    alarms = sum(1 for a in s.alerts if a.level == "alarm")
    warnings = sum(1 for a in s.alerts if a.level == "warning")
    faults = sum(1 for a in s.alerts if a.level == "fault")
    print(f"twitchwatch: {s.stopped_by}; {format_clock(s.duration_s)} of signal, {s.events} events, "
          f"{s.episodes} episodes, alerts: {alarms} alarm, {warnings} warning, {faults} fault; "
          f"{s.faults} source faults, {s.reconnects} reconnects"
          + (f"; session #{s.session_id}" if s.session_id is not None else "")
          + (f"; recording {s.recording_path}" if s.recording_path else ""), file=sys.stderr)
    if s.subscriber_drops:
        lost = ", ".join(f"{name}: {n}" for name, n in s.subscriber_drops.items())
        print(f"twitchwatch: slow subscribers lost their own oldest items ({lost}); detection lost none",
              file=sys.stderr)
    if s.detector_error:
        print(f"twitchwatch: error: the detector failed ({s.detector_error}); the recording is complete",
              file=sys.stderr)


def run(args) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.force:
        raise RefuseOverwrite(f"{out}: already exists; use --force to overwrite it")
    return asyncio.run(run_live(args, out_path=out, force=args.force, loop_virtual=False))
