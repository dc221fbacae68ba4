"""`twitchwatch dashboard [--port P] [--host H] [--token T] [--data-dir D]`: serve the store.

Serves the review, history and report pages on the local store (no live sensor: `record` and
`demo` start the same dashboard with their live pipeline). Runs until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from twitchwatch.dashboard.security import check_bind
from twitchwatch.dashboard.server import start_dashboard
from twitchwatch.errors import ConfigError
from twitchwatch.store import DB_NAME, Store, default_data_dir


#: Seconds open connections get to finish after Ctrl-C.
STOP_GRACE_S = 1.0


def add_arguments(p) -> None:
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs --token)")
    p.add_argument("--token", default=os.environ.get("TWITCHWATCH_TOKEN"), help="require this token on every request (env TWITCHWATCH_TOKEN)")
    p.add_argument("--data-dir", type=Path, default=None, help="data folder (default $TWITCHWATCH_HOME or ~/.local/share/twitchwatch)")


async def _serve(args) -> int:
    data_dir = args.data_dir if args.data_dir is not None else default_data_dir()
    store = Store(Path(data_dir) / DB_NAME)
    try:
        handle = await start_dashboard(store, hub=None, host=args.host, port=args.port, token=args.token)
        # Ctrl-C (or SIGTERM) once ends it promptly: open browser connections get a bounded grace
        # period, not a say; a second Ctrl-C ends it at once
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if stop.is_set():
                os._exit(130)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        print(f"twitchwatch dashboard: {handle.url}  (data: {store.path}; Ctrl-C to stop)", file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            print("twitchwatch dashboard: stopping", file=sys.stderr, flush=True)
            await handle.stop(grace_s=STOP_GRACE_S)
    finally:
        store.close()
    return 0


def run(args) -> int:
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"dashboard: --port must be 0..65535, got {args.port}")
    check_bind(args.host, args.token)  # before the heavy imports: a refusal is instant
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
