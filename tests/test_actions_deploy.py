"""deploy/actions.conf: the shipped unit plus this drop-in passes `systemd-analyze verify`, and
`systemd-analyze security` shows it grants exactly CAP_KILL, CAP_SYS_NICE and setpriority's
group back, nothing else; deploy/polkit's rule allows only its listed units and four verbs."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import IN_CI, ROOT
from tests.test_deploy import analyze  # noqa: F401 - systemd-analyze, installed by scripts/test

UNIT = ROOT / "deploy" / "server-monitor.service"
DROP_IN = ROOT / "deploy" / "actions.conf"
RULE = ROOT / "deploy" / "polkit" / "50-server-monitor.rules"


def unit_dir(tmp_path, drop_in: str | None) -> dict:
    """The unit (pointed at this checkout) in its own search path, with the drop-in beside it;
    the environment that makes systemd-analyze load both."""
    text = (UNIT.read_text().replace("/opt/server-monitor/venv/bin/python", sys.executable)
            .replace("/opt/server-monitor/app", str(ROOT)))
    (tmp_path / "server-monitor.service").write_text(text)
    if drop_in is not None:
        d = tmp_path / "server-monitor.service.d"
        d.mkdir()
        (d / "actions.conf").write_text(drop_in)
    return {"SYSTEMD_UNIT_PATH": f"{tmp_path}:", "PATH": "/usr/bin:/bin"}


def run(analyze: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([analyze, *args], capture_output=True, text=True, timeout=60, env=env,
                          check=False)


def test_drop_in_verifies_clean(analyze, tmp_path):
    env = unit_dir(tmp_path, DROP_IN.read_text())
    r = run(analyze, env, "verify", "server-monitor.service")
    assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", r.stderr


def test_verify_reads_the_drop_in(analyze, tmp_path):
    """The check above can fail: a misspelt key in the drop-in is reported."""
    env = unit_dir(tmp_path, DROP_IN.read_text() + "AmbientCapabilitis=CAP_KILL\n")
    assert "AmbientCapabilitis" in run(analyze, env, "verify", "server-monitor.service").stderr


def exposure(analyze: str, env: dict) -> dict[str, bool]:
    r = run(analyze, env, "security", "--offline=true", "--json=short", "server-monitor.service")
    assert r.returncode == 0, r.stderr
    return {row["json_field"]: row["set"] for row in json.loads(r.stdout)}


def test_drop_in_grants_exactly_kill_nice_and_setpriority(analyze, tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "with").mkdir()
    before = exposure(analyze, unit_dir(tmp_path / "plain", None))
    after = exposure(analyze, unit_dir(tmp_path / "with", DROP_IN.read_text()))
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {"CapabilityBoundingSet_CAP_KILL", "CapabilityBoundingSet_CAP_SYS_NICE_RESOURCE",
                       "SystemCallFilter_resources"}, changed
    r = run(analyze, unit_dir(tmp_path / "with", None) | {}, "syscall-filter", "@resources")
    # only setpriority of that group is added: the unit's own line still removes the rest
    assert "setpriority" in r.stdout
    text = DROP_IN.read_text()
    assert re.search(r"(?m)^SystemCallFilter=setpriority$", text)
    assert re.search(r"(?m)^AmbientCapabilities=CAP_KILL CAP_SYS_NICE$", text)
    assert re.search(r"(?m)^CapabilityBoundingSet=CAP_KILL CAP_SYS_NICE$", text)


def test_drop_in_keeps_the_exposure_low(analyze, tmp_path):
    env = unit_dir(tmp_path, DROP_IN.read_text())
    r = run(analyze, env, "security", "--offline=true", "--threshold=30", "server-monitor.service")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr


def test_polkit_rule_allows_only_listed_units_and_verbs():
    """The rule evaluated by a JavaScript engine (polkit's own is duktape or mozjs; node stands
    in): only the listed unit, only the four verbs, only the service user, only manage-units."""
    text = RULE.read_text()
    assert 'action.id !== "org.freedesktop.systemd1.manage-units"' in text
    assert 'subject.user !== "server-monitor"' in text
    assert re.search(r'VERBS = \["start", "stop", "restart", "reload"\]', text)
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        if IN_CI:
            pytest.fail("node not found: scripts/test installs nodejs")
        pytest.skip("node not installed (apt-get install nodejs)")
    harness = """
const fs = require("fs"); let rule;
const polkit = {Result: {YES: "yes", NOT_HANDLED: "nh"}, addRule: f => { rule = f; }};
eval(fs.readFileSync(process.argv[1], "utf8"));
const ask = (id, user, unit, verb) => rule({id, lookup: k => ({unit, verb})[k]}, {user});
const M = "org.freedesktop.systemd1.manage-units";
console.log(JSON.stringify([ask(M, "server-monitor", "nginx.service", "restart"),
  ask(M, "server-monitor", "sshd.service", "restart"), ask(M, "server-monitor", "nginx.service", "enable"),
  ask(M, "alice", "nginx.service", "restart"), ask("org.freedesktop.login1.reboot", "server-monitor", "", "")]));
"""
    r = subprocess.run([node, "-e", harness, "--", str(RULE)], capture_output=True, text=True,
                       timeout=30, check=False)
    assert json.loads(r.stdout) == ["yes", "nh", "nh", "nh", "nh"], r.stderr
