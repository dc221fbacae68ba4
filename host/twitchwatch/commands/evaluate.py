"""`twitchwatch evaluate --sim | --real DIR [--json] [--placement P]`.

``--sim`` scores on simulated subjects never used in training (twitchwatch.evaluation.sim);
``--real DIR`` replays public recordings and compares with the OpenSeizureDetector baseline
(twitchwatch.evaluation.real).
"""

from __future__ import annotations

from twitchwatch.evaluation import real, sim


def add_arguments(p) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--sim", action="store_true", help="simulated held-out subjects")
    which.add_argument("--real", metavar="DIR", help="folder of public recordings (see its README)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--placement", choices=("foot", "wrist"), default=None,
                   help="sensor placement (default: foot for --sim, each dataset's own for --real)")
    p.add_argument("--quick", action="store_true", help="a smaller corpus, for smoke tests")
    p.add_argument("--seed", type=int, default=None, help="--sim: first seed of the held-out corpus")


def run(args) -> int:
    return int((sim.run(args) if args.sim else real.run(args)) or 0)
