"""Notifications end to end: a spawned console, a real episode on a tmpfs the test fills, and real
receivers on loopback started here: an SMTP server (aiosmtpd) and an HTTP webhook receiver (the
stdlib's http.server) that Apprise's json:// posts to.

Every check but the two filesystem checks of the test's own tmpfs is disabled, so the messages
depend on nothing else on the machine. The tmpfs is changed by remounting it (one syscall), so
two checks that change together change in the same tick.
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.conftest import ROOT, free_port
from tests.test_disks import _run, mounted  # noqa: F401 - the fixture: a tmpfs as root

# aiosmtpd warns that AUTH without TLS is unsafe: on loopback, in a test, that is the point.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SECRET = "pw-0xDEADBEEF"  # in every channel URL: must never show anywhere
TOKEN = "tok-5ecret-q"
HOST = "monitor.example.com"


# --- receivers -------------------------------------------------------------------------------
class Inbox:
    """What a receiver got, in order, with a condition to wait on (bounded in time)."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.cond = threading.Condition()

    def add(self, item: dict) -> None:
        with self.cond:
            self.items.append({**item, "at": time.monotonic()})
            self.cond.notify_all()

    def wait(self, n: int, timeout: float = 15.0) -> list[dict]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) >= n, timeout)
            assert len(self.items) >= n, f"got {len(self.items)} of {n}: {self.items}"
            return list(self.items)

    def wait_for_title(self, ending: str, timeout: float = 15.0) -> list[dict]:
        """Until an item whose title ends with ``ending`` has come (deliveries before it may be
        any number, such as reminders)."""
        def arrived() -> bool:
            return any(i.get("title", "").endswith(ending) for i in self.items)
        with self.cond:
            self.cond.wait_for(arrived, timeout)
            assert arrived(), f"no {ending!r} in {[i.get('title') for i in self.items]}"
            return list(self.items)

    def quiet(self, n: int, seconds: float) -> None:
        """No more than ``n`` items during ``seconds``."""
        time.sleep(seconds)
        assert len(self.items) == n, [i.get("title") for i in self.items]


@pytest.fixture
def webhook():
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            inbox.add({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def do_GET(self):  # the heartbeat
            inbox.add({"path": self.path, "title": "GET"})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    inbox.url = f"json://hook:{SECRET}@127.0.0.1:{server.server_address[1]}/hook?token={TOKEN}"
    inbox.port = server.server_address[1]
    yield inbox
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    inbox = Inbox()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            inbox.add({"title": msg["Subject"], "message": msg.get_content(), "to": envelope.rcpt_tos,
                       "content_type": msg.get_content_type()})
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        inbox.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"alerts", SECRET.encode()))

    inbox.logins = []
    port = free_port()
    # Apprise logs in with the URL's user and password: plain AUTH on loopback, checked here.
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    inbox.url = (f"mailto://alerts:{SECRET}@127.0.0.1:{port}?from=monitor@example.com"
                 f"&to=ops@example.com&mode=insecure")
    yield inbox
    controller.stop()


@pytest.fixture
def tmpfs(tmp_path, mounted):  # noqa: F811
    """A 4 MiB tmpfs with 200 inodes of the test's own; ``fill(bytes%, inodes%)``, ``resize(%)``."""
    mp = tmp_path / "scratch"
    mp.mkdir()
    mounted("-t", "tmpfs", "-o", "size=4m,nr_inodes=200", "tmpfs", str(mp))

    class Fs:
        path = str(mp)
        used = 0

        def fill(self, percent: float, inodes: int = 0) -> None:
            st = os.statvfs(mp)
            self.used = int(st.f_blocks * st.f_frsize * percent / 100)
            with open(mp / "fill", "wb") as f:
                f.write(b"\0" * self.used)
            for i in range(inodes):
                (mp / f"f{i}").touch()

        def resize(self, percent: float, inodes: int = 200) -> None:
            """Remount so the same data is ``percent`` of the size: one change, one tick."""
            size = int(self.used * 100 / percent)
            r = _run("mount", "-o", f"remount,size={size},nr_inodes={inodes}", str(mp))
            assert r.returncode == 0, r.stderr

    return Fs()


