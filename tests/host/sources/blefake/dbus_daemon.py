"""A private D-Bus daemon for the BLE tests: the fake ``org.bluez`` lives on it, bleak talks to it.

bleak's BlueZ backend connects to the *system* bus, whose address it takes (through dbus-fast)
from ``DBUS_SYSTEM_BUS_ADDRESS``. Pointing that variable at this daemon makes the unmodified bleak
code path talk to the fake BlueZ service in :mod:`fake_bluez`, over a real D-Bus socket.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess
from pathlib import Path

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies, however it dies, so a
    killed pytest leaves no dbus-daemon behind (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class PrivateBus:
    """A ``dbus-daemon`` process listening on a socket inside ``workdir``.

    Parameters
    ----------
    workdir : directory for the config file and the socket (keep the path short: a unix socket
        path is limited to 107 bytes)
    start_timeout_s : seconds to wait for the daemon to print its address
    """

    def __init__(self, workdir: Path, start_timeout_s: float = 10.0):
        exe = shutil.which("dbus-daemon")
        if exe is None:
            raise RuntimeError("dbus-daemon not found (Debian package 'dbus-daemon')")
        workdir.mkdir(parents=True, exist_ok=True)
        socket = workdir / "bus.sock"
        if len(str(socket)) > 100:
            raise RuntimeError(f"socket path too long for AF_UNIX: {socket}")
        config = workdir / "bus.conf"
        config.write_text(_CONFIG.format(socket=socket))
        self.process = subprocess.Popen(
            [exe, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], start_timeout_s)
        line = self.process.stdout.readline().decode().strip() if ready else ""
        if not line:
            self.close()
            raise RuntimeError(f"dbus-daemon did not start within {start_timeout_s} s")
        self.address = line

    def close(self) -> None:
        """Stop the daemon and reap it (no process is left behind)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None and os.path.exists(f"/proc/{self.process.pid}")
