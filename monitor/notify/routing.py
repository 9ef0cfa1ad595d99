"""Routing: what one channel gets from one tick's changes, and the message it makes.

Per channel: its level (a warning channel gets warnings and critical, a critical one critical),
its check filter, what it was told (a recovery goes only where the episode was told; an episode
that lowers or resumes after a restart is remembered, not sent), the maintenance window (what it
holds is released once the window is over if still open), and a reminder every ``remind_every``
seconds for what it was told and is still open.
"""
from __future__ import annotations

import asyncio
import fnmatch
import threading
from collections import deque
from dataclasses import dataclass, field

from ..health import SEVERITY, state
from .changes import ENDED, Item
from .maintenance import Window
from .message import Message, compose, when

OTHERS_MAX = 20  # "also not ok" lines in one message


@dataclass
class Route:
    """One channel's state: what it was told, what is held, its queue and its record."""
    target: object  # channels.Target (made on start: Apprise is imported then)
    label: str
    level: str
    checks: list[str]
    told: dict[str, tuple[str, float]] = field(default_factory=dict)  # key -> (state, last sent)
    held: dict[str, Item] = field(default_factory=dict)  # key -> item held by a window
    queue: deque = field(default_factory=deque)
    dropped: int = 0
    sent: int = 0
    failed: int = 0  # messages given up after every retry
    failing_since: float | None = None
    last_error: str | None = None
    last_ok: float | None = None
    wake: asyncio.Event | None = None
    thread: threading.Thread | None = None  # the last attempt's: one at a time per channel

    def wants(self, item: Item) -> bool:
        if not self.checks or item.key == "judging":  # a failed judgment hides every check
            return True
        names = [n for n in (item.check, item.area) if n]
        return any(fnmatch.fnmatchcase(n, p) for p in self.checks for n in names)

    def passes(self, st: str) -> bool:
        return st != "warning" or self.level == "warning"


def route(r: Route, changes: list[Item], opened: dict[str, Item], window: Window | None, now: float,
      remind_every: float) -> list[Item]:
    """What this channel gets this tick: its changes (past its level and filter, not held by a
    window), what a window held and still is open once the window is over, and reminders."""
    out: list[Item] = []
    for it in changes:
        if not r.wants(it):
            continue
        if it.kind in ENDED:
            r.held.pop(it.key, None)
            if r.told.pop(it.key, None) is not None:
                out.append(it)
            continue
        if it.kind in ("lowered", "resumed"):  # told before: remember the state, say nothing
            if r.passes(it.state) and (it.key in r.told or it.kind == "resumed"):
                r.told[it.key] = (it.state, now)
            continue
        if not r.passes(it.state):
            continue
        if window is not None and window.holds(it.state):
            r.held[it.key] = it
            continue
        r.held.pop(it.key, None)
        out.append(it)
        r.told[it.key] = (it.state, now)
    done = {it.key for it in out}
    for key in [k for k in r.held if k not in opened]:
        del r.held[key]
    for key, cur in opened.items():
        if key in done or not r.wants(cur) or not r.passes(cur.state):
            continue
        if window is not None and window.holds(cur.state):
            continue
        if key in r.held:  # held by a window that is over (or does not hold this state now)
            del r.held[key]
            out.append(cur.with_kind("held"))
            r.told[key] = (cur.state, now)
        elif key in r.told and remind_every and \
                now - r.told[key][1] >= remind_every:
            out.append(cur.with_kind("reminder"))
            r.told[key] = (cur.state, now)
    return out


def message_for(snap, items: list[Item], window: Window | None, host: str, public_url: str) -> Message:
    """The message of one tick's items for one channel, with what else is not ok."""
    in_items = {it.key for it in items}
    bad = sorted((v for v in snap.verdicts if v.state != "ok" and v.key not in in_items
                  and "unknown:" + v.key not in in_items),
                 key=lambda v: -SEVERITY.get(v.state, 2))
    others = [f"{v.state.upper()} {v.check} {v.subject}".rstrip() + f": {v.reason} (since {when(v.since)})"
              for v in bad[:OTHERS_MAX]]
    if len(bad) > OTHERS_MAX:
        others.append(f"... and {len(bad) - OTHERS_MAX} more")
    n_bad = sum(1 for v in snap.verdicts if v.state != "ok")
    headline = (f"not judged: {snap.judge_error}" if snap.judge_error else
                f"{n_bad} of {len(snap.verdicts)} checks not ok" if n_bad else
                f"all {len(snap.verdicts)} checks ok")
    note = ""
    if window is not None:
        held = "warnings and critical" if window.hold_critical else "warnings"
        note = f"{window.why} until {when(window.until)}: {held} held"
    return compose(host, snap.taken_at, state(snap), headline, items, others, public_url, note)
