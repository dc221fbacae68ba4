"""twitchwatch: an open wearable twitch detector (host side)."""

__version__ = "0.1.0"
