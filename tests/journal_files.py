"""Real journal files made by the tests: systemd-journal-remote turns journald's export format
(systemd's JOURNAL_EXPORT_FORMATS) into a .journal file that the real journalctl reads with
--directory. So the journal tests never depend on what this host's own journal holds (CI's
machine runs no journald at all). scripts/test installs Debian's systemd-journal-remote.
"""
from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT_ID = "0123456789abcdef0123456789abcdef"


def _field(name: str, value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    if b"\n" in raw or any(b < 32 and b != 9 for b in raw) or not _utf8(raw):
        return name.encode() + b"\n" + struct.pack("<Q", len(raw)) + raw + b"\n"  # binary form
    return name.encode() + b"=" + raw + b"\n"


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode()
        return True
    except UnicodeDecodeError:
        return False


def write_journal(directory: Path, entries: list[dict[str, str | bytes]]) -> Path:
    """``entries``: fields of each entry (``MESSAGE``, ``PRIORITY``, ...; ``time`` in seconds
    since the epoch, default one second apart). Returns the journal file."""
    if not os.access(REMOTE, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{REMOTE} not found: scripts/test must install systemd-journal-remote")
        pytest.skip("systemd-journal-remote not installed (apt-get install -y systemd-journal-remote)")
    directory.mkdir(parents=True, exist_ok=True)
    out = b""
    for i, fields in enumerate(entries):
        when = float(fields.get("time", 1764156721 + i))  # type: ignore[arg-type]
        out += _field("__REALTIME_TIMESTAMP", str(int(when * 1e6)))
        out += _field("__MONOTONIC_TIMESTAMP", str(i + 1))
        out += _field("_BOOT_ID", BOOT_ID)
        for name, value in fields.items():
            if name != "time":
                out += _field(name, value)
        out += b"\n"
    path = directory / "test.journal"
    subprocess.run([REMOTE, f"--output={path}", "-"], input=out, check=True, timeout=30,
                   capture_output=True)
    return path
