"""Notifications: which messages a tick makes, from a real Judge and a real EventLog (no delivery:
the messages stay in each channel's queue, so every test sees exactly what would be sent)."""
from __future__ import annotations

import dataclasses

import pytest

from monitor.events import EventLog
from monitor.health import Judge
from monitor.notify.dispatcher import Notifier
from monitor.notify.settings import NotifySettings
from monitor.notify.changes import Item, Watcher
from monitor.thresholds import Thresholds
from tests.test_health import disks, fs, memory, processes, row, snap
from tests.test_notify import black_hole  # noqa: F401 - a port that never answers

# Apprise (imported here by the page test's channel) imports the stdlib's deprecated imghdr.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

TH = Thresholds(memory_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45},
                disks_percent={"warning": 50, "critical": 80, "for": 0, "clear": 45})


class Store:
    latest = None


class Console:
    """A judge, its event log and a notifier, driven one tick at a time."""

    def __init__(self, tmp_path, thresholds=TH, **notify) -> None:
        notify.setdefault("channels", [{"url": "json://127.0.0.1:9/hook"}])
        self.settings = NotifySettings(**notify)
        self.events = EventLog(tmp_path / "events.jsonl", boot_time=1.0)
        self.judge = Judge(thresholds, self.events)
        self.store = Store()
        self.notifier = Notifier(self.settings, self.store, self.events, host="web1")

    def tick(self, t: float, **areas):
        s = snap(t=t, **areas)
        s = dataclasses.replace(s, verdicts=tuple(self.judge(s)))
        self.store.latest = s
        self.notifier.step(s)
        return s

    def sent(self, channel: int = 0):
        """The messages queued for a channel since the last call."""
        q = self.notifier.routes[channel].queue
        out = list(q)
        q.clear()
        return out


def mem(pct, rows=()):
    return {"memory": memory(pct), "processes": processes(rows)}


def test_an_episode_opens_escalates_and_recovers_with_one_message_each(tmp_path):
    c = Console(tmp_path)
    c.tick(0, **mem(10))
    assert c.sent() == []
    c.tick(1, **mem(60, [row(7, "hog", rss=9 << 30)]))
    [opened] = c.sent()
    assert opened.subject == "[WARNING] web1: memory_percent warning"
    assert "OPENED" in opened.body and "memory is 60 % used" in opened.body
    assert "hog (pid 7)" in opened.body and "9.0 GiB" in opened.body
    c.tick(2, **mem(62))
    assert c.sent() == []  # still warning: nothing new
    c.tick(3, **mem(85))
    [escalated] = c.sent()
    assert escalated.subject == "[CRITICAL] web1: memory_percent critical"
    assert "ESCALATED  critical memory_percent (was warning)" in escalated.body
    assert escalated.type == "failure"
    c.tick(4, **mem(70))
    assert c.sent() == []  # lowered to warning: no message of its own
    c.tick(5, **mem(20))
    [recovered] = c.sent()
    assert recovered.subject == "[OK] web1: memory_percent recovered"
    assert "RECOVERED" in recovered.body and "was critical from" in recovered.body  # its worst
    assert recovered.type == "success"


def test_flapping_inside_the_hysteresis_sends_nothing(tmp_path):
    c = Console(tmp_path)
    c.tick(0, **mem(60))
    assert len(c.sent()) == 1
    for t, pct in enumerate([48, 52, 47, 55, 46, 51, 49] * 3, start=1):  # between clear 45 and 50
        c.tick(float(t), **mem(pct))
    assert c.sent() == []
    [ev] = c.events.open_events()
    assert ev.states == [(0.0, "warning")]  # the event log agrees: one state, no flap


def test_several_checks_changing_in_one_tick_make_one_message(tmp_path):
    c = Console(tmp_path)
    c.tick(0, memory=memory(10), disks=disks(fs("/", 10), fs("/var", 10)))
    c.tick(1, memory=memory(60), disks=disks(fs("/", 90), fs("/var", 60)))
    [msg] = c.sent()
    assert msg.subject == "[CRITICAL] web1: 1 critical, 2 warning"
    assert msg.body.count("OPENED") == 3
    assert "OPENED     critical disks_percent /\n" in msg.body  # the worst first
    assert "OPENED     warning  disks_percent /var\n" in msg.body
    c.tick(2, memory=memory(10), disks=disks(fs("/", 10), fs("/var", 10)))
    [msg] = c.sent()
    assert msg.subject == "[OK] web1: 3 recovered" and msg.body.count("RECOVERED") == 3


