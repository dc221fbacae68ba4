"""`twitchwatch demo [--duration S]`: the built-in virtual device through the live pipeline.

The virtual device plays the "demo" scenario (fasciculations, walking, a rhythmic-jerking episode,
tremor; looped) in real time over a pseudo-terminal; the session is recorded and stored in the
data folder (``$TWITCHWATCH_HOME`` or ~/.local/share/twitchwatch), alerts are printed, and the
dashboard is served (its URL printed). Runs until Ctrl-C or for S seconds.
"""

from __future__ import annotations

import argparse
import asyncio

from twitchwatch.commands.record import add_live_arguments, run_live


def add_arguments(p) -> None:
    p.add_argument("--scenario", default="demo", help="virtual device scenario (default: demo)")
    add_live_arguments(p)


def run(args) -> int:
    args = argparse.Namespace(**vars(args))
    args.virtual = args.scenario
    args.serial = args.ble = None
    banner = (f"twitchwatch: demo: the virtual device plays '{args.scenario}' at {args.speed:g}x real time "
              "(simulated signals, not a person); Ctrl-C to stop")
    return asyncio.run(run_live(args, out_path=None, force=False, loop_virtual=True, banner=banner))
