"""Shaping on literal psutil-like input: cpu, memory, system, rates, formatting, sparklines."""
from __future__ import annotations

import pytest

from monitor.collectors import cpu, memory, system
from monitor.collectors.base import counter_delta, rate
from views.charts import sparkline, sparkline_path
from views.format import human_bytes, human_count, human_duration, level, percent


def times(user=0.0, nice=0.0, system_=0.0, idle=0.0, iowait=0.0, irq=0.0, softirq=0.0,
          steal=0.0, guest=0.0, guest_nice=0.0):
    return {"user": user, "nice": nice, "system": system_, "idle": idle, "iowait": iowait,
            "irq": irq, "softirq": softirq, "steal": steal, "guest": guest, "guest_nice": guest_nice}


def cpu_raw(t, cores, ctx=1000, intr=500, load=(0.5, 0.4, 0.3)):
    return cpu.CpuRaw(times=t, per_core=cores, ctx_switches=ctx, interrupts=intr, loadavg=load)


# --- rates ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cur, prev, dt, expected", [
    (150, 100, 1.0, 50.0),      # plain increase
    (150, 100, 2.0, 25.0),      # per second, not per tick
    (30, 4_000_000, 1.0, 30.0),  # counter reset (reboot, wrap): restart from zero, never negative
    (100, 100, 1.0, 0.0),
    (100, None, 1.0, None),     # first tick: no previous reading
    (None, 100, 1.0, None),
    (150, 100, 0.0, None),      # no time elapsed: no rate rather than a division by zero
])
def test_rate(cur, prev, dt, expected):
    assert rate(cur, prev, dt) == expected


def test_counter_delta_reset_is_current_value():
    assert counter_delta(5, 10) == 5
    assert counter_delta(15, 10) == 5


# --- cpu -----------------------------------------------------------------------------------
def test_cpu_first_tick_has_no_percentages_but_has_load():
    raw = cpu_raw(times(user=10, idle=90), [times(user=5, idle=45), times(user=5, idle=45)])
    out = cpu.shape(raw, None, 1.0)
    assert out.percent is None and out.per_core == [None, None]
    assert out.ctx_switches_per_s is None and out.interrupts_per_s is None
    assert (out.load1, out.load5, out.load15) == (0.5, 0.4, 0.3)
    assert out.load_per_core == 0.25 and out.count == 2


def test_cpu_percent_split_and_rates_across_two_ticks():
    prev = cpu_raw(times(user=100, system_=50, idle=800, iowait=50),
                   [times(user=50, idle=450), times(user=50, system_=50, idle=350, iowait=50)],
                   ctx=1000, intr=500)
    # +100 s of CPU time: user 30, system 10, iowait 20, idle 40 → busy 40 %
    cur = cpu_raw(times(user=130, system_=60, idle=840, iowait=70),
                  [times(user=80, idle=470), times(user=50, system_=60, idle=370, iowait=70)],
                  ctx=3000, intr=1500)
    out = cpu.shape(cur, prev, 2.0)
    assert out.percent == 40.0
    assert (out.user, out.system, out.iowait, out.idle, out.steal) == (30.0, 10.0, 20.0, 40.0, 0.0)
    assert out.per_core == [60.0, 20.0]  # core0: 30 busy of 50; core1: 10 busy of 50
    assert out.ctx_switches_per_s == 1000.0 and out.interrupts_per_s == 500.0


def test_cpu_guest_time_is_not_counted_twice():
    prev = cpu_raw(times(user=100, idle=100, guest=0), [])
    cur = cpu_raw(times(user=150, idle=150, guest=50), [])  # guest is inside user on Linux
    assert cpu.shape(cur, prev, 1.0).percent == 50.0


def test_cpu_no_elapsed_cpu_time_gives_none_not_zero_division():
    t = times(user=1, idle=1)
    out = cpu.shape(cpu_raw(t, [t]), cpu_raw(t, [t]), 1.0)
    assert out.percent is None and out.user is None


# --- memory --------------------------------------------------------------------------------
VM = {"total": 8 * 2**30, "available": 6 * 2**30, "percent": 25.0, "used": 2 * 2**30,
      "free": 4 * 2**30, "active": 0, "inactive": 0, "buffers": 100, "cached": 2**30,
      "shared": 10, "slab": 0}


