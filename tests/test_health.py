"""Judgment on literal input: every boundary, hold time, hysteresis, overrides, missing data."""
from __future__ import annotations

import textwrap

import pytest
from pydantic import ValidationError

from monitor.collectors.cpu import Cpu
from monitor.collectors.disks import BlockDevice, Disks, Filesystem
from monitor.collectors.memory import Memory
from monitor.collectors.network import Interface, Network
from monitor.collectors.processes import ProcessRow, Processes
from monitor.collectors.sensors import Sensors, Temperature
from monitor.health import Judge, overall
from monitor.measures import reason
from monitor.sampler import Snapshot
from monitor.thresholds import CHECKS, Threshold, Thresholds, clear_levels
from monitor.trackers import Levels, Tracker


# --- literal areas ---------------------------------------------------------------------------
def cpu(percent=10.0, iowait=0.0, steal=0.0, load1=0.2, count=2):
    return Cpu(percent=percent, per_core=[percent] * count, user=percent, nice=0.0, system=0.0,
               idle=None if percent is None else 100 - percent, iowait=iowait, irq=0.0, softirq=0.0, steal=steal, load1=load1,
               load5=load1, load15=load1, load_per_core=round(load1 / count, 2), count=count,
               ctx_switches_per_s=100.0, interrupts_per_s=50.0)


def memory(percent=20.0, swap_total=0, swap_percent=0.0):
    total = 8 * 2**30
    return Memory(total=total, available=int(total * (1 - percent / 100)), percent=percent,
                  used=int(total * percent / 100), free=0, buffers=0, cached=0, shared=0,
                  swap_total=swap_total, swap_used=int(swap_total * swap_percent / 100),
                  swap_free=swap_total, swap_percent=swap_percent, swap_in_per_s=None,
                  swap_out_per_s=None)


def fs(mountpoint="/", percent=50.0, inodes_percent=1.0, full_in=None):
    return Filesystem(device="/dev/vda", mountpoint=mountpoint, fstype="ext4", read_only=False,
                      also_mounted_at=[], total=100, used=int(percent), free=100 - int(percent),
                      percent=percent, inodes_total=1000, inodes_used=int(inodes_percent * 10),
                      inodes_percent=inodes_percent, fill_rate=None, full_in=full_in, error=None)


def disks(*filesystems, busy=None):
    devices = [BlockDevice(name="vda", read_bytes_per_s=0.0, write_bytes_per_s=0.0, read_iops=0.0,
                           write_iops=0.0, busy_percent=busy)] if busy is not None else []
    return Disks(filesystems=list(filesystems), devices=devices, read_bytes_per_s=0.0,
                 write_bytes_per_s=0.0)


def nic(name="eth0", errin=0.0, errout=0.0):
    return Interface(name=name, isup=True, speed=1000, duplex="full", mtu=1500, addresses=[],
                     bytes_recv_per_s=0.0, bytes_sent_per_s=0.0, packets_recv_per_s=0.0,
                     packets_sent_per_s=0.0, errin_per_s=errin, errout_per_s=errout,
                     dropin_per_s=0.0, dropout_per_s=0.0)


def network(*nics):
    return Network(interfaces=list(nics), hidden=[], bytes_recv_per_s=0.0, bytes_sent_per_s=0.0,
                   tcp={}, tcp_total=0)


def sensors(*temps):
    return Sensors(present=bool(temps), temperatures=list(temps), fans=[], battery=None,
                   hottest=max((t.current for t in temps), default=None))


def row(pid, name, cpu_percent=0.0, rss=0, status="sleeping", ppid=1):
    return ProcessRow(pid=pid, ppid=ppid, name=name, username="root", status=status,
                      cpu_percent=cpu_percent, memory_percent=0.0, rss=rss, num_threads=1, nice=0,
                      create_time=0.0, command=name, cmdline=[name])


def processes(rows=(), zombies=0):
    rows = list(rows)
    return Processes(total=len(rows), threads=len(rows), counts={"sleeping": len(rows), "zombie": zombies},
                     top_cpu=sorted(rows, key=lambda r: -(r.cpu_percent or 0)),
                     top_memory=sorted(rows, key=lambda r: -(r.rss or 0)), rows=rows)


def snap(t=1000.0, unavailable=None, **areas):
    return Snapshot(seq=int(t), taken_at=t, areas=areas, unavailable=unavailable or {})


def by_key(verdicts):
    return {v.key: v for v in verdicts}


