"""Host reboots: the boot time recorded in data_dir's ``boot_time`` at the last start, compared
with this one. A change is a "host rebooted at ..." event (check ``system_reboot``) in the
events log (monitor/events.py), and, through it, on the history's time axis.
"""
from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

log = logging.getLogger("server_monitor.events")

REBOOT_CHECK = "system_reboot"
WOBBLE = 5.0  # seconds: psutil.boot_time() moves with NTP steps, a reboot moves it far more


def current_boot_time() -> float | None:
    try:
        import psutil
        return psutil.boot_time()
    except Exception:  # noqa: BLE001 - no boot time, no reboot event
        return None


def changed_boot(state: Path, boot_time: float | None) -> float | None:
    """The new boot time if it differs from the one recorded in ``state`` (None the first time,
    or when unchanged); records it. A state file that cannot be written is logged, not raised."""
    boot_time = current_boot_time() if boot_time is None else boot_time
    if boot_time is None:
        return None
    try:
        before: float | None = float(state.read_text().strip())
    except (OSError, ValueError):
        before = None
    if before is not None and abs(boot_time - before) <= WOBBLE:
        return None
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp = state.with_name(state.name + ".tmp")
        tmp.write_text(f"{boot_time}\n")
        tmp.replace(state)
    except OSError as exc:
        log.warning("cannot record the boot time in %s: %s", state, exc)
    return None if before is None else boot_time


def reboot_reason(boot_time: float) -> str:
    when = _dt.datetime.fromtimestamp(boot_time, _dt.timezone.utc)
    return f"host rebooted at {when:%Y-%m-%d %H:%M:%S} UTC"
