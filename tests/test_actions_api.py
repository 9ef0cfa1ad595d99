"""Actions over HTTP against a real console (a subprocess) and real processes this test starts:
signals and renice through /api/processes/{pid}/signal and /renice and through the page's forms,
with the console as root and as nobody (setpriv) granted deploy/actions.conf's capabilities;
every refusal; the audit records in /api/events and the console's log."""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import psutil
import pytest

from tests.conftest import ARTIFACTS, IN_CI, ROOT, TEST_TOKEN, free_port, stop_process

AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}
DISPLAY_TOKEN = "test-display-token-0123456789ab"
ENABLED = {"SERVER_MONITOR_ACTIONS": '["signal", "renice"]'}
NOBODY = 65534
CAPS = ["--inh-caps=+kill,+sys_nice", "--ambient-caps=+kill,+sys_nice",
        "--bounding-set=-all,+kill,+sys_nice"]


class Console:
    """A console on loopback, optionally under a command prefix (setpriv)."""

    def __init__(self, env: dict, prefix: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data = tempfile.mkdtemp(prefix="sm-actions-")
        os.chmod(data, 0o777)  # nobody writes its events here
        self.env = {**os.environ, "SERVER_MONITOR_TICK": "1", "SERVER_MONITOR_TOKEN": TEST_TOKEN,
                    "SERVER_MONITOR_DATA_DIR": data, "PYTHONUNBUFFERED": "1", **env}
        self.log_path = ARTIFACTS / f"actions-{self.port}.log"
        ARTIFACTS.mkdir(exist_ok=True)
        with open(self.log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [*(prefix or []), sys.executable, "main.py", "--host", "127.0.0.1", "--port",
                 str(self.port)], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log_path.read_text()[-2000:]
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "console did not answer /healthz"
            time.sleep(0.1)

    def post(self, path: str, headers: dict | None = AUTH, **kw) -> httpx.Response:
        return httpx.post(self.url + path, headers=headers or {}, timeout=15, **kw)

    def get(self, path: str, headers: dict | None = AUTH, **kw) -> httpx.Response:
        return httpx.get(self.url + path, headers=headers or {}, timeout=15, **kw)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def audits(self) -> list[dict]:
        return [e for e in self.get("/api/events?limit=500").json()["events"] if e.get("audit")]

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture
def console():
    started: list[Console] = []

    def start(env: dict | None = None, prefix: list[str] | None = None) -> Console:
        c = Console(env or {}, prefix)
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


@pytest.fixture
def target():
    """A real process in its own process group: (Popen, started). Killed after the test."""
    procs: list[subprocess.Popen] = []

    def start(*argv: str) -> tuple[subprocess.Popen, float]:
        # A runner started under nohup ignores SIGHUP, and one started in the background by a
        # shell without job control ignores SIGINT; exec keeps what is ignored: the target must
        # take the signals the tests send as any process would.
        kept = {s: signal.signal(s, signal.SIG_DFL) for s in (signal.SIGHUP, signal.SIGINT)}
        try:
            p = subprocess.Popen(list(argv or ("sleep", "60")), start_new_session=True)
        finally:
            for s, handler in kept.items():
                signal.signal(s, handler)
        procs.append(p)
        return p, psutil.Process(p.pid).create_time()

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(5)


def exited(p: subprocess.Popen, timeout: float = 5) -> bool:
    try:
        p.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def as_nobody(caps: bool) -> list[str]:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        if IN_CI:
            pytest.fail("needs root and setpriv (.ci/run runs as root)")
        pytest.skip("needs root and setpriv")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            *(CAPS if caps else ["--bounding-set=-all"])]


def form_token(c: Console, pid: int, started: float, headers: dict, **what) -> str:
    r = c.get(f"/fragments/processes/{pid}/actions", headers=headers,
              params={"started": f"{started:.2f}", **what})
    assert r.status_code == 200, r.text
    return re.search(r'name="token" value="([0-9a-f]{64})"', r.text).group(1)


def test_signal_and_renice_as_root_with_audit(console, target):
    c = console(ENABLED)
    p, started = target("sleep", "60")
    r = c.post(f"/api/processes/{p.pid}/renice", json={"nice": 9, "started": started})
    assert r.status_code == 200 and r.json()["nice"] == 9, r.text
    assert os.getpriority(os.PRIO_PROCESS, p.pid) == 9
    r = c.post(f"/api/processes/{p.pid}/renice", json={"nice": 4, "started": started})
    assert r.status_code == 403 and "RENICE_LOWER" in r.json()["detail"]
    assert os.getpriority(os.PRIO_PROCESS, p.pid) == 9
    r = c.post(f"/api/processes/{p.pid}/signal", json={"signal": "STOP", "started": started})
    assert (r.status_code, r.json()["result"]) == (200, "stopped")
    assert psutil.Process(p.pid).status() == psutil.STATUS_STOPPED
    r = c.post(f"/api/processes/{p.pid}/signal", json={"signal": "CONT", "started": started})
    assert r.json()["result"] == "running"
    r = c.post(f"/api/processes/{p.pid}/signal", json={"signal": "TERM", "started": started})
    body = r.json()
    assert (r.status_code, body["result"], body["name"]) == (200, "gone", "sleep"), body
    assert exited(p) and p.returncode == -signal.SIGTERM
    records = c.audits()
    assert [e["audit"]["action"] for e in records][:5] == [
        "signal TERM", "signal CONT", "signal STOP", "renice 4", "renice 9"]
    term = records[0]
    assert term["id"] == body["event"] and term["check"] == "action_signal"
    assert term["audit"].items() >= {"scope": "full", "via": "bearer", "peer": "127.0.0.1",
                                     "pid": p.pid, "name": "sleep", "result": "gone"}.items()
    assert abs(term["audit"]["started"] - started) < 0.05
    assert records[3]["audit"]["result"] == "refused" and records[3]["state"] == "warning"
    assert re.search(rf"action: signal TERM on sleep \(PID {p.pid}, started [0-9.]+\) by full "
                     rf"\(bearer\) from 127\.0\.0\.1: gone", c.log())


def test_lowering_nice_with_the_setting(console, target):
    c = console({**ENABLED, "SERVER_MONITOR_RENICE_LOWER": "true"})
    p, started = target("nice", "-n", "12", "sleep", "60")
    time.sleep(0.2)  # nice execs sleep: same process, same start time
    r = c.post(f"/api/processes/{p.pid}/renice", json={"nice": 3, "started": started})
    assert r.status_code == 200 and os.getpriority(os.PRIO_PROCESS, p.pid) == 3, r.text


def test_as_nobody_with_the_drop_ins_capabilities(console, target):
    c = console({**ENABLED, "SERVER_MONITOR_RENICE_LOWER": "true"}, prefix=as_nobody(caps=True))
    assert psutil.Process(c.proc.pid).uids().real == NOBODY or any(
        ch.uids().real == NOBODY for ch in psutil.Process(c.proc.pid).children())
    p, started = target("sleep", "60")  # root's process
    r = c.post(f"/api/processes/{p.pid}/renice", json={"nice": 15, "started": started})
    assert r.status_code == 200 and os.getpriority(os.PRIO_PROCESS, p.pid) == 15, r.text
    r = c.post(f"/api/processes/{p.pid}/renice", json={"nice": 5, "started": started})
    assert r.status_code == 200 and os.getpriority(os.PRIO_PROCESS, p.pid) == 5, r.text
    r = c.post(f"/api/processes/{p.pid}/signal", json={"signal": "KILL", "started": started})
    assert (r.status_code, r.json()["result"]) == (200, "gone"), r.text
    assert exited(p) and p.returncode == -signal.SIGKILL


def test_as_nobody_without_capabilities_the_kernel_says_no(console, target):
    c = console(ENABLED, prefix=as_nobody(caps=False))
    p, started = target("sleep", "60")
    r = c.post(f"/api/processes/{p.pid}/signal", json={"signal": "TERM", "started": started})
    assert r.status_code == 403 and "permission denied" in r.json()["detail"]
    assert "CAP_KILL" in r.json()["detail"] and p.poll() is None
    r = c.post(f"/api/processes/{p.pid}/renice", json={"nice": 10, "started": started})
    assert r.status_code == 403 and "permission denied" in r.json()["detail"]
    assert os.getpriority(os.PRIO_PROCESS, p.pid) == 0
    assert [e["audit"]["result"] for e in c.audits()][:2] == ["denied", "denied"]


def test_refusals(console, target):
    c = console({**ENABLED, "SERVER_MONITOR_DISPLAY_TOKEN": DISPLAY_TOKEN})
    p, started = target("sleep", "60")
    url, ok = f"/api/processes/{p.pid}/signal", {"signal": "TERM", "started": started}
    basic = {"Authorization": "Basic " + base64.b64encode(f"x:{TEST_TOKEN}".encode()).decode()}
    cases = [
        ("anonymous", c.post(url, headers={}, json=ok), 401),
        ("display", c.post(url, headers={"Authorization": f"Bearer {DISPLAY_TOKEN}"}, json=ok), 403),
        ("cross-site", c.post(url, headers={**AUTH, "Origin": "http://evil.example"}, json=ok), 403),
        ("cross-site fetch", c.post(url, headers={**AUTH, "Sec-Fetch-Site": "cross-site"}, json=ok), 403),
        ("basic, no token", c.post(url, headers=basic, json=ok), 403),
        ("basic, wrong token", c.post(url, headers=basic, json={**ok, "token": "0" * 64}), 403),
        ("wrong started", c.post(url, json={**ok, "started": started + 3}), 409),
        ("GET", c.get(url), 405),
        ("bad signal", c.post(url, json={**ok, "signal": "USR1"}), 422),
        ("page form, no token", c.post(f"/processes/{p.pid}/signal", data={
            "signal": "TERM", "started": f"{started:.2f}"}), 403),
    ]
    for what, r, status in cases:
        assert r.status_code == status, (what, r.status_code, r.text)
    assert p.poll() is None, "a refused request signalled the process"
    refusals = {
        1: "init system",
        c.proc.pid: "console itself",
        os.getpid(): "parent",
        next(q.pid for q in psutil.process_iter(["ppid"]) if q.info["ppid"] == 2): "kernel thread",
    }
    for pid, why in refusals.items():
        r = c.post(f"/api/processes/{pid}/signal",
                   json={"signal": "STOP", "started": psutil.Process(pid).create_time()})
        assert r.status_code == 403 and why in r.json()["detail"], (pid, r.text)
    # A login cookie (what a browser sends by itself) needs the form token; with it, it acts.
    jar = httpx.post(c.url + "/login", data={"token": TEST_TOKEN}, follow_redirects=False).cookies
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    assert c.post(url, headers=cookie, json=ok).status_code == 403
    token = form_token(c, p.pid, started, cookie, signal="TERM")
    assert c.post(url, headers=cookie, json={**ok, "token": token}).json()["result"] == "gone"
    assert exited(p)
    by = {(e["audit"]["scope"], e["audit"]["via"], e["audit"]["result"]) for e in c.audits()}
    assert {("none", "none", "refused"), ("display", "bearer", "refused"),
            ("full", "basic", "refused"), ("full", "bearer", "pid reused"),
            ("full", "cookie", "refused"), ("full", "cookie", "gone")} <= by, by
    assert len(c.audits()) >= len(cases) - 2 + len(refusals) + 2  # GET and 422 are no attempts


def test_anonymous_full_still_never_acts(console, target):
    c = console({**ENABLED, "SERVER_MONITOR_ANONYMOUS": "full"})
    p, started = target("sleep", "60")
    assert c.get(f"/processes/{p.pid}?started={started:.2f}", headers={}).status_code == 200
    assert "proc-actions" not in c.get(f"/processes/{p.pid}?started={started:.2f}", headers={}).text
    r = c.post(f"/api/processes/{p.pid}/signal", headers={}, json={"signal": "KILL", "started": started})
    assert r.status_code == 401 and "anonymous requests never act" in r.json()["detail"]
    assert c.get(f"/fragments/processes/{p.pid}/actions?started={started:.2f}&signal=KILL",
                 headers={}).status_code == 401
    assert p.poll() is None


def test_disabled_kinds_are_not_served_and_draw_nothing(console, target):
    c = console({"SERVER_MONITOR_ACTIONS": '["renice"]'})
    p, started = target("sleep", "60")
    r = c.post(f"/api/processes/{p.pid}/signal", json={"signal": "KILL", "started": started})
    assert r.status_code == 404 and p.poll() is None
    page = c.get(f"/processes/{p.pid}?started={started:.2f}").text
    assert "proc-actions" in page and "act-renice" in page and 'data-signal="KILL"' not in page
    spec = c.get("/openapi.json").json()["paths"]
    assert "/api/processes/{pid}/renice" in spec and "/api/processes/{pid}/signal" not in spec
    assert set(spec["/api/processes/{pid}/renice"]["post"]["responses"]) >= {"200", "401", "403", "404", "409", "422"}
    assert c.audits()[0]["audit"].items() >= {"action": "signal", "result": "refused", "pid": p.pid}.items()
    off = console({})
    assert off.post(f"/api/processes/{p.pid}/renice", json={"nice": 5, "started": started}).status_code == 404
    assert "proc-actions" not in off.get(f"/processes/{p.pid}?started={started:.2f}").text


def test_page_forms_confirm_then_act(console, target):
    c = console(ENABLED)
    p, started = target("sleep", "60")
    confirm = c.get(f"/fragments/processes/{p.pid}/actions",
                    params={"started": f"{started:.2f}", "signal": "TERM"})
    assert "SIGTERM" in confirm.text and "sleep 60" in confirm.text and p.poll() is None
    token = re.search(r'name="token" value="([0-9a-f]{64})"', confirm.text).group(1)
    other, _ = target("sleep", "61")  # a token is for its target only
    wrong = c.post(f"/processes/{other.pid}/signal", headers={**AUTH, "HX-Request": "true"},
                   data={"signal": "TERM", "started": f"{psutil.Process(other.pid).create_time():.2f}",
                         "token": token})
    assert 'data-result="refused"' in wrong.text and other.poll() is None
    r = c.post(f"/processes/{p.pid}/signal", headers={**AUTH, "HX-Request": "true"},
               data={"signal": "TERM", "started": f"{started:.2f}", "token": token})
    assert r.status_code == 200 and 'data-result="gone"' in r.text, r.text
    assert exited(p)
    assert "signal TERM" in r.text  # the audit record shown with the result
    # The confirmation masks secrets in the command line like the rest of the console.
    secret, _ = target(sys.executable, "-c", "import time; time.sleep(60)", "--password=hunter2")
    confirm = c.get(f"/fragments/processes/{secret.pid}/actions", params={
        "started": f"{psutil.Process(secret.pid).create_time():.2f}", "nice": "12"})
    assert "hunter2" not in confirm.text and "--password=" in confirm.text and "nice <strong>12" in confirm.text


def test_int_and_hup_end_a_sleep_and_the_page_lists_the_records(console, target):
    c = console(ENABLED)
    for sig in ("INT", "HUP"):
        p, started = target("sleep", "60")
        r = c.post(f"/api/processes/{p.pid}/signal", json={"signal": sig, "started": started})
        assert r.json()["result"] == "gone" and exited(p) and p.returncode == -getattr(signal, f"SIG{sig}")
    q, started = target("sleep", "60")
    c.post(f"/api/processes/{q.pid}/renice", json={"nice": 11, "started": started})
    page = c.get(f"/processes/{q.pid}?started={started:.2f}").text
    assert "renice 11" in page and 'data-audit-result="running"' in page and "signal HUP" not in page


def test_unit_actions_refuse_or_say_they_are_not_done(console):
    """The ``unit`` kind: only listed units, only a presented full credential; on a host without
    systemd's bus (this console's services area is not connected) a 503 that says so. Jobs
    against a real systemd: tests/test_services.py."""
    c = console({"SERVER_MONITOR_ACTIONS": '["unit"]', "SERVER_MONITOR_ACTION_UNITS": '["nginx.service"]',
                 "SERVER_MONITOR_DISPLAY_TOKEN": DISPLAY_TOKEN})
    assert c.post("/api/services/nginx.service/restart", headers={}).status_code == 401
    assert c.post("/api/services/nginx.service/restart",
                  headers={"Authorization": f"Bearer {DISPLAY_TOKEN}"}).status_code == 403
    r = c.post("/api/services/sshd.service/restart")
    assert r.status_code == 403 and "SERVER_MONITOR_ACTION_UNITS" in r.json()["detail"]
    assert c.post("/api/services/nginx.service/enable").status_code == 422
    assert c.post("/api/services/..%2f..%2fetc/restart").status_code in (404, 422)
    r = c.post("/api/services/nginx.service/restart")
    assert r.status_code == 503 and "systemd" in r.json()["detail"]
    units = [e["audit"] for e in c.audits() if e["audit"]["unit"]]
    assert [(u["action"], u["unit"], u["result"]) for u in units][:2] == [
        ("unit restart", "nginx.service", "not done"), ("unit restart", "sshd.service", "refused")]
    assert c.post(f"/api/processes/{os.getpid()}/signal",
                  json={"signal": "TERM", "started": 1.0}).status_code == 404  # signal is off


def test_bad_input_is_a_clear_4xx(make_client):
    c = make_client(actions=["signal", "renice"])
    ok = {"signal": "TERM", "started": 1000.0}
    for path, body in [("/api/processes/0/signal", ok), ("/api/processes/99999999/signal", ok),
                       ("/api/processes/5/signal", {**ok, "started": float("nan")}),
                       ("/api/processes/5/signal", {**ok, "started": 1e12}),
                       ("/api/processes/5/signal", {**ok, "token": "x" * 129}),
                       ("/api/processes/5/signal", {**ok, "extra": 1}),
                       ("/api/processes/5/renice", {"nice": -1, "started": 1000.0}),
                       ("/api/processes/5/renice", {"nice": 20, "started": 1000.0})]:
        r = c.post(path, content=json.dumps(body, allow_nan=True),
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"], (path, body, r.text)
    r = c.post("/processes/5/signal", content=b"signal=TERM&started=" + b"9" * 5000,
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    r = c.post("/processes/5/renice", data={"nice": "x", "started": "1000"})
    assert r.status_code == 422 and "renice" in r.text
    schema = c.get("/openapi.json").json()["components"]["schemas"]
    assert (schema["ReniceRequest"]["properties"]["nice"]["minimum"],
            schema["ReniceRequest"]["properties"]["nice"]["maximum"]) == (0, 19)
    assert schema["SignalRequest"]["properties"]["started"]["maximum"] == 1e11


def test_a_flood_of_refused_attempts_cannot_push_out_the_records(make_client):
    """Anonymous refusals are recorded at most REFUSED_PER_MINUTE a minute; the rest only logged."""
    from views.actions_audit import REFUSED_PER_MINUTE
    c = make_client(actions=["signal"], credential=False)
    for _ in range(REFUSED_PER_MINUTE + 10):
        assert c.post("/api/processes/5/signal", json={"signal": "KILL", "started": 1.0}).status_code == 401
    events = c.app.state.judge.events.recent(1000)
    assert len([e for e in events if e.audit and e.audit.scope == "none"]) == REFUSED_PER_MINUTE


@pytest.mark.parametrize("error, status, says, result", [
    (PermissionError("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: Interactive authentication required."),
     403, "systemd refused (polkit)", "permission denied"),
    (TimeoutError("systemd's restart job for x.service did not finish in 30 s"), 504, "did not finish", "timeout"),
    (ConnectionError("the bus connection closed"), 503, "systemd's bus", "not done"),
])
def test_a_unit_job_systemd_refuses_is_said_and_audited(make_client, tmp_path, error, status, says, result):
    """Fault injection: systemd answering a job with polkit's refusal (a console that is not root,
    without deploy/polkit/'s rule), a job that never ends, a lost bus: each a clear 4xx/5xx, and
    audited. The real jobs run against a real systemd in tests/test_services.py."""
    class Refusing:
        def job(self, verb, unit):
            raise error
    c = make_client(actions=["unit"], action_units=["x.service"], data_dir=tmp_path)
    c.app.state.unit_jobs = Refusing()
    r = c.post("/api/services/x.service/restart")
    assert r.status_code == status and says in r.json()["detail"], r.json()
    [ev] = [e for e in c.get("/api/events").json()["events"] if e.get("audit")]
    assert (ev["audit"]["action"], ev["audit"]["unit"], ev["audit"]["result"]) == ("unit restart", "x.service", result)
