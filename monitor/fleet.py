"""The fleet: every console one Prometheus scrapes, shaped from Prometheus' answers (pure).

``shape(answers, now)`` turns what monitor/fleet_poll.py fetched (the scrape targets and four
instant queries, ``QUERIES``) into a ``Fleet``: one ``Console`` per target that is a console,
worst first. What is a console: a target that exported ``server_monitor_sample_timestamp_seconds``
within the last hour, or a target that is down in a job that holds consoles (a console that
never answered is still listed, as "down").

Verdicts fail closed here too:

    the target is down                      "down", with Prometheus' scrape error
    not scraped yet, or no current data     "unknown"
    up but no verdicts exported             "unknown" ("exports no verdicts")
    otherwise                               the worst of server_monitor_state and its verdicts

No family carries a verdict's reason text (a label that changes with the value would make a new
series each time), so a problem's reason is worded here from what is exported: the check's label
(this console's ``CHECKS``; the check's name for a check it does not know), the subject, the
judged value and the level it passed.

Everything from Prometheus is host data from other machines: label values are cleaned and cut
(monitor/text.py) and a console's link is only ever http(s).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .memo import Memoised
from .text import clean
from .thresholds import CHECKS

# One request each per poll (with /api/v1/targets); `and on (...)` keeps the answers as small as
# the fleet's problems, not as large as its number of checks.
QUERIES = {
    "seen": "last_over_time(server_monitor_sample_timestamp_seconds[1h])",
    "state": "server_monitor_state",
    "checks": "count by (job, instance) (server_monitor_verdict_state)",
    "bad": '{__name__=~"server_monitor_(verdict_state|check_value|check_threshold)"}'
           " and on (job, instance, area, check, subject) (server_monitor_verdict_state > 0)",
}
STATES = ("ok", "warning", "critical", "unknown")  # the index is server_monitor_verdict_state
RANK = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3, "down": 4}  # worst last
WORST = 5  # problems listed per console; the rest are counted
LABEL_MAX = 200  # characters kept of a label value from Prometheus
ERROR_MAX = 300  # characters kept of a scrape error

Key = tuple[str, str]  # (job, instance)
Sample = tuple[dict[str, str], float]


@dataclass(frozen=True)
class Problem:
    """One check of one console that is not ok."""
    check: str
    area: str
    subject: str
    state: str  # warning | critical | unknown
    value: float | None = None
    warning: float | None = None
    critical: float | None = None

    @property
    def reason(self) -> str:
        """``memory used 45.2 %, critical at 0.02 %`` (see the module docstring for why here).

        >>> Problem("disks_percent", "disks", "/srv", "critical", 97.0, 85, 95).reason
        'space used /srv 97 %, critical at 95 %'
        >>> Problem("future_check", "x", "", "unknown").reason
        'future_check: cannot be judged'
        """
        info = CHECKS.get(self.check)
        label, unit = (info[0].label, info[0].unit) if info else (self.check, "")
        what = f"{label} {self.subject}".strip()
        if self.state == "unknown":
            return f"{what}: cannot be judged"
        level = self.critical if self.state == "critical" else self.warning
        if self.value is None:
            return f"{what}: {self.state}"
        said = f"{what} {_num(self.value, unit)}"
        return said + (f", {self.state} at {_num(level, unit)}" if level is not None else f": {self.state}")


@dataclass(frozen=True)
class Console:
    job: str
    instance: str
    state: str  # ok | warning | critical | unknown | down
    why: str = ""  # for down and unknown: what made it so
    url: str = ""  # the console's dashboard, from the scrape URL; "" when not http(s)
    checks: int = 0  # verdicts it exports
    problems: tuple[Problem, ...] = ()  # the worst, at most WORST
    more: int = 0  # problems not listed
    scraped_at: float | None = None  # Prometheus' last scrape of it (epoch s)
    scrape_error: str = ""
    sampled_at: float | None = None  # when its last exported sample was taken (epoch s)


@dataclass(frozen=True)
class Fleet(Memoised):
    seq: int  # 1, 2, 3 ... one per poll
    polled_at: float  # epoch s
    consoles: tuple[Console, ...] = ()
    error: str | None = None  # why Prometheus did not answer this poll; None when it did
    answered_at: float | None = None  # when Prometheus last answered (this poll, or earlier)
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(RANK, 0)
        for c in self.consoles:
            out[c.state] += 1
        return out


def _num(v: float | None, unit: str) -> str:
    """Three significant digits, then the unit.

    >>> _num(45.234, "%"), _num(3.0, ""), _num(1234567.0, "s")
    ('45.2 %', '3', '1.23e+06 s')
    """
    if v is None:
        return "–"
    text = f"{v:.3g}"
    return f"{text} {unit}" if unit else text


def _key(metric: Mapping[str, str]) -> Key:
    return clean(metric.get("job", ""), LABEL_MAX), clean(metric.get("instance", ""), LABEL_MAX)


def _epoch(rfc3339: str) -> float | None:
    """Prometheus' lastScrape (RFC 3339, nanoseconds); its zero time means never.

    >>> _epoch("2026-12-01T23:10:05.123456789Z"), _epoch("0001-01-01T00:00:00Z")
    (1796166605.123456, None)
    """
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", rfc3339 or "")
    if m is None or m[1].startswith("0001"):
        return None
    frac = (m[2] or "")[:7]  # datetime keeps microseconds
    return datetime.fromisoformat(m[1] + frac + ("+00:00" if m[3] == "Z" else m[3])).timestamp()


def console_url(scrape_url: str) -> str:
    """The console's dashboard next to the /metrics Prometheus scrapes; "" unless http(s).

    >>> console_url("https://u:p@mon.example:8443/sm/metrics?x=1")
    'https://mon.example:8443/sm/dashboard'
    >>> console_url("javascript:alert(1)//metrics"), console_url("http://10.0.0.5:8000/metrics")
    ('', 'http://10.0.0.5:8000/dashboard')
    """
    try:
        parts = urlsplit(scrape_url)
    except ValueError:
        return ""
    host = parts.netloc.rpartition("@")[2]  # never carry a credential into a link
    if parts.scheme not in ("http", "https") or not host or not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host):
        return ""
    path = parts.path
    base = path[: -len("metrics")] if path.endswith("/metrics") else "/"
    return f"{parts.scheme}://{host}{base}dashboard"


def _state_of(value: float) -> str:
    return STATES[int(value)] if math.isfinite(value) and value in (0, 1, 2, 3) else "unknown"


def _problems(samples: Iterable[Sample]) -> dict[Key, list[Problem]]:
    """The "bad" query's answer: verdict states with their values and levels, by console."""
    states: dict[tuple, str] = {}
    values: dict[tuple, float] = {}
    levels: dict[tuple, float] = {}
    for metric, v in samples:
        one = (*_key(metric), *(clean(metric.get(x, ""), LABEL_MAX) for x in ("area", "check", "subject")))
        name = metric.get("__name__")
        if name == "server_monitor_verdict_state":
            states[one] = _state_of(v)
        elif name == "server_monitor_check_value" and math.isfinite(v):
            values[one] = v
        elif name == "server_monitor_check_threshold" and math.isfinite(v):
            levels[(*one, metric.get("level", ""))] = v
    out: dict[Key, list[Problem]] = {}
    for one, st in states.items():
        job, instance, area, check, subject = one
        out.setdefault((job, instance), []).append(Problem(
            check, area, subject, st, values.get(one),
            levels.get((*one, "warning")), levels.get((*one, "critical"))))
    for probs in out.values():
        probs.sort(key=lambda p: (-RANK[p.state], p.check, p.subject))
    return out