# --- every boundary ----------------------------------------------------------------------------
ABOVE = Levels.of(Threshold(warning=90, critical=95), "above")
BELOW = Levels.of(Threshold(warning=86400, critical=14400), "below")


@pytest.mark.parametrize("levels, value, expected", [
    (ABOVE, 89.9, "ok"),
    (ABOVE, 90.0, "warning"),   # at the level counts as crossed
    (ABOVE, 94.9, "warning"),
    (ABOVE, 95.0, "critical"),
    (ABOVE, 100.0, "critical"),
    (BELOW, 86401, "ok"),       # time to full: bad when *under* its levels
    (BELOW, 86400, "warning"),
    (BELOW, 14401, "warning"),
    (BELOW, 14400, "critical"),
    (BELOW, 0, "critical"),
    (Levels.of(Threshold(warning=None, critical=20), "above"), 19, "ok"),  # critical only
    (Levels.of(Threshold(warning=None, critical=20), "above"), 20, "critical"),
    (Levels.of(Threshold(warning=5, critical=None), "above"), 1e9, "warning"),  # warning only
])
def test_boundaries(levels, value, expected):
    assert Tracker().step(0.0, value, levels) == expected


@pytest.mark.parametrize("check", list(CHECKS))
def test_every_default_check_boundary(check):
    """Each default threshold: just short of warning is ok, at warning warns, at critical is critical."""
    info, _ = CHECKS[check]
    t = Thresholds().get(check)
    lv = Levels.of(t.model_copy(update={"for_": 0}), info.direction)
    step = 1 if info.direction == "above" else -1
    first = t.warning if t.warning is not None else t.critical  # a check may have one level only
    assert Tracker().step(0, first - step * 0.001, lv) == "ok"
    if t.warning is not None:
        assert Tracker().step(0, t.warning, lv) == "warning"
    if t.critical is not None:
        assert Tracker().step(0, t.critical, lv) == "critical"


# --- hold duration -----------------------------------------------------------------------------
HOLD = Levels.of(Threshold(warning=90, critical=95, for_=60), "above")


@pytest.mark.parametrize("steps", [
    # (time, value, expected state after this tick)
    [(0, 92, "ok"), (30, 92, "ok"), (59, 92, "ok"), (60, 92, "warning")],
    # a dip under the level restarts the clock (Prometheus' ``for``)
    [(0, 92, "ok"), (30, 89, "ok"), (31, 92, "ok"), (90, 92, "ok"), (91, 92, "warning")],
    # critical needs its own 60 s; warning's clock started at the same moment
    [(0, 99, "ok"), (60, 99, "critical")],
    [(0, 92, "ok"), (60, 99, "warning"), (119, 99, "warning"), (120, 99, "critical")],
])
def test_hold_duration(steps):
    tr = Tracker()
    got = [tr.step(t, v, HOLD) for t, v, _ in steps]
    assert got == [e for _, _, e in steps]


def test_since_is_when_the_condition_began():
    tr = Tracker()
    for t in (0, 30, 60):
        tr.step(t, 92, HOLD)
    assert (tr.state, tr.since) == ("warning", 0)


# --- hysteresis --------------------------------------------------------------------------------
HYST = Levels.of(Threshold(warning=90, critical=95, clear=80), "above")


def test_clear_levels_keep_the_margin():
    assert clear_levels(Threshold(warning=90, critical=98, clear=80), "above") == (80, 90)  # not 88
    assert clear_levels(Threshold(warning=80, critical=95, clear=75), "above") == (75, 90)
    assert clear_levels(Threshold(warning=10, critical=2, clear=15), "below") == (15, 7)
    assert clear_levels(Threshold(warning=10, critical=8, clear=15), "below") == (15, 10)  # not 13
    assert clear_levels(Threshold(warning=86400, critical=14400, clear=129600), "below") == (129600, 57600)
    assert clear_levels(Threshold(warning=90, critical=95), "above") == (90, 95)


@pytest.mark.parametrize("values, expected", [
    # hovering at the limit: raised once, then stays (no flapping)
    ([91, 89, 91, 89, 85, 80], ["warning"] * 6),
    ([91, 79.9], ["warning", "ok"]),
    # critical keeps the margin (95 - 10 = 85) but lowers to warning once under warning (90),
    # and to ok below clear (80)
    ([96, 94, 90, 89.9, 80, 79.9], ["critical", "critical", "critical", "warning", "warning", "ok"]),
    ([96, 50], ["critical", "ok"]),  # a big drop clears at once
])
def test_hysteresis(values, expected):
    tr = Tracker()
    assert [tr.step(i, v, HYST) for i, v in enumerate(values)] == expected