def console(spawn_server, tmp_path, fs, channels, **notify):
    """A console judging only ``fs``'s two filesystem checks, with these channels."""
    from monitor.thresholds import CHECKS
    levels = {"enabled": True, "warning": 85, "critical": 95, "for": 0, "clear": 80}
    thresholds = {name: {"enabled": False} for name in CHECKS}
    thresholds["mounts"] = {fs.path: {"disks_percent": levels, "disks_inodes_percent": levels}}
    notify = {"channels": [{"url": c} if isinstance(c, str) else c for c in channels],
              "public_url": f"https://{HOST}", "remind_every": 0, **notify}
    return spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(tmp_path / "state"),
                             "SERVER_MONITOR_THRESHOLDS": json.dumps(thresholds),
                             "SERVER_MONITOR_TMPFS_MOUNTS": json.dumps([fs.path]),
                             "SERVER_MONITOR_NOTIFY": json.dumps(notify)})


def states(server, fs, expected: dict[str, str], timeout: float = 10.0) -> None:
    """Wait until the tmpfs's non-ok verdicts in /api/health are ``expected`` (check -> state)."""
    deadline = time.monotonic() + timeout
    while True:
        body = server.get("/api/health").json()
        got = {v["check"]: v["state"] for v in body["verdicts"] if v["subject"] == fs.path}
        if got == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got == expected