def shape(targets: list[dict], answers: Mapping[str, list[Sample]]) -> tuple[Console, ...]:
    """Targets (/api/v1/targets' activeTargets) and QUERIES' answers -> the consoles, worst first."""
    seen = {_key(m): v for m, v in answers.get("seen", [])}
    state = {_key(m): v for m, v in answers.get("state", [])}
    checks = {_key(m): int(v) for m, v in answers.get("checks", []) if math.isfinite(v)}
    problems = _problems(answers.get("bad", []))
    console_jobs = {job for job, _ in seen}
    consoles: dict[Key, Console] = {}
    for t in targets:
        labels = t.get("labels") if isinstance(t.get("labels"), dict) else {}
        key, health = _key(labels), t.get("health")
        if key in consoles or not (key in seen or (health != "up" and key[0] in console_jobs)):
            continue
        error = clean(str(t.get("lastError") or ""), ERROR_MAX)
        common = {"url": console_url(str(t.get("scrapeUrl") or "")),
                  "scraped_at": _epoch(str(t.get("lastScrape") or "")), "scrape_error": error,
                  "sampled_at": seen.get(key)}
        if health == "down":
            consoles[key] = Console(*key, "down", why=error or "the scrape failed", **common)
        elif health != "up":
            consoles[key] = Console(*key, "unknown", why="not scraped yet", **common)
        else:
            consoles[key] = _judged(key, state, checks, problems, common)
    for key in seen.keys() - consoles.keys():  # data from elsewhere (federation): no target here
        consoles[key] = _judged(key, state, checks, problems, {"sampled_at": seen[key]})
    return tuple(sorted(consoles.values(), key=lambda c: (-RANK[c.state], c.instance, c.job)))


def _judged(key: Key, state: Mapping[Key, float], checks: Mapping[Key, int],
            problems: Mapping[Key, list[Problem]], common: dict) -> Console:
    """A console whose data Prometheus has: the worst of its overall state and its verdicts."""
    if key not in state:
        return Console(*key, "unknown", why="no current server_monitor_state", **common)
    n = checks.get(key, 0)
    if n == 0:
        return Console(*key, "unknown", why="exports no verdicts", **common)
    probs = problems.get(key, [])
    worst = max([_state_of(state[key]), *(p.state for p in probs)], key=RANK.__getitem__)
    why = "its judgment failed or overran" if worst == "unknown" and not probs else ""
    return Console(*key, worst, why=why, checks=n, problems=tuple(probs[:WORST]),
                   more=max(0, len(probs) - WORST), **common)