def test_reminders_at_the_interval_while_open(tmp_path):
    c = Console(tmp_path, remind_every=10)
    c.tick(0, **mem(60))
    assert len(c.sent()) == 1
    got = []
    for t in range(1, 31):
        c.tick(float(t), **mem(60))
        got += [(t, m) for m in c.sent()]
    assert [t for t, _ in got] == [10, 20, 30]
    assert all(m.subject == "[WARNING] web1: memory_percent still warning" for _, m in got)
    assert "STILL" in got[0][1].body and "since 1970-01-01 00:00:00 UTC (10 s)" in got[0][1].body


def test_levels_and_check_filters_per_channel(tmp_path):
    c = Console(tmp_path, channels=[{"url": "json://127.0.0.1:9/a", "level": "critical"},
                                    {"url": "json://127.0.0.1:9/b", "checks": ["disks_*"]}])
    c.tick(0, memory=memory(60), disks=disks(fs("/", 10)))
    assert c.sent(0) == [] and c.sent(1) == []  # critical-only; disks-only
    c.tick(1, memory=memory(90), disks=disks(fs("/", 60)))
    [crit] = c.sent(0)  # the critical channel: memory only (disks is a warning)
    assert crit.subject == "[CRITICAL] web1: memory_percent critical"
    changes, also = crit.body.split("Also not ok:")
    assert "ESCALATED  critical memory_percent (was warning)" in changes and "disks" not in changes
    assert "WARNING disks_percent /: / is 60 % full" in also  # every reason is in the message
    [disk] = c.sent(1)  # the disks channel: the disk only
    assert disk.subject == "[CRITICAL] web1: disks_percent / warning"
    assert "OPENED     warning  disks_percent /" in disk.body.split("Also not ok:")[0]
    c.tick(2, memory=memory(10), disks=disks(fs("/", 10)))
    assert [m.subject for m in c.sent(0)] == ["[OK] web1: memory_percent recovered"]
    assert [m.subject for m in c.sent(1)] == ["[OK] web1: disks_percent / recovered"]


def test_a_recovery_goes_only_to_channels_that_were_told(tmp_path):
    c = Console(tmp_path, channels=[{"url": "json://127.0.0.1:9/a", "level": "critical"}])
    c.tick(0, **mem(60))
    c.tick(1, **mem(10))
    assert c.sent() == []  # never told of the warning: no recovery either


def test_maintenance_holds_warnings_sends_critical_and_releases_what_is_still_open(tmp_path):
    c = Console(tmp_path)
    c.notifier.maintenance.set(0, minutes=1)
    c.tick(0, memory=memory(60), disks=disks(fs("/", 10)))
    assert c.sent() == []
    c.tick(1, memory=memory(60), disks=disks(fs("/", 90)))
    [crit] = c.sent()
    assert "disks_percent /" in crit.subject and "maintenance until" in crit.body
    c.tick(59, memory=memory(60), disks=disks(fs("/", 90)))
    assert c.sent() == []
    c.tick(60, memory=memory(60), disks=disks(fs("/", 90)))  # the window is over
    [held] = c.sent()
    assert held.subject == "[CRITICAL] web1: memory_percent warning" and "HELD" in held.body


def test_maintenance_that_holds_critical_too(tmp_path):
    c = Console(tmp_path)
    c.notifier.maintenance.set(0, minutes=1, hold_critical=True)
    c.tick(0, **mem(90))
    c.tick(30, **mem(10))  # over before the window ends: never sent, nothing to recover
    c.tick(61, **mem(10))
    assert c.sent() == []


def test_unknown_and_unavailable_notify_after_their_hold(tmp_path):
    c = Console(tmp_path, unknown_after=5, unavailable_after=300)
    c.tick(0, **mem(10))
    for t in range(1, 301):  # unreadable since t=1: 299 s at t=300
        c.tick(float(t), processes=processes(()), unavailable={"memory": "collection hung"})
    assert c.sent() == []
    c.tick(301, processes=processes(()), unavailable={"memory": "collection hung"})
    [msg] = c.sent()
    assert msg.subject == "[UNKNOWN] web1: memory (area) unknown"
    assert "UNREADABLE" in msg.body and "memory could not be read: collection hung" in msg.body
    c.tick(302, **mem(10))
    [back] = c.sent()
    assert "memory (area) readable again" in back.subject


