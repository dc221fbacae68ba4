"""`twitchwatch ...`: the command line.

Each subcommand lives in its own module under ``twitchwatch.commands`` with two functions:
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only when their command
runs, so ``twitchwatch --help`` stays fast and one broken optional dependency cannot break the rest.

Every :class:`~twitchwatch.errors.TwitchwatchError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from twitchwatch import __version__
from twitchwatch.errors import TwitchwatchError

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("twitchwatch.commands.demo", "run the virtual device through the live pipeline and the dashboard"),
    "record": ("twitchwatch.commands.record", "record from a sensor (serial, BLE or virtual), detect and print alerts"),
    "replay": ("twitchwatch.commands.replay", "replay a recorded session or dataset file through the detector"),
    "export": ("twitchwatch.commands.export", "export a session to EDF+ or CSV"),
    "devices": ("twitchwatch.commands.devices", "list serial ports and BLE sensors found"),
    "dashboard": ("twitchwatch.commands.dashboard", "serve the dashboard on the local store"),
    "sessions": ("twitchwatch.commands.sessions", "list, show, delete or prune stored sessions and their recordings"),
    "train": ("twitchwatch.commands.train", "train the window classifier on simulated subjects"),
    "evaluate": ("twitchwatch.commands.evaluate", "score the detector on simulated (--sim) or real (--real DIR) data"),
    "bench": ("twitchwatch.commands.bench", "measure speed and memory (one run, ratios against baselines)"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twitchwatch", description="Open wearable twitch detector.")
    parser.add_argument("--version", action="version", version=f"twitchwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == only:
            importlib.import_module(module_name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        command = None
    try:
        parser = build_parser(only=command)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        module = importlib.import_module(COMMANDS[args.command][0])
        return int(module.run(args) or 0)
    except TwitchwatchError as exc:
        print(f"twitchwatch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twitchwatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
