"""Sources: everything that yields the same async stream of items (DeviceInfo first, then
Chunk, Fault, Mark, Status; see :mod:`twitchwatch.sources.base`).

- :mod:`~twitchwatch.sources.serial`: a sensor on USB serial (or any pty), found by VID/PID;
- :mod:`~twitchwatch.sources.ble`: a sensor over Bluetooth LE (bleak);
- :mod:`~twitchwatch.sources.virtual`: the simulated device speaking protocol v1 over a real pty;
- :mod:`~twitchwatch.sources.files`: recorded sessions and public dataset files;
- :mod:`~twitchwatch.sources.device_stream`: protocol bytes -> items, shared by serial and BLE.

Submodules are imported on use (BLE and the file readers pull in optional dependencies).
"""
