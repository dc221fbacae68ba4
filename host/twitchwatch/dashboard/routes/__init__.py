"""The dashboard's HTTP and WebSocket routes, one ``APIRouter`` per concern.

``static`` (the app and its files), ``review`` (sessions, timelines, alerts and their signal),
``labels`` (labels on alerts, their export, the settings), ``history`` (counts and the printable
report), ``live`` (the live state, acknowledgements and the ``/ws/live`` WebSocket). Each module
builds its router from the store (and the live feed) it serves; :func:`twitchwatch.dashboard.server.create_app`
puts them together. The security rules (token, Host and Origin checks) wrap the whole app in
:class:`twitchwatch.dashboard.security.Guard`, so no route can skip them.
"""
