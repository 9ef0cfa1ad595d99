"""systemd's journal through ``journalctl --output=json``: argv built as a list, no shell.

    $ journalctl --output=json --lines=1 --unit=sshd.service
    {"__REALTIME_TIMESTAMP":"1764156721000000","PRIORITY":"6","_SYSTEMD_UNIT":"sshd.service",
     "SYSLOG_IDENTIFIER":"sshd","_PID":"812","MESSAGE":"Accepted publickey for ops", ...}

    >>> parse_entry(b'{"__REALTIME_TIMESTAMP":"1764156721000000","PRIORITY":"6",'
    ...             b'"_SYSTEMD_UNIT":"sshd.service","SYSLOG_IDENTIFIER":"sshd","_PID":"812",'
    ...             b'"MESSAGE":"Accepted publickey for ops"}', "journal")  # doctest: +NORMALIZE_WHITESPACE
    LogLine(time=1764156721.0, level=6, source='journal', unit='sshd.service', identifier='sshd',
            pid=812, message='Accepted publickey for ops', level_name='info')

journalctl writes a field that is not valid UTF-8 (or holds control bytes) as an array of byte
values, a field set several times as an array of values, and a field over 4 KiB as null unless
``--all``: ``field_text`` handles all three. Every argument comes from configuration or from a
validated filter (a unit name checked against a strict pattern, epoch numbers, a level digit).
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess

from .filters import FilterError, LogFilter
from .lines import LogLine, decode, inert

FIELDS = ("MESSAGE", "PRIORITY", "_SYSTEMD_UNIT", "UNIT", "SYSLOG_IDENTIFIER", "_COMM", "_PID")
SCAN_ENTRIES = 20_000  # entries read back when a text/regex filter must pick the last N matches
TIMEOUT = 10.0
# No colours, no pager, stable output whatever the server's own environment says.
ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
       "SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": "", "PAGER": "cat"}


class JournalError(RuntimeError):
    """journalctl is missing or failed; the message is fit to show (the source is unavailable)."""


class JournalQueryError(FilterError):
    """journalctl refused a value of the query ("Failed to parse timestamp"): the request's fault,
    a 422, not an unavailable source. filters.py validates first; this is the backstop."""


def journalctl() -> str:
    path = shutil.which("journalctl")
    if path is None:
        raise JournalError("journalctl not found: systemd's journal is not available on this host")
    return path


def build_args(exe: str, directory: str | None, filt: LogFilter, lines: int | None,
               follow: bool = False) -> list[str]:
    """The argv for one journal read. ``filt`` is already validated (see filters.LogFilter.parse)."""
    args = [exe, "--output=json", "--no-pager", "--quiet", "--all",
            "--output-fields=" + ",".join(FIELDS)]
    if directory:  # from configuration only
        args.append("--directory=" + directory)
    if follow:
        args += ["--follow", "--lines=0"]
    elif lines is not None:
        args.append(f"--lines={int(lines)}")
    if filt.since is not None:
        args.append(f"--since=@{filt.since:.6f}")
    if filt.until is not None:
        args.append(f"--until=@{filt.until:.6f}")
    if filt.level is not None:
        args.append(f"--priority={int(filt.level)}")  # this level and more severe
    if filt.unit is not None:
        args.append("--unit=" + filt.unit)  # matched UNIT_RE: no leading "-", no glob
    return args


def field_text(value) -> str | None:
    """One journal field's JSON value as text: str, byte array, several values, or null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if all(isinstance(b, int) for b in value):  # non-UTF-8 data: an array of byte values
            return decode(bytes(b & 0xFF for b in value))
        texts = [t for t in (field_text(v) for v in value) if t is not None]
        return texts[0] if texts else None  # a field set twice: the first is the original
    return str(value)


def parse_entry(raw: bytes | str, source: str) -> LogLine | None:
    """One line of ``journalctl --output=json`` → LogLine; None if it is not a JSON object."""
    try:
        entry = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(entry, dict):
        return None
    message = field_text(entry.get("MESSAGE"))
    if message is None:
        message = "[message not stored as text]" if "MESSAGE" in entry else ""
    try:
        when = int(field_text(entry.get("__REALTIME_TIMESTAMP")) or "") / 1e6
    except ValueError:
        when = None
    try:
        level = int(field_text(entry.get("PRIORITY")) or "")
        level = level if 0 <= level <= 7 else None
    except ValueError:
        level = None
    try:
        pid = int(field_text(entry.get("_PID")) or "")
    except ValueError:
        pid = None
    ident = field_text(entry.get("SYSLOG_IDENTIFIER")) or field_text(entry.get("_COMM"))
    unit = field_text(entry.get("_SYSTEMD_UNIT")) or field_text(entry.get("UNIT"))
    return LogLine(time=when, level=level, source=source, unit=inert(unit) if unit else None,
                   identifier=inert(ident) if ident else None, pid=pid, message=inert(message))


def read(source: str, directory: str | None, n: int, filt: LogFilter) -> list[LogLine]:
    """The last ``n`` entries matching ``filt``, oldest first. Raises JournalError."""
    exe = journalctl()
    text_filter = filt.q is not None or filt.regex is not None
    args = build_args(exe, directory, filt, SCAN_ENTRIES if text_filter else n)
    try:
        done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT,
                              env=ENV, check=False)
    except subprocess.TimeoutExpired:
        raise JournalError(f"journalctl did not answer within {TIMEOUT:g} s") from None
    except OSError as e:
        raise JournalError(f"journalctl could not run: {e.strerror or e}") from None
    if done.returncode != 0:
        err = decode(done.stderr).strip().splitlines()
        refused = [e for e in err if e.startswith("Failed to parse")]
        if refused:
            raise JournalQueryError("journalctl refused the query: " + inert(refused[-1][:200]))
        raise JournalError("journalctl failed: " + inert(err[-1] if err else f"exit status {done.returncode}"))
    entries = [e for e in (parse_entry(raw, source) for raw in done.stdout.splitlines()) if e]
    if text_filter:  # journalctl applied the rest (level, time, unit) itself
        match = dataclasses.replace(filt, level=None, since=None, until=None, unit=None).matcher()
        entries = [e for e in entries if match(e)][-n:]
    return entries[-n:]
