"""A moment: what was happening at one minute, from the rollups, the minute records and the events.

    moment(db, events, t) -> Moment
        verdicts       the checks not ok during that minute (worst state of the minute)
        open_events    episodes open at t (monitor/events.py), the "host rebooted" ones included
        top_cpu, top_memory   the busiest processes of that minute (pid, started, masked command)
        log_counts, log_lines error lines per source and the lines themselves within +-2 min
        changes        series whose mean in the 5 minutes up to t moved most against the 30
                       minutes before them; events that began in the 15 minutes before; processes
                       in that minute's top lists that were in none of the 5 minutes before

Everything here is full scope (command lines, log text): views/auth.py keeps /history/at/ and
/api/history/at/ from the display scope.
"""
from __future__ import annotations

from pydantic import BaseModel, Field

from .db import HistoryDB

AROUND = 2  # minutes either side for log lines
RECENT, BASELINE = 5, 30  # minutes compared for "what changed"
CHANGES_SHOWN = 8


class Change(BaseModel):
    metric: str
    before: float = Field(description=f"mean over the {BASELINE} minutes before the last {RECENT}")
    recent: float = Field(description=f"mean over the {RECENT} minutes up to the moment")


class Moment(BaseModel):
    at: float = Field(description="the time asked for, epoch seconds")
    minute: float = Field(description="the start of its minute, epoch seconds")
    recorded: bool = Field(description="whether the console recorded that minute")
    state: str = Field(description="worst verdict state that minute; unknown when not recorded")
    verdicts: list[dict] = Field(default_factory=list)
    open_events: list[dict] = Field(default_factory=list)
    top_cpu: list[dict] = Field(default_factory=list)
    top_memory: list[dict] = Field(default_factory=list)
    values: dict[str, float] = Field(default_factory=dict, description="each series' mean that minute")
    log_counts: dict[str, int] = Field(default_factory=dict, description=f"error lines per source, +-{AROUND} min")
    log_lines: list[dict] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    events_before: list[dict] = Field(default_factory=list)
    new_processes: list[dict] = Field(default_factory=list)


def moment(db: HistoryDB, events, t: float) -> Moment:
    m = int(t // 60)
    records = {r["minute"]: r for r in db.minutes(m - RECENT, m + AROUND)}
    this = records.get(m)
    out = Moment(at=t, minute=m * 60, recorded=this is not None,
                 state="unknown" if this is None else _worst(this["verdicts"] or []))
    if this is not None:
        out.verdicts = this["verdicts"] or []
        top = this["top"] or {}
        out.top_cpu, out.top_memory = top.get("cpu", []), top.get("memory", [])
        out.values = {name: mean for name, (mean, _) in db.means(m, m).items()}
        seen_before = {(p["pid"], p["started"]) for k in range(m - RECENT, m)
                       for p in _procs(records.get(k))}
        out.new_processes = [p for p in _unique(_procs(this)) if (p["pid"], p["started"]) not in seen_before]
    for k in range(m - AROUND, m + AROUND + 1):
        logs = (records.get(k) or {}).get("logs") or {}
        for source, n in (logs.get("counts") or {}).items():
            out.log_counts[source] = out.log_counts.get(source, 0) + n
        out.log_lines.extend(logs.get("lines") or [])
    recent = db.means(m - RECENT + 1, m)
    before = db.means(m - RECENT - BASELINE + 1, m - RECENT)
    changes = [Change(metric=n, before=before[n][0], recent=v) for n, (v, _) in recent.items() if n in before]
    changes.sort(key=lambda c: -_moved(c.before, c.recent))
    out.changes = [c for c in changes if _moved(c.before, c.recent) >= 0.2][:CHANGES_SHOWN]
    if events is not None:
        evs = [e.model_dump() for e in events.recent(events.keep)]
        out.open_events = [e for e in evs if e["start"] <= t + 60 and (e["end"] is None or e["end"] >= m * 60)]
        out.events_before = [e for e in evs if t - 900 <= e["start"] < m * 60]
    return out


def _moved(before: float, recent: float) -> float:
    """Relative change, with a floor under small values (1 % CPU to 3 % is not news)."""
    return abs(recent - before) / max(abs(before), abs(recent) * 0.1, 1.0)


def _worst(verdicts: list[dict]) -> str:
    rank = {"ok": 0, "unknown": 1, "warning": 2, "critical": 3}
    return max((v.get("state", "ok") for v in verdicts), key=lambda s: rank.get(s, 0), default="ok")


def _procs(record: dict | None) -> list[dict]:
    top = (record or {}).get("top") or {}
    return [*top.get("cpu", []), *top.get("memory", [])]


def _unique(procs: list[dict]) -> list[dict]:
    return list({(p["pid"], p["started"]): p for p in procs}.values())
