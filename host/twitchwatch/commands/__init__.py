"""One module per ``twitchwatch`` command: ``add_arguments(parser)`` and ``run(args) -> int``.

Owns: turning command-line arguments into calls of the library (``live``, ``replay``, ``batch``,
``export``, ``store``, ``dashboard``, ``evaluation``, ``bench``) and printing their results. Holds
no logic of its own that a library user would need; may import any package below ``cli``.
"""