def test_critical_does_not_stay_below_the_warning_level():
    """The default cpu_percent (90/98, clear 80): after critical, 88.5 % is warning."""
    lv = Levels.of(Thresholds().cpu_percent.model_copy(update={"for_": 0}), "above")
    tr = Tracker()
    assert [tr.step(i, v, lv) for i, v in enumerate([99, 88.5, 85, 79])] == \
        ["critical", "warning", "warning", "ok"]


def test_without_clear_a_hovering_value_flaps():
    """The contrast that shows what ``clear`` buys: the same input flaps without it."""
    tr = Tracker()
    assert [tr.step(i, v, ABOVE) for i, v in enumerate([91, 89, 91, 89])] == \
        ["warning", "ok", "warning", "ok"]


# --- the judge on snapshots: overrides, missing data, reasons ------------------------------------
def test_per_mount_override():
    th = Thresholds(mounts={"/data": {"disks_percent": {"warning": 50, "critical": 70}}})
    v = by_key(Judge(th)(snap(disks=disks(fs("/", 60.0), fs("/data", 60.0)))))
    assert v["disks_percent:/"].state == "ok"
    assert v["disks_percent:/data"].state == "warning"
    assert v["disks_percent:/data"].threshold == 50
    assert v["disks_percent:/data"].reason == "/data is 60 % full (warning at 50 %)"
    assert th.effective("disks_percent", "/data").clear == 47  # the default 3-point margin kept


def test_per_interface_override_and_disabled():
    th = Thresholds(network_errors={"for": 0}, interfaces={"eth1": {"network_errors": {"enabled": False}},
                                "eth2": {"network_errors": {"warning": 100, "critical": 200}}})
    v = by_key(Judge(th)(snap(network=network(nic("eth0", 3.0), nic("eth1", 3.0), nic("eth2", 3.0)))))
    assert v["network_errors:eth0"].state == "warning"
    assert "network_errors:eth1" not in v
    assert v["network_errors:eth2"].state == "ok"


def test_override_of_a_check_that_has_no_subject_is_refused():
    with pytest.raises(ValidationError, match="cannot be set per mount"):
        Thresholds(mounts={"/": {"cpu_percent": {"warning": 1}}})


@pytest.mark.parametrize("bad, message", [
    ({"cpu_percent": {"warning": 99, "critical": 90}}, "must not be above critical"),
    ({"disks_time_to_full": {"warning": 60, "critical": 3600}}, "must not be below critical"),
    ({"memory_percent": {"clear": 95}}, "clear 95.0 must be at or below"),
    ({"cpu_percnt": {"warning": 1}}, "cpu_percnt"),
    ({"cpu_percent": {"for": -1}}, "greater than or equal to 0"),
])
def test_bad_thresholds_say_what_is_wrong(bad, message):
    with pytest.raises(ValidationError, match=message):
        Thresholds(**bad)


def test_missing_areas_and_values_are_skipped():
    j = Judge(Thresholds(memory_percent={"warning": 10, "critical": 20, "for": 0, "clear": 5}))
    # Only memory present: no verdict for an area that is not in the snapshot.
    v = j(snap(t=0, memory=memory(30.0)))
    assert [x.key for x in v] == ["memory_percent"]
    assert v[0].state == "critical"
    # cpu's first reading has no percentages: no cpu_percent verdict, load still judged.
    keys = [x.key for x in j(snap(t=1, cpu=cpu(percent=None, iowait=None, steal=None), memory=memory(30.0)))]
    assert "cpu_percent" not in keys and "cpu_load_per_core" in keys
    # memory unavailable for a tick: its check is unknown with the reason (fail closed)...
    [gap] = j(snap(t=2, unavailable={"memory": "boom"}))
    assert (gap.key, gap.state, gap.value) == ("memory_percent", "unknown", None)
    assert gap.reason == "memory used cannot be judged: memory could not be read: boom"
    # ...and its state is not forgotten: the same value is still critical when it is back
    # (since kept from the first tick).
    back = j(snap(t=3, memory=memory(30.0)))[0]
    assert (back.state, back.since) == ("critical", 0)


