"""What changed this tick that is worth a message, read from the event log and the snapshot.

The event log (monitor/events.py) already decides what an episode is: it opens once a state has
held for its ``for`` time, appends a state when the tracker really changes it (the hysteresis
keeps a value hovering at a level from flapping), and ends on ok or when the subject goes. So a
change is a new open event, or a new entry in an open event's ``states``:

    opened       a new episode (warning or critical)
    escalated    an open episode rose (warning -> critical)
    lowered      it fell but is not over (critical -> warning): no message of its own
    recovered    it ended (ok);  gone: its subject went away (unmounted, removed)
    resumed      open before a restart and still open: no message (it was told before)

The event log ignores ``unknown``, so those are watched here, with their own hold:

    unknown      a check (or the whole judgment) could not be judged for ``unknown_after`` s
    judged       ... and now it can again
    unavailable  an area could not be read for ``unavailable_after`` s (default 5 min)
    readable     ... and now it can again

``Watcher.step(snap, events)`` returns the changes and the things open now (for reminders).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..health import ProcessRef
from ..trackers import RANK

ENDED = ("recovered", "gone", "judged", "readable")  # kinds that close something


@dataclass(frozen=True)
class Item:
    kind: str  # see the module docstring; "reminder", "held", "test" are made by the dispatcher
    key: str  # check[:subject] (an episode), "unknown:check[:subject]", "judging", "area:<area>"
    check: str
    subject: str
    area: str
    state: str  # the state now: warning, critical, unknown, ok, gone
    since: float  # when the episode (or the unknown spell) began
    reason: str
    was: str | None = None  # for a change: the state before it
    top: tuple[ProcessRef, ...] = ()
    unit: str = ""

    def with_kind(self, kind: str) -> Item:
        return replace(self, kind=kind)


class Watcher:
    def __init__(self, unknown_after: float = 60.0, unavailable_after: float = 300.0) -> None:
        self.unknown_after = unknown_after
        self.unavailable_after = unavailable_after
        self._events: dict[str, tuple[str, int, str]] = {}  # event id -> (key, states seen, worst)
        self._spells: dict[str, float] = {}  # unknown key -> since when
        self._sent: set[str] = set()  # unknown keys whose spell was told
        self.open: dict[str, Item] = {}  # key -> what is open now (episodes, told spells)

    def step(self, snap, events=None) -> list[Item]:
        now = snap.taken_at
        changes: list[Item] = []
        verdicts = {v.key: v for v in snap.verdicts}
        if snap.judge_error is None and events is not None:
            changes += self._episodes(now, verdicts, events.open_events())  # the log locks itself
        changes += self._unknowns(now, snap, verdicts)
        return changes

    # --- episodes (the event log) ---------------------------------------------------------
    def _episodes(self, now: float, verdicts: dict, open_events: list) -> list[Item]:
        out: list[Item] = []
        still = {ev.id for ev in open_events}
        for ev_id in [i for i in self._events if i not in still]:
            key, _, worst = self._events.pop(ev_id)
            v = verdicts.get(key)
            item = self.open.pop(key, None)
            base = item or Item("", key, key.split(":", 1)[0], key.partition(":")[2], "", worst, now, "")
            if v is not None:
                out.append(replace(base, kind="recovered", state=v.state, reason=v.reason, was=worst,
                                   top=()))
            else:
                out.append(replace(base, kind="gone", state="gone", was=worst, top=(),
                                   reason=f"{base.subject or base.check} is gone"))
        for ev in open_events:
            key = f"{ev.check}:{ev.subject}" if ev.subject else ev.check
            now_state = ev.states[-1][1] if ev.states else ev.state
            v = verdicts.get(key)
            item = Item("", key, ev.check, ev.subject, ev.area, now_state, ev.start,
                        v.reason if v is not None and v.state != "unknown" else ev.reason,
                        top=tuple(v.top if v is not None and v.top else ev.top), unit=ev.unit)
            self.open[key] = item
            known = self._events.get(ev.id)
            self._events[ev.id] = (key, len(ev.states), ev.state)  # ev.state: the worst so far
            if known is None:
                resumed = any(s == "stopped" for _, s in ev.states)
                out.append(item.with_kind("resumed" if resumed else "opened"))
            elif len(ev.states) > known[1]:
                before = ev.states[known[1] - 1][1] if 0 < known[1] <= len(ev.states) else known[2]
                if now_state != before:
                    kind = "escalated" if RANK.get(now_state, 0) > RANK.get(before, 0) else "lowered"
                    out.append(replace(item, kind=kind, was=before))
        return out

    # --- unknown verdicts, a failed judgment, unreadable areas ----------------------------
    def _unknowns(self, now: float, snap, verdicts: dict) -> list[Item]:
        current: dict[str, Item] = {}
        if snap.judge_error is not None:
            current["judging"] = Item("", "judging", "", "", "", "unknown", now,
                                      f"the console could not judge this sample: {snap.judge_error}")
        else:
            for v in verdicts.values():
                if v.state == "unknown" and v.area not in snap.unavailable:
                    current["unknown:" + v.key] = Item("", "unknown:" + v.key, v.check, v.subject, v.area, "unknown", v.since,
                                          v.reason, unit=v.unit)
        for area, why in snap.unavailable.items():
            key = f"area:{area}"
            current[key] = Item("", key, "", "", area, "unknown", now, f"{area} could not be read: {why}")
        out: list[Item] = []
        for key, item in current.items():
            since = self._spells.setdefault(key, item.since)
            item = replace(item, since=since)
            hold = self.unavailable_after if key.startswith("area:") else self.unknown_after
            if key in self._sent:
                self.open[key] = item
            elif now - since >= hold:
                self._sent.add(key)
                self.open[key] = item
                out.append(item.with_kind("unavailable" if key.startswith("area:") else "unknown"))
        # Spells that ended. A failed judgment leaves no verdicts: the checks' spells wait for a
        # judged sample to say whether they ended.
        for key in [k for k in self._spells if k not in current]:
            if snap.judge_error is not None and key != "judging" and not key.startswith("area:"):
                continue
            self._spells.pop(key)
            if key in self._sent:
                self._sent.discard(key)
                old = self.open.pop(key)
                v = verdicts.get(key.removeprefix("unknown:"))
                if key.startswith("area:"):
                    out.append(replace(old, kind="readable", state="ok", was="unknown",
                                       reason=f"{old.area} can be read again"))
                elif key == "judging":
                    out.append(replace(old, kind="judged", state="ok", was="unknown",
                                       reason="the console judges its samples again"))
                else:
                    st = v.state if v is not None else "gone"
                    why = v.reason if v is not None else f"{old.subject or old.check} is gone"
                    out.append(replace(old, kind="judged", state=st, was="unknown", reason=why))
        return out

