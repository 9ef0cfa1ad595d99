"""Notifications from the console's own verdicts (issue 16): Apprise channels, one message per
meaningful change, reminders, maintenance windows, a heartbeat. See dispatcher.py.

This package's own module holds only which notifier serves which store: importing it (as
monitor/settings.py does for ``notify.settings``) imports none of the machinery. The dispatcher
and what it needs (changes, routing, message, maintenance, worker) are imported when
notifications are configured, or when a page or ``POST /api/maintenance`` first asks for the
notifier (views/notifications.py); Apprise only when a channel is built (channels.py).
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dispatcher import Notifier

# Store -> weak reference to its Notifier (both weak: an app built by a test and dropped goes away).
_live: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def register(store, notifier: Notifier) -> None:
    _live[store] = weakref.ref(notifier)


def notifier_of(store) -> Notifier | None:
    ref = _live.get(store)
    return ref() if ref is not None else None


def live_notifiers() -> list[Notifier]:
    return [n for n in (ref() for ref in list(_live.values())) if n is not None]


__all__ = ["live_notifiers", "notifier_of", "register"]