def test_a_failed_judgment_notifies_after_its_hold_and_when_judged_again(tmp_path):
    # Even a channel for disks only hears of it: a judgment that fails hides the disks too.
    c = Console(tmp_path, unknown_after=5, channels=[{"url": "json://127.0.0.1:9/a", "checks": ["disks_*"]}])
    for t in range(6):
        s = snap(t=float(t), **mem(10))
        s = dataclasses.replace(s, judge_error="TimeoutError: judging took over 0.3 s")
        c.store.latest = s
        c.notifier.step(s)
    [msg] = c.sent()
    assert "judgment unknown" in msg.subject and "judging took over" in msg.body
    c.tick(6, **mem(10))
    [back] = c.sent()
    assert "judgment judged again" in back.subject


def test_a_full_queue_drops_the_oldest_and_counts(tmp_path):
    c = Console(tmp_path, queue=2)
    r = c.notifier.routes[0]
    for i in range(5):
        c.notifier.enqueue(r, f"m{i}")
    assert list(r.queue) == ["m3", "m4"] and r.dropped == 3


def test_an_episode_resumed_after_a_restart_is_not_told_again(tmp_path):
    c = Console(tmp_path)
    c.tick(0, **mem(60))
    assert len(c.sent()) == 1
    c.events.close()
    again = Console(tmp_path)
    again.tick(100, **mem(60))
    assert again.sent() == []
    again.tick(101, **mem(10))
    [rec] = again.sent()
    assert "recovered" in rec.subject


def test_an_unreadable_area_waits_five_minutes_by_default():
    w = Watcher()
    kinds = []
    for t in range(0, 302, 30):
        kinds += [(t, i.kind) for i in w.step(snap(t=float(t), unavailable={"sensors": "no answer"}))]
    assert kinds == [(300, "unavailable")]
    [back] = w.step(snap(t=302.0))
    assert (back.kind, back.key, back.was) == ("readable", "area:sensors", "unknown")
    assert isinstance(back, Item)


