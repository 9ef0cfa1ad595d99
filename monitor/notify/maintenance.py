"""Maintenance windows and quiet hours: when warnings are held (and critical too, if it says so).

Two sources: the daily ``quiet_hours`` of the settings (local time of the host) and a window set
at run time with ``POST /api/maintenance?minutes=N`` (kept in memory: a restart ends it).

>>> m = Maintenance([QuietHours(start="22:00", end="07:00")])
>>> import datetime as dt
>>> at = lambda h, mi: dt.datetime(2026, 12, 1, h, mi).timestamp()
>>> [m.window(at(h, 0)) is not None for h in (21, 23, 3, 7)]
[False, True, True, False]
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .settings import QuietHours


@dataclass(frozen=True)
class Window:
    until: float  # epoch seconds
    hold_critical: bool
    why: str  # "maintenance (set from 127.0.0.1)" / "quiet hours 22:00-07:00"

    def holds(self, state: str) -> bool:
        """Whether a message about ``state`` is held while this window is on."""
        return state != "critical" or self.hold_critical


class Maintenance:
    def __init__(self, quiet: list[QuietHours] | None = None) -> None:
        self.quiet = list(quiet or [])
        self.manual: Window | None = None

    def set(self, now: float, minutes: float, hold_critical: bool = False, who: str = "") -> Window | None:
        """Start (or replace) a window of ``minutes``; 0 ends the current one."""
        if minutes <= 0:
            self.manual = None
            return None
        self.manual = Window(now + minutes * 60, hold_critical, "maintenance" + (f" (set by {who})" if who else ""))
        return self.manual

    def window(self, now: float) -> Window | None:
        """The window in force at ``now`` (the manual one first), or None."""
        if self.manual is not None:
            if now < self.manual.until:
                return self.manual
            self.manual = None
        local = _dt.datetime.fromtimestamp(now)
        minute = local.hour * 60 + local.minute
        for q in self.quiet:
            start, end = _minutes(q.start), _minutes(q.end)
            inside = start <= minute < end if start <= end else (minute >= start or minute < end)
            if inside and start != end:
                left = (end - minute) % 1440 or 1440
                until = local.replace(second=0, microsecond=0) + _dt.timedelta(minutes=left)
                return Window(until.timestamp(), q.hold_critical, f"quiet hours {q.start}-{q.end}")
        return None


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
