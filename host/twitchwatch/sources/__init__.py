"""Sources: everything that yields the same async stream of items (DeviceInfo first, then
Chunk, Fault, Mark, Status; see :mod:`twitchwatch.sources.base`).

- :mod:`~twitchwatch.sources.base`: the contract (``Source``, ``FileSource``, ``ByteLink``);
- :mod:`~twitchwatch.sources.link`: ``LinkSession``, the one session over a byte link (HELLO,
  announce gate, reconnect with backoff, link events, the link-loss fault);
- :mod:`~twitchwatch.sources.device_stream`: protocol bytes -> items (pure), used by the session;
- :mod:`~twitchwatch.sources.serial`, :mod:`~twitchwatch.sources.ble`: byte links for USB serial
  (pyserial) and Bluetooth LE (bleak), and their sessions;
- :mod:`~twitchwatch.sources.brainflow`, :mod:`~twitchwatch.sources.lsl`: lab sources;
- :mod:`~twitchwatch.sources.files`: recorded sessions and public dataset files.

Owns: turning the outside world into items. May import ``model``, ``errors``, ``protocol``,
``recording`` (native sessions) and ``core.config`` (rates); never the detector, the store, the
hub or the dashboard. Submodules are imported on use (each pulls in its own transport library).
"""
