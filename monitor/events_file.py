"""The events file: append-only JSON lines that survive a crash or a full disk (monitor/events.py).

- each append is one ``os.write`` of complete lines on an ``O_APPEND`` descriptor; if it fails or
  is short, the file is cut back to where it was (or, if even that fails, repaired before the
  next append) and the unwritten events are written with the next append;
- a torn last line found at start (a crash mid-write) is completed if it is a whole event, else
  cut off, so later appends are not glued to it;
- a file that is not a regular file (a symlink to /dev/full, a FIFO) or is far over its size
  bound is refused with an error in the log (events then live in memory only) rather than read
  forever;
- NaN and Infinity are never written (JSON has no such numbers).
When the file outgrows ``max_bytes`` it is rewritten whole (a temporary file, then rename: never
half a file) with what the caller keeps.
"""
from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel

log = logging.getLogger("server_monitor.events")

Record = BaseModel  # an event: anything with an ``id`` that dumps to JSON


class EventsFile:
    """One events file. ``is_whole(line)`` tells a complete record from a torn one."""

    def __init__(self, path: Path, max_bytes: int, refuse_bytes: int,
                 is_whole: Callable[[bytes], bool]) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.refuse_bytes = refuse_bytes
        self.is_whole = is_whole
        self.refused = False  # not a file we may read or write: events live in memory only
        self._unwritten: dict[str, Record] = {}  # events whose last append failed: sent again
        self._needs_repair = False  # a failed append may have left a torn line at the end

    def append(self, ev: Record, keep: Callable[[], Iterable[Record]]) -> None:
        """Append ``ev`` (and any event a failed append left unwritten); past ``max_bytes`` the
        file is rewritten with ``keep()``. A full or read-only disk is logged, never raised."""
        self._unwritten[ev.id] = ev  # type: ignore[attr-defined]
        try:
            data = b"".join(_line(e) for e in self._unwritten.values())
        except ValueError as exc:  # a non-finite number slipped in: never write it
            log.error("event %s not written: %s", ev.id, exc)  # type: ignore[attr-defined]
            self._unwritten.pop(ev.id)  # type: ignore[attr-defined]
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._needs_repair:
                _repair(self.path, self.is_whole)
                self._needs_repair = False
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError(f"{self.path} is not a regular file")
                _write_whole(fd, data)
            finally:
                os.close(fd)
            self._unwritten.clear()
            if self.path.stat().st_size > self.max_bytes:
                self._rewrite(keep())
        except OSError as exc:  # a full or read-only disk must not stop judgment
            log.warning("cannot write events to %s: %s (kept in memory, written with the next "
                        "event)", self.path, exc)
            if isinstance(exc, _TornWrite):
                self._needs_repair = True

    def _rewrite(self, events: Iterable[Record]) -> None:
        lines = []
        for ev in events:
            try:
                lines.append(_line(ev))
            except ValueError as exc:
                log.error("event %s dropped from the file: %s", ev.id, exc)  # type: ignore[attr-defined]
        data = b"".join(lines)
        fd, tmp = tempfile.mkstemp(prefix=".events-", dir=self.path.parent)
        try:
            try:
                _write_whole(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self) -> str | None:
        """The file's text after repairing a torn last line; None (and ``refused``, with the
        reason in the log) for a file that must not be read or written."""
        try:
            st = os.stat(self.path)  # follows a symlink: what it points at is what we would read
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read events from %s: %s", self.path, exc)
            return None
        refusal = None
        if not stat.S_ISREG(st.st_mode):
            refusal = "is not a regular file"
        elif st.st_size > self.refuse_bytes:
            refusal = f"is {st.st_size} bytes, over its bound of {self.refuse_bytes}"
        if refusal:
            log.error("events file %s %s: not read, and no events will be written to it (they are "
                      "kept in memory until restart); move it away to keep events across restarts",
                      self.path, refusal)
            self.refused = True
            return None
        try:
            _repair(self.path, self.is_whole)
            return self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("cannot read events from %s: %s", self.path, exc)
            return None


class _TornWrite(OSError):
    """A write that may have left part of a line at the end of the file."""


def _line(ev: Record) -> bytes:
    """One complete JSON line; ValueError for NaN or Infinity (JSON has no such numbers). A lone
    surrogate (an undecodable byte of a process name) becomes U+FFFD: valid UTF-8, readable back."""
    text = json.dumps(ev.model_dump(mode="json"), allow_nan=False, ensure_ascii=False,
                      separators=(",", ":")) + "\n"
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode()


def _write_whole(fd: int, data: bytes) -> None:
    """One write of complete lines. If it fails or is short, the file is cut back to its size
    before it; only if that fails too is the caller told to repair before the next append."""
    size = os.fstat(fd).st_size
    try:
        n = os.write(fd, data)
        if n == len(data):
            return
        err: OSError = OSError(f"short write: {n} of {len(data)} bytes (disk full?)")
    except OSError as exc:
        err = exc
    try:
        os.ftruncate(fd, size)
    except OSError:
        raise _TornWrite(str(err)) from err
    raise err


def _repair(path: Path, is_whole: Callable[[bytes], bool]) -> None:
    """A last line without its newline (a crash or a full disk mid-write) is completed when it is a
    whole event and cut off otherwise, so that the next append starts on a line of its own."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        start = size
        while start > 0:  # back to the previous newline, one block at a time
            block = max(0, start - 65536)
            f.seek(block)
            chunk = f.read(start - block)
            i = chunk.rfind(b"\n")
            if i >= 0:
                start = block + i + 1
                break
            start = block
        f.seek(start)
        tail = f.read(size - start)
        if is_whole(tail):
            f.seek(size)
            f.write(b"\n")
            log.warning("%s: the last line had no newline; completed", path)
        else:
            f.truncate(start)
            log.warning("%s: a torn last line (%d bytes) was cut off", path, size - start)
