"""`twitchwatch bench [--json] [--part P ...] [--quick]`."""

from __future__ import annotations

import json
import sys

from twitchwatch.bench import PARTS, run_parts


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object (top-level keys merged from all parts)")
    p.add_argument("--part", action="append", choices=list(PARTS), help="run only this part (repeatable)")
    p.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke test (figures less stable)")


def run(args) -> int:
    results = run_parts(args.part, quick=args.quick)
    merged: dict = {}
    for part in results.values():
        merged.update(part)
    if args.json:
        json.dump(merged, sys.stdout, indent=2, default=float)
        print()
        return 0
    for name, figures in results.items():
        print(f"== {name}")
        width = max((len(k) for k in figures), default=0)
        for key, value in figures.items():
            shown = f"{value:,.3g}" if isinstance(value, float) else str(value)
            print(f"  {key:<{width}}  {shown}")
    return 0
