"""The one error hierarchy of twitchwatch.

Every error a user can cause (a bad file, a missing port, a device that speaks another protocol
version, a corrupt model) is a :class:`TwitchwatchError` subclass whose message is one readable
line naming the file or device and what is wrong. The CLI prints that line and exits 2.
"""

from __future__ import annotations


class TwitchwatchError(Exception):
    """Root of every error twitchwatch raises on purpose."""


class ConfigError(TwitchwatchError):
    """A setting or argument that cannot work (absurd rate, unknown scenario, ...)."""


class ProtocolVersionError(TwitchwatchError):
    """The device speaks a protocol version the host does not."""

    def __init__(self, device: str, device_version: int, host_version: int):
        self.device = device
        self.device_version = device_version
        self.host_version = host_version
        super().__init__(
            f"{device}: device speaks protocol version {device_version}, "
            f"this host speaks version {host_version}"
        )


class DeviceError(TwitchwatchError):
    """A port or BLE device that does not exist, is busy, or vanished for good."""


class FileFormatError(TwitchwatchError):
    """A file that is missing, truncated, corrupt or not of the format it claims."""


class ModelError(TwitchwatchError):
    """A model file that is missing, corrupt, or holds types we do not trust."""


class StoreError(TwitchwatchError):
    """The SQLite store cannot be opened or migrated."""


class RefuseOverwrite(TwitchwatchError):
    """A user's file would be overwritten without --force."""
