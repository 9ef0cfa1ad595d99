"""monitor/actions.py on real processes this test starts (each in its own session, orphaned so
that it is not a child of this process, which the rules refuse as "the console's helpers").
Pure parts (refusal) on literal input; events.py's audit record."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from monitor import actions
from monitor.actions import Gone, Refused, Reused, open_target, refusal
from monitor.events import Audit, EventLog
from tests.conftest import ROOT

LOOP = "import time\nwhile True: time.sleep(0.05)"
# Ignores TERM, then says so by creating the file named by its argument.
IGNORE_TERM = ("import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
               "open(sys.argv[1], 'w').close()\nwhile True: time.sleep(0.05)")


def wait_for(path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.01)


@pytest.fixture
def orphan():
    """Start ``argv`` as an orphan (its shell parent exits at once) in its own session; returns
    (pid, started). Every one still alive is killed after the test."""
    pids: list[tuple[int, float]] = []

    def start(*argv: str) -> tuple[int, float]:
        out = subprocess.run(["setsid", "sh", "-c", '"$@" >/dev/null 2>&1 </dev/null & echo $!',
                              "sh", *argv], capture_output=True, text=True, timeout=10, check=True)
        pid = int(out.stdout.strip())
        started = psutil.Process(pid).create_time()
        pids.append((pid, started))
        deadline = time.monotonic() + 5  # until it runs its own program (not the shell's fork)
        while time.monotonic() < deadline and psutil.Process(pid).ppid() == os.getpid():
            time.sleep(0.01)
        return pid, started

    yield start
    for pid, started in pids:
        try:
            p = psutil.Process(pid)
            if abs(p.create_time() - started) < 0.05:
                p.kill()
        except psutil.NoSuchProcess:
            pass


def test_refusal_rules_on_literal_input():
    me, parent = 500, 400
    assert "init system" in refusal(1, 0, 0, 1, console=me, console_parent=parent)
    assert "kernel thread" in refusal(2, 0, actions.PF_KTHREAD, 2, console=me, console_parent=parent)
    assert "kernel thread" in refusal(77, 2, 0, 77, console=me, console_parent=parent)  # kthreadd's child
    assert "kernel thread" in refusal(78, 5, actions.PF_KTHREAD, 78, console=me, console_parent=parent)
    assert "thread of process 900" in refusal(901, 400, 0, 900, console=me, console_parent=parent)
    assert "console itself" in refusal(500, 400, 0, 500, console=me, console_parent=parent)
    assert "parent" in refusal(400, 1, 0, 400, console=me, console_parent=parent)
    assert "helper" in refusal(600, 500, 0, 600, console=me, console_parent=parent)
    assert refusal(900, 1, 0x400000, 900, console=me, console_parent=parent) is None


def test_signals_reach_the_process_and_say_what_became_of_it(orphan, tmp_path):
    pid, started = orphan(sys.executable, "-c", IGNORE_TERM, str(tmp_path / "ready"))
    wait_for(tmp_path / "ready")
    with open_target(pid, started) as t:
        assert t.name.startswith("python") and IGNORE_TERM.splitlines()[0][:20] in t.command
        out = actions.send(t, "TERM", wait=0.3)  # ignored: still running after the wait
        assert out.result == "running" and "still running" in out.message
        assert actions.send(t, "STOP").result == "stopped"
        assert psutil.Process(pid).status() == psutil.STATUS_STOPPED
        assert actions.send(t, "CONT").result == "running"
        assert psutil.Process(pid).status() != psutil.STATUS_STOPPED
        out = actions.send(t, "KILL")
        assert out.result == "gone" and "exited" in out.message


def test_term_ends_a_plain_loop_and_a_gone_process_is_not_found(orphan):
    pid, started = orphan(sys.executable, "-c", LOOP)
    with open_target(pid, started) as t:
        assert actions.send(t, "TERM").result == "gone"
    time.sleep(0.2)
    with pytest.raises((Gone, Reused)):  # a zombie under a parent that never reaps, or nothing
        t2 = open_target(pid, started)
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                # still its PID: then it is a zombie, and signalling it says it is gone
                assert actions.send(t2, "TERM").result == "gone"
                raise Gone("zombie")
        finally:
            t2.close()


def test_wrong_started_is_refused_before_anything_is_sent(orphan):
    pid, started = orphan("sleep", "30")
    with pytest.raises(Reused) as exc:
        open_target(pid, started + 5)
    assert exc.value.status == 409 and "nothing was done" in exc.value.message
    assert exc.value.name == "sleep"
    assert psutil.Process(pid).status() != psutil.STATUS_ZOMBIE  # not signalled


def test_pid_1_a_kernel_thread_a_thread_and_this_process_are_refused():
    for pid in (1, os.getpid()):
        with pytest.raises(Refused):
            open_target(pid, psutil.Process(pid).create_time())
    kthreads = [p for p in psutil.process_iter(["ppid"]) if p.info["ppid"] == 2]
    assert kthreads, "no kernel thread visible (kthreadd's children): is /proc the host's?"
    with pytest.raises(Refused) as exc:
        open_target(kthreads[0].pid, kthreads[0].create_time())
    assert "kernel thread" in exc.value.message
    import threading
    ready, stop = threading.Event(), threading.Event()
    tids: list[int] = []
    th = threading.Thread(target=lambda: (tids.append(threading.get_native_id()), ready.set(), stop.wait(5)))
    th.start()
    ready.wait(5)
    try:
        with pytest.raises(Refused) as exc:
            open_target(tids[0], psutil.Process(tids[0]).create_time())
        assert f"thread of process {os.getpid()}" in exc.value.message
    finally:
        stop.set()
        th.join()


def test_renice_raises_every_thread_and_lowering_needs_the_setting(orphan):
    threads = "import threading, time\nfor _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\ntime.sleep(60)"
    pid, started = orphan(sys.executable, "-c", threads)
    deadline = time.monotonic() + 5
    while psutil.Process(pid).num_threads() < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    with open_target(pid, started) as t:
        out = actions.renice(t, 7, allow_lower=False)
        assert (out.result, out.nice) == ("running", 7) and "4 threads" in out.message
        assert {os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir(f"/proc/{pid}/task")} == {7}
        with pytest.raises(Refused) as exc:
            actions.renice(t, 3, allow_lower=False)
        assert "RENICE_LOWER" in exc.value.message and os.getpriority(os.PRIO_PROCESS, pid) == 7
        with pytest.raises(Refused):
            actions.renice(t, 20, allow_lower=True)  # out of 0..19
        if os.geteuid() == 0:
            assert actions.renice(t, 2, allow_lower=True).nice == 2


def test_denied_without_the_capability(orphan):
    """As another user (nobody) without CAP_KILL, the kernel says no; the outcome says so."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process as another user")
    pid, started = orphan("sleep", "30")
    script = ("import sys; from monitor import actions\n"
              "t = actions.open_target(int(sys.argv[1]), float(sys.argv[2]))\n"
              "print(actions.send(t, 'TERM').result, actions.renice(t, 5, False).result)")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sys.executable, "-c", script, str(pid), repr(started)],
                       check=False, capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert r.stdout.split() == ["denied", "denied"], r.stderr
    assert psutil.Process(pid).status() in (psutil.STATUS_SLEEPING, psutil.STATUS_RUNNING)


