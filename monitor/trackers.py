"""State over time: per (check, subject) a ``Tracker`` keeps the hold time (``for``) before a state
rises and the hysteresis (``clear``) before it lowers; ``Levels`` are a threshold's levels with
their clear points.

>>> lv = Levels.of(Threshold(warning=90, critical=98, for_=60, clear=80))
>>> t = Tracker()
>>> t.step(0, 95, lv), t.step(59, 95, lv), t.step(60, 95, lv)  # warning once held for 60 s
('ok', 'ok', 'warning')
>>> t.step(61, 85, lv), t.step(62, 79, lv)  # stays until back under clear (80)
('warning', 'ok')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .thresholds import Threshold, clear_levels

State = Literal["ok", "warning", "critical", "unknown"]
RANK = {"ok": 0, "warning": 1, "critical": 2}  # the levels a tracker moves between


@dataclass(frozen=True)
class Levels:
    warning: float | None
    critical: float | None
    for_: float
    warning_clear: float | None
    critical_clear: float | None
    direction: str = "above"

    @classmethod
    def of(cls, t: Threshold, direction: str = "above") -> Levels:
        wc, cc = clear_levels(t, direction)  # type: ignore[arg-type]
        return cls(t.warning, t.critical, t.for_, wc, cc, direction)

    def past(self, value: float, level: float | None) -> bool:
        """At or beyond ``level`` on the bad side (>= for "above", <= for "below")."""
        if level is None:
            return False
        return value >= level if self.direction == "above" else value <= level


@dataclass
class Tracker:
    """One check on one subject across ticks: hold time before rising, hysteresis before lowering."""
    state: State = "ok"
    since: float | None = None
    holding: dict[str, float] = field(default_factory=dict)  # level -> since when it holds

    def step(self, now: float, value: float, lv: Levels) -> State:
        if self.since is None:
            self.since = now
        # How long has each level held without a break (Prometheus' ``for``: a dip resets it)?
        for name, level in (("warning", lv.warning), ("critical", lv.critical)):
            if lv.past(value, level):
                self.holding.setdefault(name, now)
            else:
                self.holding.pop(name, None)
        risen: State = "ok"
        for name in ("warning", "critical"):
            start = self.holding.get(name)
            if start is not None and now - start >= lv.for_:
                risen = name  # type: ignore[assignment]
        # Hysteresis: a raised state stays until the value is back past its clear level.
        kept: State = "ok"
        if self.state == "critical" and lv.past(value, lv.critical_clear):
            kept = "critical"
        elif self.state != "ok" and lv.past(value, lv.warning_clear):
            kept = "warning"
        new = max(risen, kept, key=RANK.__getitem__)
        if new != self.state:
            # Rising: the state holds since the condition began; lowering: from now.
            self.since = self.holding.get(new, now) if RANK[new] > RANK[self.state] else now
            self.state = new
        return self.state

    def pending(self, now: float, lv: Levels) -> tuple[str, float] | None:
        """The worst level past but still inside its hold: (level, seconds left if it stays);
        None when nothing is coming. The state itself is unchanged (see ``step``).

        >>> lv = Levels.of(Threshold(warning=90, critical=98, for_=60))
        >>> t = Tracker(); t.step(0, 99, lv); t.pending(20, lv)
        'ok'
        ('critical', 40.0)
        """
        for name in ("critical", "warning"):
            start = self.holding.get(name)
            if start is not None and RANK[name] > RANK.get(self.state, 0):
                left = lv.for_ - (now - start)
                if left > 0:
                    return name, left
        return None



def sensor_threshold(t: Threshold, high: float | None, crit: float | None) -> Threshold:
    """Warning at the sensor's high and critical at its critical; the configured levels where
    the sensor reports none; the configured hysteresis margin below the warning level."""
    w = high if high is not None else t.warning
    c = crit if crit is not None else t.critical
    if w is not None and c is not None and w > c:
        w = c
    margin = (t.warning - t.clear) if t.warning is not None and t.clear is not None else 0.0
    clear = None if w is None else w - margin
    return Threshold(warning=w, critical=c, for_=t.for_, clear=clear, enabled=t.enabled)