def test_vanished_subject_is_forgotten():
    j = Judge(Thresholds(disks_percent={"warning": 10, "critical": 20, "clear": 5}))
    assert by_key(j(snap(t=0, disks=disks(fs("/", 50), fs("/mnt", 50)))))["disks_percent:/mnt"].state == "critical"
    j(snap(t=1, disks=disks(fs("/", 50))))  # /mnt unmounted
    again = by_key(j(snap(t=2, disks=disks(fs("/", 50), fs("/mnt", 7)))))
    assert again["disks_percent:/mnt"].state == "ok"  # a new mount starts fresh, no stale hysteresis


def test_reason_in_plain_words():
    th = Thresholds(disks_percent={"warning": 80, "critical": 90, "clear": 75}, disks_time_to_full={"for": 0})
    v = by_key(Judge(th)(snap(disks=disks(fs("/var", 93.0, full_in=7300)))))
    assert v["disks_percent:/var"].reason == "/var is 93 % full (critical at 90 %), full in about 2 h"
    assert v["disks_percent:/var"].state == "critical"
    assert v["disks_percent:/var"].value == 93.0
    assert v["disks_time_to_full:/var"].reason == \
        "/var will be full in about 2 h (critical under 4 h), 93 % full now"


def test_reason_when_ok_names_the_next_level():
    info = CHECKS["cpu_percent"][0]
    from monitor.measures import Measurement
    assert reason(info, Measurement(12.0, text="CPU is 12 % busy"), "ok", Thresholds().cpu_percent) == \
        "CPU is 12 % busy (warning at 90 %)"


@pytest.mark.parametrize("current, high, crit, expected, level", [
    (84, 85.0, 100.0, "ok", None),          # the sensor's own high, not the configured 80
    (85, 85.0, 100.0, "warning", 85.0),
    (100, 85.0, 100.0, "critical", 100.0),
    (81, None, None, "warning", 80.0),      # no levels of its own: the configured ones
    (96, None, None, "critical", 95.0),
    (81, 0.0, 0.0, "warning", 80.0),        # a driver reporting 0 means "none"
])
def test_temperature_against_the_sensors_own_levels(current, high, crit, expected, level):
    t = Temperature(chip="coretemp", label="Package id 0", current=current, high=high, critical=crit)
    v = Judge(Thresholds(sensors_temperature={"for": 0}))(snap(sensors=sensors(t)))[0]
    assert (v.subject, v.state, v.threshold) == ("coretemp Package id 0", expected, level)
    # The reason says whose level it is: the sensor's own, or the configured fallback.
    assert ("the sensor's" in v.reason) == bool(high)


def test_no_sensors_means_no_temperature_verdicts():
    assert Judge()(snap(sensors=sensors())) == []


def test_top_processes_come_with_cpu_and_memory_verdicts():
    th = Thresholds(cpu_percent={"warning": 50, "critical": 90, "for": 0, "clear": 40},
                    memory_percent={"warning": 50, "critical": 90, "for": 0, "clear": 40})
    rows = [row(1, "idle", 0.1, 10), row(2, "burner", 97.0, 20), row(3, "hog", 5.0, 9000),
            row(4, "mid", 30.0, 500)]
    v = by_key(Judge(th)(snap(cpu=cpu(percent=97.0), memory=memory(60.0), processes=processes(rows))))
    assert [p.name for p in v["cpu_percent"].top] == ["burner", "mid", "hog"]
    assert [p.name for p in v["memory_percent"].top] == ["hog", "mid", "burner"]
    assert v["processes_zombies"].top == []  # ok verdicts carry no process list


def test_zombies_name_the_zombies_and_their_parents():
    rows = [row(7, "defunct", status="zombie", ppid=42), row(8, "sh")]
    v = by_key(Judge(Thresholds(processes_zombies={"warning": 1, "critical": 5, "for": 0, "clear": 0}))(
        snap(processes=processes(rows, zombies=1))))
    assert v["processes_zombies"].state == "warning"
    assert v["processes_zombies"].reason == "1 zombie process (warning at 1)"
    assert [(p.pid, p.ppid) for p in v["processes_zombies"].top] == [(7, 42)]


def test_every_area_is_judged_and_overall_is_the_worst():
    th = Thresholds(disks_busy={"for": 0}, cpu_steal={"for": 0})
    v = Judge(th)(snap(cpu=cpu(steal=12.0), memory=memory(), disks=disks(fs("/"), busy=99.5),
                       network=network(nic()), processes=processes()))
    assert {x.area for x in v} == {"cpu", "memory", "disks", "network", "processes"}
    states = by_key(v)
    assert states["cpu_steal"].state == "warning" and states["disks_busy:vda"].state == "critical"
    assert overall(v) == "critical"
    assert overall([x for x in v if x.state != "critical"]) == "warning"
    assert overall([]) == "ok"


