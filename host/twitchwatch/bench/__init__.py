"""`twitchwatch bench`: speed and memory, measured in one run, reported as ratios.

Each part is a module in this package with ``run(quick: bool) -> dict`` returning flat, JSON-ready
figures (keys documented in the module). The runner merges them into one dict; the top-level keys
promised in the README come from the parts named here.
"""

from __future__ import annotations

import importlib

#: part name -> module. Order is the order they run and print.
PARTS: dict[str, str] = {
    "protocol": "twitchwatch.bench.protocol",
    "core": "twitchwatch.bench.core",
    "speed": "twitchwatch.bench.speed",
    "replay": "twitchwatch.bench.replay",
    "dashboard": "twitchwatch.bench.dashboard",
    "integrations": "twitchwatch.bench.integrations",
}


def run_parts(names: list[str] | None = None, quick: bool = False) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for name in names or list(PARTS):
        module = importlib.import_module(PARTS[name])
        results[name] = module.run(quick=quick)
    return results
