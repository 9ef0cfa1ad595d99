"""The regex checker (monitor/logs/regex_guard.py): a capped helper process, killed when it hangs,
replaced when it dies, and a bounded cache in front of it. Helpers are real processes; the
misbehaving ones are stand-ins started in the real helper's place."""
from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict

import psutil
import pytest
import regex

from monitor.logs import regex_guard as g

V0 = regex.V0


@pytest.fixture
def fresh(monkeypatch):
    """An empty cache and a helper of the test's own, so tests neither share nor spoil state."""
    monkeypatch.setattr(g, "_cache", OrderedDict())
    monkeypatch.setattr(g, "_cache_cost", 0)
    helper = g._Helper()
    monkeypatch.setattr(g, "_helper", helper)
    yield helper
    helper.stop()


def stand_in(monkeypatch, code: str) -> None:
    monkeypatch.setattr(g, "HELPER_ARGV", [sys.executable, "-c", code])


READY = "print('{\"ready\": true}', flush=True)\n"


def test_the_helper_runs_under_an_address_space_limit(fresh):
    assert g.compile_user("abc", V0).search("xabcx")
    proc = psutil.Process(fresh.proc.pid)
    soft, hard = proc.rlimit(psutil.RLIMIT_AS)
    assert soft == hard and 0 < soft <= proc.memory_info().vms + g.HEADROOM


def test_a_pattern_too_big_to_compile_is_refused_and_the_helper_replaced(fresh):
    g.compile_user("abc", V0)
    first = fresh.proc.pid
    with pytest.raises(g.Refused, match=r"too complex: compiling it needs more than 32 MiB"):
        g.compile_user("(?:x{1000}){1000}", V0)
    assert not psutil.pid_exists(first)  # it exited after the MemoryError and was reaped
    assert g.compile_user("def", V0).search("def")  # a new helper answers
    assert fresh.proc.pid != first


def test_a_helper_that_hangs_is_killed_after_the_timeout(fresh, monkeypatch):
    stand_in(monkeypatch, READY + "import time\ntime.sleep(60)\n")
    fresh._start()
    hung = fresh.proc
    t = time.monotonic()
    with pytest.raises(g.Refused, match=r"took longer than 0.5 s"):
        g.compile_user("anything", V0)
    assert time.monotonic() - t < 2
    assert hung.poll() is not None and fresh.proc is None  # killed and reaped


def test_a_helper_that_dies_while_compiling_is_a_refusal_not_a_crash(fresh, monkeypatch):
    stand_in(monkeypatch, READY + "import sys\nsys.stdin.readline()\nsys.exit(3)\n")
    with pytest.raises(g.Refused, match="the pattern checker stopped"):
        g.compile_user("anything", V0)
    assert fresh.proc is None


def test_a_helper_that_cannot_start_is_unavailable_and_nothing_is_cached(fresh, monkeypatch):
    monkeypatch.setattr(g, "HELPER_ARGV", ["/nonexistent/python"])
    with pytest.raises(g.CheckerUnavailable, match="could not start"):
        g.compile_user("abc", V0)
    assert not g._cache  # tried again next time, not refused for good


def test_requests_wait_a_bounded_time_for_a_busy_checker(fresh, monkeypatch):
    monkeypatch.setattr(g, "WAIT_MAX", 0.2)
    g._helper_lock.acquire()  # another request is being checked
    try:
        t = time.monotonic()
        with pytest.raises(g.CheckerUnavailable, match="busy"):
            g.compile_user("new pattern", V0)
        assert time.monotonic() - t < 1
    finally:
        g._helper_lock.release()
    assert g.compile_user("new pattern", V0)


def test_more_waiters_than_allowed_are_told_at_once(fresh, monkeypatch):
    monkeypatch.setattr(g, "_waiting", threading.BoundedSemaphore(1))
    g._waiting.acquire()
    try:
        with pytest.raises(g.CheckerUnavailable, match="busy"):
            g.compile_user("p1", V0)
    finally:
        g._waiting.release()


def test_answers_are_cached_refusals_too_and_the_cache_cost_is_bounded(fresh, monkeypatch):
    asked: list[str] = []
    real = g.check
    monkeypatch.setattr(g, "check", lambda p, f: asked.append(p) or real(p, f))
    for _ in range(3):
        with pytest.raises(g.Refused, match="invalid pattern"):
            g.compile_user("(?P<x", V0)
        g.compile_user("ok", V0)
    assert asked == ["(?P<x", "ok"]
    monkeypatch.setattr(g, "CACHE_BUDGET", 3 * 4096)  # each small pattern costs 4 KiB or more
    for i in range(10):
        g.compile_user(f"p{i}", V0)
    assert g._cache_cost <= g.CACHE_BUDGET and len(g._cache) <= 3
    assert ("p9", V0) in g._cache and ("p0", V0) not in g._cache  # least recently used go first


@pytest.mark.parametrize("pattern, refused", [
    ("x{1001}", True), ("x{2,5000}", True), ("x{,5000}", True), ("x{5000,}", True),
    ("x{1000}", False), (r"\{5000}", False), (r"\p{L}{3}", False), ("[0-9]{1,3}", False),
])
def test_repeat_counts_are_capped_before_any_helper_is_asked(pattern, refused):
    if refused:
        with pytest.raises(g.Refused, match="is more than 1000"):
            g.check_repeats(pattern)
    else:
        g.check_repeats(pattern)