def test_thresholds_from_the_toml_file(tmp_path, monkeypatch):
    from monitor.settings import Settings
    cfg = tmp_path / "config.toml"
    cfg.write_text(textwrap.dedent("""
        [thresholds.cpu_percent]
        warning = 85
        for = 5

        [thresholds.mounts."/var/lib/docker"]
        disks_percent = { warning = 92, critical = 97, clear = 90 }
    """))
    monkeypatch.setenv("SERVER_MONITOR_CONFIG", str(cfg))
    th = Settings().thresholds
    assert (th.cpu_percent.warning, th.cpu_percent.critical, th.cpu_percent.for_) == (85, 98, 5)
    assert th.cpu_percent.clear == 75  # kept the default 10-point margin below the new warning
    assert th.effective("disks_percent", "/var/lib/docker").warning == 92
    assert th.effective("disks_percent", "/").warning == 85


def test_old_threshold_names_in_a_configuration_keep_working(tmp_path, monkeypatch, caplog):
    """Issue 11 renamed the checks to their area's word; a configuration written before still
    works, and the log says the new name once per old key."""
    from monitor.settings import Settings
    from monitor.thresholds import RENAMED
    cfg = tmp_path / "config.toml"
    cfg.write_text(textwrap.dedent("""
        [thresholds.fs_percent]
        warning = 70

        [thresholds.zombies]
        enabled = false

        [thresholds.mounts."/srv"]
        fs_inodes_percent = { warning = 60, critical = 70 }

        [thresholds.interfaces.eth0]
        net_errors = { enabled = false }
    """))
    monkeypatch.setenv("SERVER_MONITOR_CONFIG", str(cfg))
    with caplog.at_level("WARNING", logger="server_monitor.thresholds"):
        th = Settings().thresholds
    assert th.disks_percent.warning == 70 and th.processes_zombies.enabled is False
    assert th.effective("disks_inodes_percent", "/srv").warning == 60
    assert th.effective("network_errors", "eth0").enabled is False
    notes = [r.getMessage() for r in caplog.records if r.name == "server_monitor.thresholds"]
    assert sorted(notes) == ["threshold fs_inodes_percent is now disks_inodes_percent",
                             "threshold fs_percent is now disks_percent",
                             "threshold net_errors is now network_errors",
                             "threshold zombies is now processes_zombies"]
    # every old name maps to a check, none to itself; giving both names is refused
    assert set(RENAMED.values()) <= set(CHECKS) and not set(RENAMED) & set(CHECKS)
    with pytest.raises(ValidationError, match="'temperature' is the old name of 'sensors_temperature'"):
        Thresholds.model_validate({"temperature": {"for": 0}, "sensors_temperature": {"for": 1}})


def test_banner_shows_open_and_recent_events_only():
    from types import SimpleNamespace
    from views.health import banner_events

    def NS(**kw):  # an episode: no audit record, a check's area
        return SimpleNamespace(**{"audit": None, "area": "cpu", **kw})
    now = 10_000.0
    events = [NS(id="open", start=now - 50, end=None), NS(id="fresh", start=now - 700, end=now - 600),
              NS(id="stale", start=now - 7300, end=now - 7200), NS(id="fresh2", start=now - 800, end=now - 10),
              NS(id="fresh3", start=now - 900, end=now - 20)]

    def log_of(events):
        return NS(recent=lambda limit: events[:limit],
                  open_events=lambda: [e for e in events if e.end is None])
    assert [e.id for e in banner_events(now, log_of(events))] == ["open", "fresh", "fresh2"]
    # Point events (an action's audit, a notification channel's record) stay out of the banner.
    points = [NS(id="audit", start=now - 5, end=now - 5, audit=object()),
              NS(id="note", start=now - 4, end=now - 4, area="notifications")]
    assert [e.id for e in banner_events(now, log_of(points + events))] == ["open", "fresh", "fresh2"]
    # An episode open for long is listed before the newer ones that came and went since, even
    # when it is no longer among the most recent events.
    long_open = NS(id="long-open", start=now - 86_400, end=None)
    assert [e.id for e in banner_events(now, log_of(events + [NS(id="x", start=0, end=0)] * 60 + [long_open]))] \
        == ["open", "long-open", "fresh"]
    assert banner_events(now, None) == []


