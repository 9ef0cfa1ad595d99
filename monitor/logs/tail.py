"""The last lines of a file, read backwards from the end in blocks: a 1 GB log costs a few blocks.

    >>> import pathlib, tempfile
    >>> log = pathlib.Path(tempfile.mkdtemp()) / "syslog"
    >>> _ = log.write_text("2025-11-26T11:31:58.0+00:00 web1 systemd[1]: Started cron.service\\n"
    ...                    "2025-11-26T11:32:01.1+00:00 web1 CRON[812]: (root) CMD (run-parts /etc/cron.hourly)\\n"
    ...                    "2025-11-26T11:32:04.9+00:00 web1 sshd[813]: Accepted publickey for ops\\n")
    >>> tail(str(log), 2)  # doctest: +NORMALIZE_WHITESPACE
    [b'2025-11-26T11:32:01.1+00:00 web1 CRON[812]: (root) CMD (run-parts /etc/cron.hourly)',
     b'2025-11-26T11:32:04.9+00:00 web1 sshd[813]: Accepted publickey for ops']
    >>> import shutil; shutil.rmtree(log.parent)

``reverse_lines`` yields lines newest first and stops after ``max_bytes``, so a filter that matches
nothing in a huge file gives up after a bounded read instead of scanning gigabytes.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

BLOCK = 64 * 1024
MAX_LINE = 64 * 1024  # a longer "line" is cut: nothing unbounded is held in memory


def reverse_lines(path: str, end: int | None = None, max_bytes: int = 64 * 1024 * 1024,
                  block: int = BLOCK) -> Iterator[bytes]:
    """Complete lines of ``path`` before offset ``end`` (default: the end), newest first.

    A last line without its newline is still being written and is left out: the follower
    delivers it once it is complete. Lines are returned without their newline.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        pos = size if end is None else min(end, size)
        stop = max(0, pos - max_bytes)
        # Drop a trailing partial line: find the last newline before pos.
        tail_partial = True
        carry = b""
        while pos > stop:
            start = max(stop, pos - block)
            f.seek(start)
            chunk = f.read(pos - start) + carry
            pos = start
            parts = chunk.split(b"\n")
            carry = parts[0]  # may continue in the previous block
            if len(carry) > MAX_LINE:  # a giant line: keep its end only
                carry = carry[-MAX_LINE:]
            for line in reversed(parts[1:]):
                if tail_partial:
                    tail_partial = False  # the text after the last newline (b"" if none)
                    continue
                yield line
        if pos == 0 and not tail_partial:
            yield carry  # the file's first line


def last_line_end(path: str) -> tuple[int, int, int]:
    """(offset just after the last newline, st_dev, st_ino): where a follower starts reading.

    Starting at a line boundary means a line being written right now is delivered whole later.
    """
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        pos = st.st_size
        while pos > 0:
            start = max(0, pos - BLOCK)
            f.seek(start)
            chunk = f.read(pos - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                return start + i + 1, st.st_dev, st.st_ino
            pos = start
            if st.st_size - pos > MAX_LINE:  # no newline in sight: start at the end
                return st.st_size, st.st_dev, st.st_ino
        return 0, st.st_dev, st.st_ino


def tail(path: str, n: int, end: int | None = None) -> list[bytes]:
    """The last ``n`` complete lines before ``end``, oldest first."""
    out: list[bytes] = []
    if n <= 0:
        return out
    for line in reverse_lines(path, end):
        out.append(line)
        if len(out) >= n:
            break
    out.reverse()
    return out
