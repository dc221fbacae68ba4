"""Peak resident memory of the current process, for the bench's child processes.

A module of its own (standard library only) so that a child measuring its own peak imports nothing
that would raise it.
"""

from __future__ import annotations

from pathlib import Path


def vmhwm_mb() -> float:
    """This process's peak resident memory, MB (``VmHWM`` of /proc/self/status; 0 where /proc is
    not available). ``ru_maxrss`` would report the parent's high-water mark inherited across
    fork/exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0