# --- failing closed: what cannot be judged is unknown, never silently ok -------------------------
def test_a_measure_that_raises_on_one_subject_makes_only_that_check_unknown():
    """One filesystem whose reading is broken (NaN, as a bad driver or a bug would give): its
    disks_percent is unknown with the reason; its other checks, the other mount and memory are judged."""
    th = Thresholds(disks_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45})
    broken = fs("/broken", 10.0).model_copy(update={"percent": float("nan")})
    v = by_key(Judge(th)(snap(disks=disks(fs("/", 60.0), broken), memory=memory(20.0))))
    assert v["disks_percent:/broken"].state == "unknown" and v["disks_percent:/broken"].value is None
    assert "cannot be judged: ValueError: the reading is nan" in v["disks_percent:/broken"].reason
    assert v["disks_inodes_percent:/broken"].state == "ok"  # the same subject's other check
    assert v["disks_percent:/"].state == "warning" and v["memory_percent"].state == "ok"
    assert overall(v.values()) == "unknown"  # unknown outranks a known warning...
    crit = Judge(th)(snap(disks=disks(fs("/", 90.0), broken)))
    assert overall(crit) == "critical"  # ...but not a known critical


def test_a_measure_that_raises_keeps_the_trackers_hold():
    """A tick where the check cannot be judged does not reset its hold time or its state."""
    th = Thresholds(memory_percent={"warning": 50, "critical": 80, "for": 10, "clear": 45})
    j = Judge(th)
    assert j(snap(t=0, memory=memory(90.0)))[0].state == "ok"  # holding since 0
    broken = memory(90.0).model_copy(update={"percent": float("inf")})
    assert j(snap(t=5, memory=broken))[0].state == "unknown"
    back = j(snap(t=10, memory=memory(90.0)))[0]
    assert (back.state, back.since) == ("critical", 0)  # held 10 s across the unknown tick


def test_an_area_never_collected_has_every_enabled_check_unknown():
    th = Thresholds(memory_swap_percent={"enabled": False})
    v = Judge(th)(snap(unavailable={"memory": "not collected yet"}))
    assert [(x.key, x.state) for x in v] == [("memory_percent", "unknown")]  # swap disabled: none


def test_an_unreadable_area_keeps_its_subjects():
    j = Judge()
    j(snap(t=0, disks=disks(fs("/"), fs("/srv"))))
    keys = {x.key for x in j(snap(t=1, unavailable={"disks": "collection has not finished after 5.0 s"}))}
    assert {"disks_percent:/", "disks_percent:/srv", "disks_inodes_percent:/srv"} <= keys


def test_unknown_since_is_when_it_began():
    j = Judge()
    j(snap(t=0, memory=memory()))
    assert j(snap(t=1, unavailable={"memory": "x"}))[0].since == 1
    assert j(snap(t=2, unavailable={"memory": "x"}))[0].since == 1
    j(snap(t=3, memory=memory()))
    assert j(snap(t=4, unavailable={"memory": "x"}))[0].since == 4


def test_snapshot_state_is_unknown_when_judging_failed():
    from dataclasses import replace

    from monitor.health import VALUE, state, unknown_reason
    s = replace(snap(memory=memory()), judge_error="judging failed: RuntimeError: bug")
    assert state(s) == "unknown" and unknown_reason(s) == "not judged: judging failed: RuntimeError: bug"
    assert s.state_of("memory") == "unknown"  # the cards do not say ok either
    assert VALUE == {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def test_an_area_whose_checks_are_all_disabled_is_not_judged_not_ok():
    """Fail closed on the cards too: a card whose every check the operator disabled says "not
    judged"; with one of its checks left on, the same data is "ok"."""
    from dataclasses import replace
    data = snap(memory=memory(percent=99.0), cpu=cpu())
    off = Thresholds(memory_percent={"enabled": False}, memory_swap_percent={"enabled": False})
    judged = replace(data, verdicts=tuple(Judge(off)(data)))
    assert judged.state_of("memory") == "unjudged" and judged.state_of("cpu") == "ok"
    one_on = Thresholds(memory_percent={"warning": 100, "critical": 100}, memory_swap_percent={"enabled": False})
    assert replace(data, verdicts=tuple(Judge(one_on)(data))).state_of("memory") == "ok"