def test_memory_swap_rates_and_first_tick():
    sw0 = {"total": 2**30, "used": 2**28, "free": 3 * 2**28, "percent": 25.0, "sin": 4096, "sout": 0}
    sw1 = {**sw0, "sin": 4096 + 8192, "sout": 4096}
    first = memory.shape(memory.MemoryRaw(VM, sw0), None, 1.0)
    assert first.swap_in_per_s is None and first.total == 8 * 2**30 and first.percent == 25.0
    second = memory.shape(memory.MemoryRaw(VM, sw1), memory.MemoryRaw(VM, sw0), 2.0)
    assert second.swap_in_per_s == 4096.0 and second.swap_out_per_s == 2048.0
    assert second.buffers == 100 and second.cached == 2**30


def test_memory_without_linux_only_fields():
    vm = {k: v for k, v in VM.items() if k not in ("buffers", "cached", "shared")}
    sw = {"total": 0, "used": 0, "free": 0, "percent": 0.0, "sin": 0, "sout": 0}
    out = memory.shape(memory.MemoryRaw(vm, sw), None, 1.0)
    assert out.buffers is None and out.cached is None and out.swap_total == 0


# --- system --------------------------------------------------------------------------------
ROCKY = '''NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
# comment
ANSI_COLOR='0;32'
'''


def test_parse_os_release_rocky():
    osr = system.parse_os_release(ROCKY)
    assert osr["PRETTY_NAME"] == "Rocky Linux 9.4 (Blue Onyx)"
    assert osr["ID"] == "rocky" and osr["VERSION"] == "9.4 (Blue Onyx)" and osr["ANSI_COLOR"] == "0;32"


def test_parse_os_release_tolerates_garbage():
    osr = system.parse_os_release('NAME="unterminated\nnot a pair\nID=debian\n')
    assert osr["ID"] == "debian" and osr["NAME"] == "unterminated"


def test_parse_cpu_model():
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    assert system.parse_cpu_model(text) == "AMD EPYC 7B13"
    assert system.parse_cpu_model("processor: 0\n") is None



def system_raw(os_release=ROCKY, hostname="build-7", boot=1_764_150_000.0, wall=1_764_236_400.04,
               cpuinfo="model name\t: AMD EPYC 7B13\n", kernel="5.14.0-427.el9.x86_64"):
    static = system.SystemStatic(os_release=os_release, cpuinfo=cpuinfo, kernel=kernel,
                                 arch="x86_64", cpu_logical=2, cpu_physical=1)
    return system.SystemRaw(static=static, hostname=hostname, boot_time=boot, wall_time=wall)


def test_system_shape_from_literal_reading():
    s = system.shape(system_raw())
    assert (s.hostname, s.os_name, s.os_version, s.os_id) == ("build-7", "Rocky Linux", "9.4 (Blue Onyx)", "rocky")
    assert s.os_pretty_name == "Rocky Linux 9.4 (Blue Onyx)" and s.kernel == "5.14.0-427.el9.x86_64"
    assert (s.cpu_model, s.cpu_logical, s.cpu_physical, s.arch) == ("AMD EPYC 7B13", 2, 1, "x86_64")
    assert s.boot_time == 1_764_150_000.0 and s.uptime == 86400.0  # rounded to 0.1 s


def test_system_shape_cleans_host_strings_and_never_goes_negative():
    s = system.shape(system_raw(os_release='NAME="evil\x1b[2J"\n', hostname="h\u202eost",
                                wall=1_764_149_999.0, cpuinfo=""))
    assert s.hostname == "h\\u202eost" and s.os_name == "evil\\x1b[2J"
    assert s.os_id is None and s.cpu_model is None
    assert s.uptime == 0.0  # a clock set back below the boot time


# --- formatting and charts -------------------------------------------------------------------
@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"),
                                     (3.5 * 2**30, "3.5 GiB"), (None, "–")])
def test_human_bytes(n, text):
    assert human_bytes(n) == text


@pytest.mark.parametrize("s, text", [(42, "42 s"), (125, "2 min 5 s"), (3725, "1 h 2 min"),
                                     (90061, "1 d 1 h"), (None, "–")])
def test_human_duration(s, text):
    assert human_duration(s) == text


def test_count_percent_level():
    assert human_count(812) == "812" and human_count(12345) == "12.3k"
    assert percent(12.345, 1) == "12.3 %" and percent(None) == "–"
    assert [level(v) for v in (None, 0, 4, 55, 100, 250)] == [0, 0, 0, 6, 10, 10]


