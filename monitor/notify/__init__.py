"""Notifications from the console's own verdicts (issue 16): Apprise channels, one message per
meaningful change, reminders, maintenance windows, a heartbeat. See dispatcher.py.

Importing this package imports neither Apprise nor its dependencies (channels.py does, when a
channel is built).
"""
from .dispatcher import Notifier, notifier_of
from .settings import NotifySettings, redacted

__all__ = ["Notifier", "NotifySettings", "notifier_of", "redacted"]
