"""The local web app: FastAPI routes, the live feed over WebSocket, and the static page.

Owns: HTTP and WebSocket endpoints, decimation of traces for display, guidance texts, the report.
Reads the store's read models (:mod:`twitchwatch.store`) and subscribes to the hub
(:mod:`twitchwatch.hub`); never calls the detector or a source.
"""