def test_audit_records_are_events_that_no_tick_touches(tmp_path):
    log = EventLog(tmp_path / "events.jsonl", keep=10)
    rec = Audit(scope="full", via="cookie", peer="127.0.0.1", action="signal TERM", pid=42,
                started=100.5, name="sleep", result="gone")
    ev = log.audit(rec, "signal TERM on sleep (PID 42): gone", now=1000.0)
    refused = log.audit(rec.model_copy(update={"result": "refused"}), "refused", now=1000.0)
    assert ev.id != refused.id and (ev.state, refused.state) == ("ok", "warning")
    assert ev.check == "action_signal" and ev.area == "actions" and ev.end == ev.start
    log.update(1001.0, [], {"actions", "cpu"})  # a tick changes nothing about them
    assert [e.id for e in log.recent()] == [refused.id, ev.id] and log.open_events() == []
    again = EventLog(tmp_path / "events.jsonl", keep=10)  # and they survive a restart
    assert [e.audit for e in again.recent()] == [refused.audit, ev.audit]


def test_audits_from_request_threads_while_the_judge_updates(tmp_path):
    """Request threads record while the judge's thread ticks: nothing raises, nothing is lost."""
    import threading
    log = EventLog(tmp_path / "events.jsonl", keep=5000, max_bytes=1 << 24)
    rec = Audit(scope="full", via="bearer", peer="127.0.0.1", action="signal TERM", pid=1,
                result="refused")
    errors: list[BaseException] = []

    def record(n: int) -> None:
        try:
            for i in range(200):
                log.audit(rec, f"r{n}-{i}", now=2000.0 + i)
                log.recent(50)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for tick in range(300):
        log.update(1000.0 + tick, [], {"actions"})
        log.recent(500)
    for t in threads:
        t.join(30)
    assert errors == [] and len([e for e in log.recent(5000) if e.audit]) == 800
