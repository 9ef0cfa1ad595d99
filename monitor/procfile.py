"""A /proc file kept open between reads (issue 19: opening and closing a small /proc file costs
more than reading it).

procfs makes a file's text anew on every read from offset 0, so ``pread(fd, n, 0)`` on a file
opened once returns what a fresh open would. ``HeldFile.read()`` opens on first use, and after
any error closes the file and raises it, so the next read opens it again (a file that appears
later, a kernel that refused once). Each collector holds its own: one thread reads it at a time.
The process table holds each process's stat and statm this way (monitor/proc_reader.py).
"""
from __future__ import annotations

import os

CHUNK = 65536  # bytes asked for by each read
WHOLE_BELOW = 2048  # bytes: half of seq_file's first buffer (a page)


def read_whole(fd: int, positional: bool = True) -> bytes:
    """The file's whole text, from offset 0 (``positional``) or from where the descriptor is.

    A read of a seq_file stops short once its page-sized buffer is full: /proc/net/dev with 300
    interfaces came back as its first 4,013 bytes of 37,223, and the network area saw 31 of
    them. A read this short (``WHOLE_BELOW``) is the whole file: no record is half a page long,
    and the process table's 130 small files a read stay one read each. A longer one is followed
    by reads until one returns nothing.
    """
    data = os.pread(fd, CHUNK, 0) if positional else os.read(fd, CHUNK)
    if len(data) < WHOLE_BELOW:
        return data
    parts, total = [data], len(data)
    while data:
        data = os.pread(fd, CHUNK, total) if positional else os.read(fd, CHUNK)
        parts.append(data)
        total += len(data)
    return b"".join(parts)


class HeldFile:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        self._fd: int | None = None

    def read(self) -> bytes:
        """The whole file, as a fresh open and read would give it; OSError as open or read raise."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return read_whole(self._fd)
        except OSError:
            self.close()
            raise

    def read_text(self) -> str:
        return self.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __del__(self) -> None:
        self.close()


def counter(data: bytes, key: bytes) -> int | None:
    """One ``name value`` line's value in /proc/vmstat's text (or None), found rather than split
    out of its 170-odd lines: the memory area's pswpin/pswpout, the pressure area's oom_kill."""
    if data.startswith(key + b" "):
        at = -1
    else:
        at = data.find(b"\n" + key + b" ")
        if at < 0:
            return None
    end = data.find(b"\n", at + 1)
    return int(data[at + len(key) + 2:end if end >= 0 else None])

