"""Events across a restart of the console (monitor/events.py keeps them; this shapes them).

Reading the file back, the last line of each id wins, and the events are kept in start order. An
event still open when the console stopped reads as ended at its last known time, ``interrupted``
(what the file can prove), until the first tick that judges its check again decides: still not
ok, the same episode goes on with the gap noted (``resumed``); ok, or its subject gone, it ended
while the console was stopped (``ended_stopped``). A boot time other than the recorded one is a
point event of its own (``reboot``).
"""
from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from .event_model import Event
from .reboot import REBOOT_CHECK, reboot_reason
from .trackers import RANK

log = logging.getLogger("server_monitor.events")

ENDED_STOPPED = "ended while the console was stopped"


def load(text: str, path: Path) -> dict[str, Event]:
    """The events in the file's ``text``, the last line of each id, in start order."""
    events: dict[str, Event] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = Event.model_validate_json(line)
        except ValidationError:  # a hand edit, an old torn line, NaN or Infinity
            log.warning("%s:%d: not an event, skipped", path, n)
            continue
        events.pop(ev.id, None)  # the last line of an id wins, in its new place
        events[ev.id] = ev
    # The file is in write order (an event's last line moves it to the end); we keep start order.
    return dict(sorted(events.items(), key=lambda kv: kv[1].start))


def open_at_stop(events: dict[str, Event]) -> dict[str, str]:
    """Verdict key -> id of each event open when the console stopped; each such event (in
    ``events``) now reads as ended at its last known time, ``interrupted``, until resumed."""
    resume: dict[str, str] = {}
    for ev_id, ev in list(events.items()):
        if ev.end is not None:
            continue
        key = f"{ev.check}:{ev.subject}" if ev.subject else ev.check
        old = resume.get(key)
        if old is not None:  # two open for one key (an old file): the older one ended
            events[old] = events[old].model_copy(update={"end": last_known(events[old]), "interrupted": True})
        resume[key] = ev_id
        events[ev_id] = ev.model_copy(update={"end": last_known(ev), "interrupted": True})
    return resume


def resumed(ev: Event, first: float, state: str) -> Event:
    """The episode goes on after the restart: the gap from its last moment seen to ``first``, the
    first tick that judged it again (``state``, not ok)."""
    stopped = ev.last_seen if ev.last_seen is not None else last_known(ev)
    return ev.model_copy(update={
        "end": None, "interrupted": False, "last_seen": None,
        "gaps": [*ev.gaps, (stopped, first)],
        "states": [*ev.states, (stopped, "stopped"), (first, state)],
        "state": max(ev.state, state, key=RANK.__getitem__),
    })


def ended_stopped(ev: Event) -> Event:
    return ev.model_copy(update={"end": last_known(ev), "interrupted": True, "note": ENDED_STOPPED})


def reboot(booted: float) -> Event:
    """The "host rebooted at ..." point event (monitor/reboot.py finds the new boot time)."""
    return Event(id=f"{booted:.3f}-{REBOOT_CHECK}", check=REBOOT_CHECK, area="system",
                 state="warning", start=booted, end=booted, peak=booted, peak_at=booted,
                 states=[(booted, "warning")], reason=reboot_reason(booted))


def is_event(line: bytes) -> bool:
    """A whole event (a torn last line is not one: monitor/events_file.py cuts it off)."""
    try:
        Event.model_validate_json(line)
        return True
    except ValidationError:
        return False


def last_known(ev: Event) -> float:
    """The last moment an event was known open."""
    return max([ev.peak_at, *(t for t, _ in ev.states), ev.last_seen or ev.start])
