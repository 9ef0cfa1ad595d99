"""Time to full says something only when a trend is real (issue 12, item 3): literal series of
(time, used bytes) readings every 2 s through the same Trends the disks collector uses."""
from __future__ import annotations

from monitor.collectors.disks import FILL_MIN_SPAN, FILL_RATE_WINDOW, FILL_STEP, FILL_WINDOW, DisksRaw, shape
from monitor.measures import MEASURES
from monitor.mounts import Mount
from monitor.trend import HORIZON, Trends, rising_rate, theil_sen, time_to_limit

MB = 1_000_000


def run(series):
    """Feed (t, used) to Trends; the rising estimate after each reading (None or (rate, over))."""
    tr = Trends(FILL_WINDOW, FILL_MIN_SPAN, FILL_STEP, FILL_RATE_WINDOW)
    out = []
    for t, used in series:
        tr.add(t, {"/": used})
        out.append(tr.rising.get("/"))
    return out


def test_one_write_then_idle_gives_no_estimate():
    series = [(float(t), 20 * MB if t < 100 else 50 * MB) for t in range(0, 900, 2)]
    assert all(e is None for e in run(series))


def test_a_deletion_gives_no_estimate():
    series = [(float(t), 45 * MB if t < 300 else 30 * MB) for t in range(0, 900, 2)]
    assert all(e is None for e in run(series))


def test_flat_or_falling_gives_no_estimate():
    assert all(e is None for e in run([(float(t), 30 * MB) for t in range(0, 900, 2)]))
    assert all(e is None for e in run([(float(t), 30 * MB - 1000 * t) for t in range(0, 900, 2)]))


def test_steady_fill_gives_an_estimate_with_its_span():
    est = run([(float(t), 10 * MB + 10_000 * t) for t in range(0, 900, 2)])
    assert all(e is None for e in est[:25])  # under FILL_MIN_SPAN: measuring
    rate, over = est[-1]
    assert rate == 10_000 and over == 898  # measured since the first reading


def test_a_sawtooth_is_measured_one_tooth_at_a_time():
    # a log grows 100 MB in 600 s and is rotated away, three times: each tooth starts anew
    series = [(float(t), 1000 * MB + 100 * MB * (t % 600) / 600) for t in range(0, 1800, 2)]
    est = dict(zip((t for t, _ in series), run(series)))
    assert est[598][1] == 598
    # after each rotation only the new tooth counts (kept readings are FILL_STEP apart)
    assert 600 - FILL_STEP <= est[1198][1] <= 600 and 600 - FILL_STEP <= est[1798][1] <= 600


def test_jitter_inside_a_fill_does_not_restart_the_evidence():
    # 10 kB/s with 200 kB of temporary files coming and going: falls smaller than a quarter of
    # the range do not restart the measurement
    series = [(float(t), 10 * MB + 10_000 * t + (200_000 if t % 70 < 35 else 0)) for t in range(0, 1800, 2)]
    rate, over = run(series)[-1]
    assert over >= 1700 and abs(rate - 10_000) < 1000


def test_readings_are_kept_one_per_step_for_the_window():
    tr = Trends(FILL_WINDOW, FILL_MIN_SPAN, FILL_STEP, FILL_RATE_WINDOW)
    for t in range(0, 8 * 3600, 2):
        tr.add(float(t), {"/": 1000.0 * t})
    kept = tr._points["/"]
    assert len(kept) <= FILL_WINDOW / FILL_STEP + 2
    assert kept[-1] == (8 * 3600 - 2, 1000.0 * (8 * 3600 - 2))  # the newest is always there
    assert kept[-1][0] - kept[0][0] <= FILL_WINDOW


def test_fill_then_stop_the_estimate_disappears():
    series = [(float(t), 10 * MB + 10_000 * min(t, 600)) for t in range(0, 900, 2)]
    est = dict(zip((t for t, _ in series), run(series)))
    assert est[598] is not None
    assert est[600 + FILL_MIN_SPAN + FILL_STEP + 2] is None and est[898] is None


def test_a_burst_inside_a_fill_does_not_swing_the_rate():
    series = [(float(t), 1000.0 * t + (5e6 if 200 <= t < 204 else 0)) for t in range(0, 600, 2)]
    assert rising_rate(series, 60) == 1000.0
    assert theil_sen(series) == 1000.0


def test_horizon_no_longer_than_the_span_allows():
    assert time_to_limit(2400, 1.0, over=600) == 2400  # 40 min claimed over 10 min: HORIZON 4
    assert time_to_limit(HORIZON * 600 + 1, 1.0, over=600) is None
    assert time_to_limit(10, 0.0) is None and time_to_limit(None, 1.0) is None


def statvfs_fields(blocks, avail, bsize=4096):
    return {"f_blocks": blocks, "f_bfree": avail, "f_bavail": avail, "f_frsize": bsize,
            "f_files": 100, "f_ffree": 50}


def test_the_reason_and_model_say_how_long_it_was_measured_over():
    m = Mount("252:1", "/", "/", "ext4", "/dev/vda1", frozenset({"rw"}))
    raw = DisksRaw([(m, [])], {"/": statvfs_fields(100_000, 1800)}, {})
    [fs] = shape(raw, None, 0.0, {"/": 1.0}, {"/": (1024.0, 1800.0)}).filesystems
    assert fs.full_in == 1800 * 4096 / 1024 and fs.full_in_over == 1800.0
    ttf = next(x for x in MEASURES["disks"] if x.check == "disks_time_to_full").measure(fs)
    assert ttf.text == "/ will be full in about 2 h, measured over 30 min"
    pct = next(x for x in MEASURES["disks"] if x.check == "disks_percent").measure(fs)
    assert pct.extra == ", full in about 2 h, measured over 30 min"
    [idle] = shape(raw, None, 0.0, {"/": 1.0}, {}).filesystems  # flat: fill rate, no claim
    assert idle.fill_rate == 1.0 and idle.full_in is None and idle.full_in_over is None