def test_sparkline_draws_in_data_units_and_the_view_box_picks_the_window():
    from views.charts import origin, view_box
    t0 = origin(1_800_000_000.0) + 1000
    d = sparkline_path([(t0, 0.0), (t0 + 150, 50.0), (t0 + 300, 100.0)])
    assert d == "M1000.0,-0 L1150.0,-50 L1300.0,-100"
    # The last 300 s, from 0 up to 100 (percent) or the largest value plus headroom (rates).
    assert view_box([(t0, 0.0), (t0 + 300, 100.0)], 300) == "1000.0 -100 300 100"
    assert view_box([(t0, 0.0), (t0 + 300, 2000.0)], 300, hi=None) == "1000.0 -2300 300 2300"
    # A young history grows in from the right instead of stretching over the window.
    assert view_box([(t0 + 290, 10.0), (t0 + 300, 10.0)], 300) == "1000.0 -100 300 100"
    # A point's text never changes as the window slides on: written once, reused.
    later = sparkline_path([(t0 + 150, 50.0), (t0 + 300, 100.0), (t0 + 301, 1.5)])
    assert later == "M1150.0,-50 L1300.0,-100 L1301.0,-1.5"
    assert sparkline_path([(t0, -3.0)]) == "M1000.0,-0"  # below zero is drawn at zero


def test_a_series_path_is_kept_as_one_string_and_each_point_formatted_once(monkeypatch):
    """A wall display left open an afternoon: three series ticking for two hours, drawn each tick
    as the cards draw them (``history.points(name, 300)``). Each path is exactly what formatting
    every point would give, each point is formatted once however often it is drawn, and what is
    kept is one path per series (issue 19: a cache of every point's text held 0.45 MiB)."""
    from monitor.store import History
    from views import charts
    paths = charts.Paths()
    monkeypatch.setattr(charts, "_paths", paths)
    formatted = []
    monkeypatch.setattr(paths, "pieces", lambda points, zero: formatted.extend(points) or
                        charts.Paths.pieces(points, zero))
    history = History(900)
    t0 = charts.origin(1_800_000_000.0) + 10
    for tick in range(7200):
        history.add(t0 + tick, {name: (tick * (i + 3)) % 97 for i, name in enumerate(("cpu", "memory", "disk"))})
        for name in ("cpu", "memory", "disk"):
            points = history.points(name, 300)
            d = sparkline_path(points)
            assert sparkline_path(points) == d  # a second scope, the same tick: nothing formatted
            if tick % 997 == 0 or tick == 7199:
                assert d == sparkline_path(list(points)), tick  # a plain list: formatted whole
    assert d.endswith(f" L7209.0,-{(7199 * 5) % 97:g}"), d[-40:]  # x from the origin, y = -value
    assert d.startswith("M6909.0,") and d.count(" L") == 300  # the window: 301 points, 300 s
    assert len(formatted) == 3 * 7200  # each point once, while 3 x 7,200 x 2 drawings were made
    assert len(paths.drawn) == 3 and all(len(kept[4]) == 301 for kept in paths.drawn.values())


def test_a_path_is_redrawn_whole_when_its_points_are_not_the_kept_ones():
    """A series that went away and came back is a new ring, drawn afresh; a clock set back or on
    gives a window that still ends at the newest point: the path is always what its points say."""
    from monitor.store import History
    from views.charts import origin
    history = History(900, max_age=30)
    t0 = origin(1_800_000_000.0) + 10
    for tick in range(100):
        history.add(t0 + tick, {"a": tick})
    before = sparkline_path(history.points("a", 300))
    history.add(t0 + 200, {"b": 1.0})  # "a" is older than max_age: dropped
    for tick in range(3):
        history.add(t0 + 201 + tick, {"a": 50.0 + tick})
    again = history.points("a", 300)
    assert sparkline_path(again) == sparkline_path(list(again)) == "M211.0,-50 L212.0,-51 L213.0,-52"
    assert before != sparkline_path(again)
    history.add(t0 + 100, {"a": 7.0})  # the clock went back: the window still ends at the newest
    assert sparkline_path(history.points("a", 300)) == "M211.0,-50 L212.0,-51 L213.0,-52 L110.0,-7"
    history.add(t0 + 900, {"a": 9.0})  # and forward: the window is the newest point alone
    assert sparkline_path(history.points("a", 300)) == "M910.0,-9"


def test_sparkline_markup_is_numbers_only_and_labelled():
    svg = str(sparkline([(0, 1.0), (1, 2.0)], 'cpu <script>', hi=None))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and 'class="spark"' in svg
    assert "collecting history" in str(sparkline([], "x"))
