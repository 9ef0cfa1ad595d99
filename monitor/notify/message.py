"""One message from one tick's changes: a subject line and a plain-text body (pure, no I/O).

    Subject: [CRITICAL] web1: disks_percent /var critical
    Body:
    web1 is CRITICAL: 1 of 31 checks not ok (2026-12-01 23:10:05 UTC)

    OPENED  critical  disks_percent /var
      /var is 96 % full (critical at 95 %)
      since 2026-12-01 23:05:01 UTC (5 min)
      top: python3 (pid 4121, app.service) 88 % CPU, 1.2 GiB
           python3 /srv/app.py --token=***

    Console: https://monitor.example.com/dashboard

E-mail takes the subject as its Subject: and the body as its text; a chat channel shows both.
Every line is plain text (no markup), so any channel reads it as it is.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .changes import Item

WORD = {"opened": "OPENED", "escalated": "ESCALATED", "recovered": "RECOVERED", "gone": "GONE",
        "reminder": "STILL", "held": "HELD", "unknown": "UNKNOWN", "judged": "JUDGED",
        "unavailable": "UNREADABLE", "readable": "READABLE", "test": "TEST", "lowered": "LOWERED"}
TYPE = {"critical": "failure", "unknown": "warning", "warning": "warning", "ok": "success"}
SUBJECT_MAX = 150
ITEMS_MAX = 30  # changes told in full in one message; the rest are counted


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    type: str  # Apprise's notify type: info, success, warning, failure


def when(epoch: float) -> str:
    """ "2026-12-01 23:05:01 UTC" (UTC: a message is read in other time zones)."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def span(seconds: float) -> str:
    """ "45 s", "5 min", "2 h 10 min", "3 d 4 h" """
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h" + (f" {m} min" if m else "")
    d, h = divmod(s // 3600, 24)
    return f"{d} d" + (f" {h} h" if h else "")


def who(item: Item) -> str:
    if item.key.startswith("area:"):
        return f"{item.area} (area)"
    if item.key == "judging":
        return "judgment"
    return f"{item.check} {item.subject}".strip()


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def top_lines(item: Item) -> list[str]:
    out = []
    for i, p in enumerate(item.top):
        ident = ", ".join(x for x in (f"pid {p.pid}", p.unit or "") if x)
        figures = ", ".join(x for x in (
            f"{p.cpu_percent:.0f} % CPU" if p.cpu_percent is not None else "", _size(p.rss)) if x)
        out.append(f"  {'top:' if i == 0 else '    '} {p.name} ({ident})" + (f" {figures}" if figures else ""))
        if p.command:
            out.append(f"       {p.command}")
    return out


def item_lines(item: Item, now: float) -> list[str]:
    state = item.state if item.kind not in ("recovered", "judged", "readable") else "ok"
    head = f"{WORD.get(item.kind, item.kind.upper()):10} {state:8} {who(item)}"
    if item.was and item.kind in ("escalated", "lowered"):
        head += f" (was {item.was})"
    lines = [head, f"  {item.reason}"]
    if item.kind in ("recovered", "gone", "judged", "readable"):
        lines.append(f"  was {item.was or 'not ok'} from {when(item.since)} for {span(now - item.since)}")
    elif item.kind != "test":
        lines.append(f"  since {when(item.since)} ({span(now - item.since)})")
        lines += top_lines(item)
    return lines


def subject(host: str, overall: str, items: Sequence[Item]) -> str:
    if len(items) == 1:
        it = items[0]
        what = {"recovered": "recovered", "judged": "judged again", "readable": "readable again",
                "gone": "gone", "reminder": f"still {it.state}", "test": "test message"
                }.get(it.kind, it.state)
        text = f"[{overall.upper()}] {host}: {who(it)} {what}"
    else:
        counts: dict[str, int] = {}
        for it in items:
            word = {"recovered": "recovered", "judged": "judged again", "readable": "readable again",
                    "gone": "gone", "reminder": "still open"}.get(it.kind, it.state)
            counts[word] = counts.get(word, 0) + 1
        text = f"[{overall.upper()}] {host}: " + ", ".join(f"{n} {w}" for w, n in counts.items())
    return text if len(text) <= SUBJECT_MAX else text[:SUBJECT_MAX - 1] + "…"


def compose(host: str, now: float, overall: str, headline: str, items: Sequence[Item],
            others: Iterable[str] = (), public_url: str = "", note: str = "") -> Message:
    """The message for ``items`` (one tick's changes for one channel). ``headline`` is the console's
    summary ("2 of 31 checks not ok"), ``others`` the reasons of what else is not ok now."""
    order = {"escalated": 0, "opened": 1, "unknown": 2, "unavailable": 3, "held": 4, "reminder": 5,
             "recovered": 6, "judged": 7, "readable": 8, "gone": 9}
    items = sorted(items, key=lambda it: (order.get(it.kind, 10), it.key))
    lines = [f"{host} is {overall.upper()}: {headline} ({when(now)})"]
    if note:
        lines.append(note)
    for it in items[:ITEMS_MAX]:
        lines += ["", *item_lines(it, now)]
    if len(items) > ITEMS_MAX:
        lines += ["", f"... and {len(items) - ITEMS_MAX} more changes (see the console)"]
    others = list(others)
    if others:
        lines += ["", "Also not ok:", *(f"  {o}" for o in others)]
    if public_url:
        lines += ["", f"Console: {public_url.rstrip('/')}/dashboard"]
    worst = "ok"
    for it in items:
        if it.kind not in ("recovered", "judged", "readable", "gone", "test"):
            worst = max(worst, it.state, key=lambda s: {"ok": 0, "warning": 1, "unknown": 2, "critical": 3}.get(s, 0))
    kind = "info" if items and all(it.kind == "test" for it in items) else TYPE.get(worst, "warning")
    return Message(subject(host, overall, items), "\n".join(lines) + "\n", kind)