def test_the_page_and_fragments_carry_no_inline_code_nor_a_secret(make_client, tmp_path):
    from tests.htmlcheck import inline_code
    url = "json://hook:pw-s3cret@127.0.0.1:9/x?token=t0ken-q"
    c = make_client(data_dir=tmp_path, tick=60,
                    notify={"channels": [{"url": url}], "timeout": 1, "retries": 0})
    page = c.get("/notifications")
    assert page.status_code == 200 and inline_code(page.text) == []
    assert "json://127.0.0.1:9/…" in page.text
    fragment = c.post("/api/notifications/test", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and inline_code(fragment.text) == []
    assert 'data-ok="false"' in fragment.text and "Connection error" in fragment.text
    window = c.post("/api/maintenance?minutes=5", headers={"HX-Request": "true"})
    assert "warnings held" in window.text and inline_code(window.text) == []
    for text in (page.text, fragment.text, window.text, c.get("/api/notifications").text,
                 c.get("/dashboard").text):
        assert "pw-s3cret" not in text and "t0ken-q" not in text
    assert c.post("/api/maintenance?minutes=100000").status_code == 422  # over a week


IMPORTS = """
import json, sys, time
from fastapi.testclient import TestClient
from main import create_app
from tests.conftest import make_settings
from tests.conftest import AUTH
app = create_app(make_settings(tick=0.2, notify=json.loads(sys.argv[1])))
seen = {}
with TestClient(app, base_url="http://127.0.0.1", headers=AUTH) as c:
    time.sleep(0.6)
    assert c.get("/dashboard").status_code == 200 and c.get("/metrics").status_code == 200
    seen["running"] = {m: m in sys.modules for m in ("apprise", "monitor.notify.dispatcher")}
    # unconfigured, a maintenance window set before adding a channel still holds and is shown
    set_ = c.post("/api/maintenance?minutes=30", headers={"origin": "http://127.0.0.1"})
    seen["maintenance"] = [set_.status_code, c.get("/api/notifications").json()["maintenance"] is not None,
                           "monitor.notify.dispatcher" in sys.modules]
print(json.dumps(seen))
"""


@pytest.mark.parametrize("notify, loaded", [({}, False), ({"channels": [{"url": "json://127.0.0.1:9/x"}]}, True)])
def test_apprise_and_the_dispatcher_are_imported_only_when_a_channel_is_configured(tmp_path, notify, loaded):
    """Issue 19: a console without notifications imports none of their machinery at start (the
    dispatcher, routing, messages, Apprise); the first page or API call that needs the notifier
    imports the dispatcher (never Apprise without a channel)."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    r = subprocess.run([sys.executable, "-c", IMPORTS, json.dumps(notify)], cwd=ROOT, capture_output=True,
                       text=True, timeout=60, env={**os.environ, "SERVER_MONITOR_DATA_DIR": str(tmp_path)},
                       check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    seen = json.loads(r.stdout.splitlines()[-1])
    assert seen["running"] == {"apprise": loaded, "monitor.notify.dispatcher": loaded}, seen
    assert seen["maintenance"] == [200, True, True], seen


def test_nothing_before_the_hold_time_and_one_message_once_it_has_held(tmp_path):
    held = Thresholds(memory_percent={"warning": 50, "critical": 80, "for": 10, "clear": 45})
    c = Console(tmp_path, thresholds=held)
    for t in range(9):  # a burst shorter than the hold
        c.tick(float(t), **mem(70))
    c.tick(9, **mem(10))
    assert c.sent() == []
    for t in range(20, 31):
        c.tick(float(t), **mem(70))
    [opened] = c.sent()  # at t=30, held for 10 s; it says since when the value was past
    assert "OPENED" in opened.body and "since 1970-01-01 00:00:20 UTC (10 s)" in opened.body


def test_one_test_send_at_a_time(make_client, tmp_path, black_hole):  # noqa: F811
    import threading
    import time
    c = make_client(data_dir=tmp_path, tick=60, notify={
        "channels": [{"url": f"json://127.0.0.1:{black_hole}/x"}], "timeout": 1})
    first = []
    t = threading.Thread(target=lambda: first.append(c.post("/api/notifications/test")))
    t.start()
    deadline = time.monotonic() + 5
    while not c.app.state.notifier._testing and time.monotonic() < deadline:
        time.sleep(0.01)
    second = c.post("/api/notifications/test")
    t.join(10)
    assert second.status_code == 409 and "already" in second.json()["detail"]
    assert first[0].status_code == 200 and first[0].json()["results"][0]["ok"] is False


def test_no_second_thread_for_a_channel_whose_last_attempt_is_stuck(tmp_path):
    import asyncio
    import threading
    c = Console(tmp_path)
    r = c.notifier.routes[0]
    stuck = threading.Event()
    r.thread = threading.Thread(target=stuck.wait, daemon=True)  # as a send stuck in a name lookup
    r.thread.start()
    stuck_send = r.thread
    try:
        before = set(threading.enumerate())  # other tests' threads may end meanwhile: not counted
        from monitor.notify.message import Message
        error = asyncio.run(c.notifier.attempt(r, Message("s", "b", "info")))
        started = [t.name for t in set(threading.enumerate()) - before]
        assert "has not returned yet" in error and "notify-send" not in started, started
        assert r.thread is stuck_send  # still waiting on the stuck one, none started beside it
        assert c.notifier.attempts[-1].ok is False
    finally:
        stuck.set()


def test_a_channel_that_gives_up_and_delivers_again_is_recorded_in_events(tmp_path):
    """A real webhook port, down at first then up: giving up after the retries is an event
    (notifications_failed, with the channel and the error), and so is the first delivery after
    it (notifications_delivered); both in /api/events' source, the event log."""
    import asyncio
    import socket
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from monitor.notify.message import Message
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = Console(tmp_path, channels=[{"url": f"json://127.0.0.1:{port}/hook", "name": "hook"}],
                retries=1, backoff=0.05, timeout=2)
    c.notifier.build_targets()
    r = c.notifier.routes[0]
    assert asyncio.run(c.notifier._send_with_retries(r, Message("disk full", "b", "failure"))) is False
    [failed] = [e for e in c.events.recent() if e.check == "notifications_failed"]
    assert failed.area == "notifications" and failed.subject == r.label and failed.state == "warning"
    assert '"disk full" after 2 attempts' in failed.reason

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    import threading
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert asyncio.run(c.notifier._send_with_retries(r, Message("disk ok", "b", "success"))) is True
        [again] = [e for e in c.events.recent() if e.check == "notifications_delivered"]
        assert again.state == "ok" and "delivers again" in again.reason and r.failing_since is None
        r.thread.join(5)  # one attempt's thread at a time per channel
        assert asyncio.run(c.notifier._send_with_retries(r, Message("more", "b", "info"))) is True
        assert len([e for e in c.events.recent() if e.check == "notifications_delivered"]) == 1  # the first only
    finally:
        server.shutdown()
        server.server_close()
