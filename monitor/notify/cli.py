"""``python main.py notify-test``: a test message to every configured channel, one line each.

    $ python main.py notify-test
    sent    mailtos://smtp.example.com/…
    FAILED  json://127.0.0.1:9/…: A Connection error occurred sending JSON notification to 127.0.0.1.

Exit status 0 when every channel took it, 1 when one failed, 2 when none is configured.
"""
from __future__ import annotations

import asyncio

from .dispatcher import Notifier
from .settings import NotifySettings


def notify_test(settings: NotifySettings, out=print) -> int:
    if not settings.channels:
        out("no notification channel configured (notify.channels, see README \"Notifications\")")
        return 2
    results = asyncio.run(Notifier(settings, store=None).test()) or []
    for label, error in results:
        out(f"{'sent' if error is None else 'FAILED':7} {label}" + (f": {error}" if error else ""))
    return 0 if all(error is None for _, error in results) else 1
