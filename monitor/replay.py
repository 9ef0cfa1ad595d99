"""Scenario replays: the real ``monitor.health.Judge`` on recorded series, with no host.

A scenario (tests/scenarios/*.toml, one behaviour per file) gives series in and the verdict
timeline expected out. ``replay(scenario)`` builds each tick's area models from the series (the
disks area through the real ``DisksCollector`` with its ``read()`` replaced, so the fill-rate
trend is the console's own), judges them with a fake clock (``taken_at`` = the scenario's time)
and returns every state change. No psutil call, no /proc, no sleeping.

A scenario file::

    title = "a log directory filling at a steady rate"
    tick = 10                      # seconds between samples
    end = 7200                     # last sample time
    restart_at = [3600]            # optional: the console restarts (new Judge, same events file)
    [thresholds]                   # optional: as in the configuration file
    [filesystems."/var"]
    size = "10 GiB"                # total bytes (free = size - used)
    [series]                       # "time value [value ...]": more values are the next ticks;
    "disks./var.used" = '''        # between two points the value moves in a straight line,
    0     2 GiB                    # the same time twice is a step
    7200  9 GiB
    '''
    [expect]
    timeline = '''                 # every state change, "time check[:subject] state"; a time
    2400..3000 disks_time_to_full:/var warning    # "a..b" is a range (any time in it)
    '''

Series names: ``disks.<mount point>.used`` (bytes, units B/KiB/MiB/GiB), otherwise
``<area>.<field>`` set on that area's model (``cpu.percent``, ``memory.percent``,
``pressure.memory_full``, ``pressure.oom_kills_recent``: see ``_pressure``). A check never seen non-ok has no timeline entry; the state
before the first entry is ok.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .collectors.disks import DisksCollector, DisksRaw
from .mounts import Mount
from .scenario import BLOCK, Change, Scenario, diff, false_alarms, load, missed_alarms, number, value_at  # noqa: F401 - tests score through replay
from .store import Snapshot

# ---- building the areas from the series -------------------------------------------------

# What a host-wide area's model needs besides the replayed fields (model_construct: no host).
BASE: dict[str, dict[str, Any]] = {
    "cpu": dict(percent=None, per_core=[], user=None, nice=None, system=None, idle=None,
                iowait=None, irq=None, softirq=None, steal=None, load1=0.0, load5=0.0,
                load15=0.0, load_per_core=0.0, count=4, ctx_switches_per_s=None,
                interrupts_per_s=None),
    "memory": dict(total=16 * 2**30, available=8 * 2**30, percent=50.0, used=8 * 2**30,
                   free=4 * 2**30, buffers=None, cached=None, shared=None, swap_total=0,
                   swap_used=0, swap_free=0, swap_percent=0.0, swap_in_per_s=None,
                   swap_out_per_s=None),
}


def _no_host(path: str):
    raise OSError(f"a replay reads no host ({path})")


class ReplayDisks(DisksCollector):
    """The console's disks collector reading the scenario instead of the host."""

    def __init__(self, scenario: Scenario) -> None:
        try:
            super().__init__(statvfs=_no_host)
        except TypeError:  # a collector whose constructor changed: its defaults, read() is ours
            super().__init__()
        self.scenario = scenario
        self.now = 0.0

    def read(self) -> DisksRaw:
        mounts, usage = [], {}
        for i, (mp, fs) in enumerate(self.scenario.filesystems.items()):
            mounts.append((Mount(device_id=f"8:{i}", root="/", mountpoint=mp, fstype="ext4",
                                 source=f"/dev/vd{chr(97 + i)}", options=frozenset({"rw"})), []))
            size = number(str(fs["size"]))
            used = value_at(self.scenario.series.get(f"disks.{mp}.used", []), self.now) or 0.0
            blocks, ub = int(size // BLOCK), int(used // BLOCK)
            usage[mp] = {"f_blocks": blocks, "f_bfree": blocks - ub, "f_bavail": blocks - ub,
                         "f_frsize": BLOCK, "f_bsize": BLOCK, "f_files": 65536,
                         "f_ffree": 60000, "f_favail": 60000}
        return DisksRaw(mounts, usage, {})


def _areas(scenario: Scenario, t: float, disks: ReplayDisks | None) -> dict[str, Any]:
    from .areas import AREAS  # late: the registry imports every collector

    fields: dict[str, dict[str, float]] = {}
    for name, points in scenario.series.items():
        area, _, rest = name.partition(".")
        if area == "disks":
            continue
        v = value_at(points, t)
        if v is not None:
            fields.setdefault(area, {})[rest] = v
    out: dict[str, Any] = {}
    models = {a.name: a.collector.model for a in AREAS} if isinstance(AREAS, (list, tuple)) else \
        {name: a.collector.model for name, a in AREAS.items()}
    for area, values in fields.items():
        if area == "pressure":
            try:
                out[area] = _pressure(values)
            except ImportError:  # a console before the pressure area: nothing to judge
                pass
            continue
        base = dict(BASE.get(area, {}))
        base.update(values)
        if area == "cpu" and "load_per_core" in values:
            base["load1"] = values["load_per_core"] * base["count"]
        out[area] = models[area].model_construct(**base)
    if disks is not None:
        disks.now = t
        out["disks"] = disks.collect(t)
    return out


def _pressure(values: dict[str, float]) -> Any:
    """``pressure.<resource>_<some|full>`` (avg10 = avg60 = avg300, %), ``pressure.oom_kills_recent``."""
    from .collectors.pressure import Pressure, Resource, Stall

    def stall(name: str) -> Any:
        v = values.get(name)
        return None if v is None else Stall.model_construct(avg10=v, avg60=v, avg300=v, total=0, per_s=None)

    resources = [Resource.model_construct(name=r, some=stall(f"{r}_some"), full=stall(f"{r}_full"))
                 for r in ("cpu", "memory", "io")]
    kills = values.get("oom_kills_recent")
    return Pressure.model_construct(present=True, resources=resources,
                                    oom_kills_total=None if kills is None else int(kills),
                                    oom_kills_recent=None if kills is None else int(kills),
                                    oom_recent=[])


# ---- the replay ---------------------------------------------------------------------------

@dataclass
class Result:
    changes: list[Change]
    events: list[Any]  # monitor.events.Event, oldest first, as the last EventLog holds them


def replay(scenario: Scenario, events_path: Path | None = None) -> Result:
    """Judge every tick from 0 to ``end``; each restart makes a new Judge (and disks collector)
    over the same events file, as a restarted console would."""
    from .events import EventLog
    from .health import Judge
    from .thresholds import Thresholds

    thresholds = Thresholds.model_validate(scenario.thresholds)

    def start():
        log = EventLog(events_path) if events_path is not None else None
        disks = ReplayDisks(scenario) if scenario.filesystems else None
        return Judge(thresholds, events=log), log, disks

    judge, log, disks = start()
    restarts = sorted(scenario.restart_at)
    state: dict[str, str] = {}
    changes: list[Change] = []
    n = int(round(scenario.end / scenario.tick))
    for i in range(n + 1):
        t = i * scenario.tick
        while restarts and t >= restarts[0]:
            restarts.pop(0)
            if log is not None:
                log.close()
            judge, log, disks = start()
        snap = Snapshot(seq=i + 1, taken_at=t, areas=_areas(scenario, t, disks), unavailable={})
        now = {v.key: v.state for v in judge(snap)}
        for key in sorted(set(state) | set(now)):
            new = now.get(key, "ok")
            if new != state.get(key, "ok"):
                changes.append(Change(t, key, new))
            state[key] = new
    if log is not None:
        log.close()
    events = sorted(log.recent(10_000), key=lambda e: e.start) if log is not None else []
    return Result(changes, events)


def outcome(scenario: Scenario, events_path: Path | None = None) -> dict[str, Any]:
    """What a replay says about a scenario: as expected or not, false and missed alarms."""
    result = replay(scenario, events_path)
    same = not diff(scenario.expect, result.changes)
    if scenario.expect_events:
        got = [(e.check, e.state, e.start, e.end) for e in result.events]
        want = [(e["check"], e["state"], float(e["start"]), float(e["end"]))
                for e in scenario.expect_events]
        same = same and got == want
    return {"scenario": scenario.name, "as_expected": same,
            "false_alarms": false_alarms(scenario.expect, result.changes),
            "missed_alarms": missed_alarms(scenario.expect, result.changes),
            "events": len(result.events), "changes": [str(c) for c in result.changes]}


def main(argv: list[str] | None = None) -> int:
    """``python -m monitor.replay tests/scenarios``: one line per scenario, then the totals."""
    import sys
    import tempfile

    args = sys.argv[1:] if argv is None else argv
    paths = sorted(Path(args[0] if args else "tests/scenarios").glob("*.toml"))
    false = missed = 0
    for path in paths:
        with tempfile.TemporaryDirectory() as d:
            o = outcome(load(path), Path(d) / "events.jsonl")
        false, missed = false + o["false_alarms"], missed + o["missed_alarms"]
        print(f"{o['scenario']:32} {'as expected' if o['as_expected'] else 'DIFFERS':12} "
              f"false alarms {o['false_alarms']}  missed {o['missed_alarms']}  events {o['events']}")
    print(f"{len(paths)} scenarios: {false} false alarms, {missed} missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