def seen(server, fs, percent: float, timeout: float = 10.0) -> None:
    """Wait until the console has read the tmpfs at about ``percent`` full."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in server.get("/api/disks").json()["disks"]["filesystems"]:
            if f["mountpoint"] == fs.path and abs(f["percent"] - percent) < 1.0:
                return
        time.sleep(0.2)
    raise AssertionError(f"the console never read {fs.path} at {percent} %")


def seq(server) -> int:
    return server.get("/api/health").json()["seq"]


# --- the episode ---------------------------------------------------------------------------
def test_a_real_episode_opens_escalates_and_recovers_with_exactly_those_messages(
        spawn_server, tmp_path, tmpfs, webhook, smtp):
    tmpfs.fill(90, inodes=178)  # 90 % of the bytes; 180 of 200 inodes with the root and the file
    server = console(spawn_server, tmp_path, tmpfs, [webhook.url, smtp.url])
    host = platform.node()
    mp = tmpfs.path

    # Both checks open in the same tick (the first one): one message, to each channel.
    [opened] = webhook.wait(1)
    [mail] = smtp.wait(1)
    assert opened["title"] == f"[WARNING] {host}: 2 warning" == mail["title"]
    body = opened["message"]
    assert body.startswith(f"{host} is WARNING: 2 of 2 checks not ok (")
    assert f"OPENED     warning  disks_inodes_percent {mp}\n" in body
    assert f"OPENED     warning  disks_percent {mp}\n  {mp} is 90 % full (warning at 85 %)\n  since " in body
    assert body.endswith(f"Console: https://{HOST}/dashboard")
    assert mail["message"].replace("\r\n", "\n").rstrip("\n") == body and mail["content_type"] == "text/plain"
    assert mail["to"] == ["ops@example.com"] and smtp.logins[0] == (b"alerts", SECRET.encode())

    # Flapping inside the hysteresis (under 85 %, over the clear level 80 %): nothing.
    for pct in (83, 88, 83, 88):
        tmpfs.resize(pct)
        seen(server, tmpfs, pct)
    webhook.quiet(1, 2.0)

    # Escalation of one check: one message about it.
    tmpfs.resize(97)
    [_, escalated] = webhook.wait(2)
    assert escalated["title"] == f"[CRITICAL] {host}: disks_percent {mp} critical"
    assert f"ESCALATED  critical disks_percent {mp} (was warning)\n  {mp} is 97 % full (critical at 95 %)" \
           in escalated["message"]
    assert f"Also not ok:\n  WARNING disks_inodes_percent {mp}:" in escalated["message"]

    # Both recover in one tick (one remount): one message with both.
    tmpfs.resize(10, inodes=100_000)
    [_, _, recovered] = webhook.wait(3)
    assert recovered["title"] == f"[OK] {host}: 2 recovered"
    assert recovered["message"].count("RECOVERED  ok") == 2 and "was critical from" in recovered["message"]
    mails = smtp.wait(3)
    assert [m["title"] for m in mails] == [m["title"] for m in webhook.items]
    webhook.quiet(3, 2.0)
    assert len(smtp.items) == 3
    assert webhook.items[0]["path"] == "/hook"  # Apprise posted where the URL said


def test_a_reminder_at_the_configured_interval_while_the_episode_stays_open(
        spawn_server, tmp_path, tmpfs, webhook):
    tmpfs.fill(90)
    server = console(spawn_server, tmp_path, tmpfs, [webhook.url], remind_every=2)
    webhook.wait(1)
    time.sleep(5)
    tmpfs.resize(10)
    seen(server, tmpfs, 10)
    # Reminders keep coming until the tick that sees the recovery: wait for the recovery itself,
    # not for a count (three items may be the first and two reminders, the recovery still to come).
    got = webhook.wait_for_title(" recovered")
    webhook.quiet(len(got), 1.5)
    kinds = [m["title"].split(": ", 1)[1] for m in webhook.items]
    mp = tmpfs.path
    assert kinds[0] == f"disks_percent {mp} warning" and kinds[-1] == f"disks_percent {mp} recovered"
    reminders = kinds[1:-1]
    assert len(reminders) >= 2 and set(reminders) == {f"disks_percent {mp} still warning"}
    # When each was made (its first line's time, to the second; the tick is 1 s): every 2 s, not
    # counting delivery, which a loaded machine may delay.
    made = [time.mktime(time.strptime(m["message"].split("(", 1)[1][:19], "%Y-%m-%d %H:%M:%S"))
            for m in webhook.items]
    gaps = [b - a for a, b in zip(made, made[1:-1])]
    assert all(2 <= g <= 4 for g in gaps), gaps
    assert len(reminders) <= (made[-1] - made[0]) / 2 + 1
    assert "STILL      warning" in webhook.items[1]["message"]


# --- never in the way ------------------------------------------------------------------------
@pytest.fixture
def black_hole():
    """A port that accepts connections (the kernel's backlog) and never answers a byte."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield s.getsockname()[1]
    s.close()


def test_a_failing_channel_is_retried_reported_and_never_holds_the_tick(
        spawn_server, tmp_path, tmpfs, webhook, black_hole):
    tmpfs.fill(90)
    refused = f"json://hook:{SECRET}@127.0.0.1:{free_port()}/x?token={TOKEN}"
    hung = f"json://hook:{SECRET}@127.0.0.1:{black_hole}/x?token={TOKEN}"
    server = console(spawn_server, tmp_path, tmpfs, [webhook.url, refused, hung],
                     timeout=1, retries=2, backoff=0.3)
    start, seq0 = time.monotonic(), seq(server)
    webhook.wait(1)  # the working channel is not held up by the other two
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = server.get("/api/notifications").json()
        if all(c["failed"] == 1 for c in status["channels"][1:]):
            break
        time.sleep(0.3)
    ok, bad, slow = status["channels"]
    assert (ok["state"], ok["sent"], ok["failed"]) == ("ok", 1, 0)
    for c in (bad, slow):
        assert (c["state"], c["failed"], c["sent"]) == ("failing", 1, 0)
        tries = [a for a in status["attempts"] if a["channel"] == c["name"]]
        assert sorted(a["attempt"] for a in tries) == [1, 2, 3] and not any(a["ok"] for a in tries)
    assert "Connection error" in bad["last_error"]
    assert any(a["seconds"] >= 0.9 for a in status["attempts"] if a["channel"] == slow["name"])  # timed out

    # Sampling stayed on time all along: one tick a second, never late by an attempt's 1 s (the
    # hung channel's three attempts alone would have cost 3 s of ticks had the tick waited).
    elapsed, ticks = time.monotonic() - start, seq(server) - seq0
    assert ticks >= elapsed - 2, (ticks, elapsed)
    assert server.get("/api/console").json()["tick_lag_p99"] < 0.5

    # Shown: the counter, the health card's note; the log says so too.
    time.sleep(1.2)  # /metrics is made once per tick
    metrics = server.get("/metrics").text
    assert f'server_monitor_notifications_failed_total{{channel="{bad["name"]}"}} 1.0' in metrics
    assert f'server_monitor_notifications_sent_total{{channel="{ok["name"]}"}} 1.0' in metrics
    card = server.get("/dashboard").text
    assert "notifications failing: " in card and bad["name"] in card
    anonymous = httpx.get(server.url + "/dashboard", timeout=10).text
    assert "2 notification channels failing" in anonymous and bad["name"] not in anonymous
    log = server.log_path.read_text()
    assert f"notification channel {bad['name']}: gave up on" in log
    # Recorded in events too: one "gave up" event per failing channel.
    gave_up = [e for e in server.get("/api/events").json()["events"] if e["check"] == "notifications_failed"]
    assert sorted(e["subject"] for e in gave_up) == sorted([bad["name"], slow["name"]]), gave_up

    # Secrets: in no answer, page or log line.
    for path in ("/api/notifications", "/notifications", "/dashboard", "/api/console", "/metrics",
                 "/api/health", "/api/events", "/openapi.json", "/api/snapshot"):
        text = server.get(path).text
        assert SECRET not in text and TOKEN not in text and "hook:" not in text, path
    assert SECRET not in log and TOKEN not in log


def test_the_heartbeat_is_called_every_interval_and_shown_redacted(spawn_server, tmp_path, tmpfs, webhook):
    beat = f"http://127.0.0.1:{webhook.port}/ping/{TOKEN}"
    server = console(spawn_server, tmp_path, tmpfs, [], heartbeat_url=beat, heartbeat_every=1)
    got = webhook.wait(3)
    assert all(g["path"] == f"/ping/{TOKEN}" and g["title"] == "GET" for g in got)
    hb = server.get("/api/notifications").json()["heartbeat"]
    assert hb["url"] == f"http://127.0.0.1:{webhook.port}/…" and hb["ok"] >= 3 and hb["last_error"] is None
    assert TOKEN not in server.get("/notifications").text


# --- maintenance ---------------------------------------------------------------------------
def test_maintenance_holds_warnings_sends_critical_and_releases_the_held_at_its_end(
        spawn_server, tmp_path, tmpfs, webhook):
    server = console(spawn_server, tmp_path, tmpfs, [webhook.url])
    url = server.url + "/api/maintenance?minutes=30"
    assert httpx.post(url, headers={**server.headers, "Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert httpx.post(url).status_code == 401  # the display scope (anonymous loopback)
    r = httpx.post(url, headers={**server.headers, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200 and r.json()["maintenance"]["hold_critical"] is False
    assert httpx.post(server.url + "/api/maintenance?minutes=-1", headers=server.headers).status_code == 422

    tmpfs.fill(90, inodes=178)
    # Both warnings (the bytes and the inodes are filled one after the other: maybe two ticks).
    states(server, tmpfs, {"disks_percent": "warning", "disks_inodes_percent": "warning"})
    webhook.quiet(0, 2.0)  # warnings held
    card = server.get("/dashboard").text
    assert "until" in card and "warnings held" in card and "maintenance (set by 127.0.0.1)" in card

    tmpfs.resize(97)  # critical goes out during the window, and says the window is on
    [crit] = webhook.wait(1)
    assert "disks_percent" in crit["title"] and crit["title"].startswith("[CRITICAL]")
    assert "maintenance (set by 127.0.0.1) until " in crit["message"] and "warnings held" in crit["message"]
    assert "disks_inodes_percent" not in crit["title"]

    r = httpx.post(server.url + "/api/maintenance?minutes=0", headers=server.headers)
    assert r.json()["maintenance"] is None
    [_, held] = webhook.wait(2)  # the warning still open once the window ended
    assert held["title"].endswith(f"disks_inodes_percent {tmpfs.path} warning")
    assert f"HELD       warning  disks_inodes_percent {tmpfs.path}" in held["message"]
    webhook.quiet(2, 1.5)


# --- test sends ----------------------------------------------------------------------------
def test_notify_test_sends_to_every_channel_and_says_each_result(tmp_path, webhook, smtp):
    down = f"json://hook:{SECRET}@127.0.0.1:{free_port()}/x?token={TOKEN}"
    env = {**os.environ, "SERVER_MONITOR_DATA_DIR": str(tmp_path),
           "SERVER_MONITOR_NOTIFY": json.dumps({"channels": [
               {"url": webhook.url, "name": "hook"}, {"url": smtp.url}, {"url": down}], "timeout": 2})}
    r = subprocess.run([sys.executable, "main.py", "notify-test"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    assert r.returncode == 1, r.stdout + r.stderr
    assert lines[0] == "sent    hook"
    assert lines[1] == f"sent    mailto://127.0.0.1:{smtp.url.split(':')[3].split('?')[0]}/…"
    assert lines[2].startswith("FAILED  json://127.0.0.1:") and "Connection error" in lines[2]
    [hook] = webhook.wait(1)
    [mail] = smtp.wait(1)
    assert hook["title"] == mail["title"] and hook["title"].startswith("[TEST] ")
    assert "this channel works" in mail["message"]
    assert SECRET not in r.stdout + r.stderr and TOKEN not in r.stdout + r.stderr
    env["SERVER_MONITOR_NOTIFY"] = json.dumps({"channels": [{"url": webhook.url}]})
    assert subprocess.run([sys.executable, "main.py", "notify-test"], cwd=ROOT, env=env,
                          capture_output=True, timeout=60).returncode == 0


def test_the_test_post_is_full_scope_and_same_origin_only(spawn_server, tmp_path, tmpfs, webhook):
    server = console(spawn_server, tmp_path, tmpfs, [webhook.url])
    url = server.url + "/api/notifications/test"
    assert httpx.post(url, headers={**server.headers, "Origin": "https://evil.example"}).status_code == 403
    assert httpx.post(url).status_code == 401
    assert httpx.get(server.url + "/api/notifications").status_code == 401
    r = httpx.post(url, headers=server.headers, timeout=20)
    assert r.json() == {"results": [{"channel": f"json://127.0.0.1:{webhook.port}/…", "ok": True, "error": None}]}
    assert webhook.wait(1)[0]["title"].startswith("[TEST] ")


# --- unknown ---------------------------------------------------------------------------------
def test_a_judgment_that_keeps_failing_is_sent_once_and_so_is_its_end(tmp_path, webhook):
    from monitor.thresholds import CHECKS
    from tests.test_watchdog import start_console, stop
    fail = tmp_path / "judge-fails"
    calm = {name: {"enabled": False} for name in CHECKS}
    proc, url = start_console(None, tmp_path, script="tests/faulty_console.py",
                              SERVER_MONITOR_TEST_JUDGE_FAIL=str(fail),
                              SERVER_MONITOR_THRESHOLDS=json.dumps(calm),
                              SERVER_MONITOR_NOTIFY=json.dumps({"channels": [{"url": webhook.url}],
                                                                "unknown_after": 1}))
    try:
        webhook.quiet(0, 1.0)
        fail.touch()  # every judgment raises from now on (0.2 s ticks)
        [unknown] = webhook.wait(1)
        host = platform.node()
        assert unknown["title"] == f"[UNKNOWN] {host}: judgment unknown"
        assert "UNKNOWN    unknown  judgment\n  the console could not judge this sample: judging failed: " \
               "RuntimeError: injected judge failure" in unknown["message"]
        webhook.quiet(1, 1.5)  # once per spell, not once per tick
        fail.unlink()
        [_, back] = webhook.wait(2)
        assert back["title"] == f"[OK] {host}: judgment judged again"
        webhook.quiet(2, 1.0)
    finally:
        stop(proc)
