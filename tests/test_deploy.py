"""deploy/server-monitor.service passes `systemd-analyze verify` and keeps its exposure score low.

The unit names /opt/server-monitor paths; the test verifies a copy pointed at this checkout (verify
checks that ExecStart exists). Under CI=true a missing systemd-analyze fails: .ci/run installs it.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import IN_CI, ROOT

UNIT = ROOT / "deploy" / "server-monitor.service"


@pytest.fixture
def analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if IN_CI:
            pytest.fail("systemd-analyze not found: .ci/run must install systemd")
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    return tool


def local_copy(tmp_path, extra: str = "") -> str:
    text = (UNIT.read_text()
            .replace("/opt/server-monitor/venv/bin/python", sys.executable)
            .replace("/opt/server-monitor/app", str(ROOT)))
    path = tmp_path / "server-monitor.service"
    path.write_text(text + extra)
    return str(path)


def verify(analyze: str, unit: str) -> subprocess.CompletedProcess:
    return subprocess.run([analyze, "verify", unit], capture_output=True, text=True, timeout=60)


def test_unit_verifies_clean(analyze, tmp_path):
    r = verify(analyze, local_copy(tmp_path))
    assert r.returncode == 0 and r.stdout.strip() == "" and r.stderr.strip() == "", r.stderr


def test_verify_would_catch_a_mistake(analyze, tmp_path):
    """The check above can fail: a misspelt hardening key is reported."""
    r = verify(analyze, local_copy(tmp_path, "\n[Service]\nProtectSytem=strict\n"))
    assert "ProtectSytem" in r.stderr


def test_exposure_stays_low(analyze, tmp_path):
    """systemd's own hardening score (0 = locked down, 100 = fully exposed); this unit is ~22."""
    r = subprocess.run([analyze, "security", "--offline=true", "--threshold=30", local_copy(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr


def test_unit_runs_as_its_own_user_with_only_the_two_capabilities():
    settings = dict(line.split("=", 1) for line in UNIT.read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    assert settings["User"] == "server-monitor" and settings["NoNewPrivileges"] == "yes"
    assert settings["ProtectSystem"] == "strict" and settings["ProtectHome"] == "yes"
    assert settings["PrivateTmp"] == "yes"
    caps = {"CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"}
    assert set(settings["AmbientCapabilities"].split()) == caps
    assert set(settings["CapabilityBoundingSet"].split()) == caps


def test_unit_is_watched_and_capped():
    """Type=notify with a watchdog the sampler pings (monitor/watchdog.py, tests/test_watchdog.py),
    and caps on memory and tasks well above what was measured (the figures are in the unit)."""
    settings = dict(line.split("=", 1) for line in UNIT.read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    assert (settings["Type"], settings["NotifyAccess"]) == ("notify", "main")
    assert settings["Restart"] == "on-failure"  # a watchdog timeout counts as a failure
    assert 10 <= int(settings["WatchdogSec"].removesuffix("s")) <= 60  # many ticks, under a minute
    assert settings["MemoryMax"].endswith("M") and 256 <= int(settings["MemoryMax"][:-1]) <= 1024
    assert 128 <= int(settings["TasksMax"]) <= 1024
    assert "AF_UNIX" in settings["RestrictAddressFamilies"].split()  # $NOTIFY_SOCKET is one
