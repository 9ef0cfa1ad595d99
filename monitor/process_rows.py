"""One process as the table shows it: the row model, its command line, sorting and filtering.

Pure: everything here works on literal input (monitor/collectors/processes.py reads the host,
views/processes.py serves the sorted and filtered table).

A command line goes through three steps, in this order (``CommandCache.shaped``):
  1. masked (monitor/masking.py) on the raw argv, whole: masking must see every byte the program
     got, and a cut made before it could leave half a secret unmasked ("Bearer ab", a URL's
     password without its "@");
  2. cleaned (monitor/text.py): escapes only *add* backslash text in place of a control or an
     undecodable byte and never remove a mask, so cleaning cannot turn masked text back into a
     secret;
  3. bounded: at most ``CMDLINE_LIMIT`` characters of it are kept in the row (table, API, filter),
     the last kept argument ending in "…[truncated, N characters]". Cutting masked text cannot
     reveal anything: the secrets are already gone.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.masking import mask_argv
from monitor.text import TRUNCATED, clean, clean_cut

SortKey = Literal["cpu", "memory", "pid", "name", "user", "threads", "start"]
Order = Literal["asc", "desc"]
# The status filter's choices: psutil's words; "disk-sleep" is ps's D state (uninterruptible I/O).
StatusFilter = Literal["running", "sleeping", "disk-sleep", "zombie", "stopped", "idle"]

# sort key -> ProcessRow field
SORT_FIELDS: dict[str, str] = {
    "cpu": "cpu_percent", "memory": "rss", "pid": "pid", "name": "name", "user": "username",
    "threads": "num_threads", "start": "create_time",
}
# The natural first direction of each column: biggest/newest first for numbers, A-Z for words.
DEFAULT_ORDER: dict[str, str] = {
    "cpu": "desc", "memory": "desc", "threads": "desc", "start": "desc",
    "pid": "asc", "name": "asc", "user": "asc",
}
COMMAND_LIMIT = 160  # characters of the shortened command line shown in the table
# Characters of the (masked, cleaned) command line kept per process in the table and the API:
# Linux allows 2 MiB of arguments, and every row is kept for every viewer. The detail page
# (monitor/process_detail.py) reads one process per request and keeps DETAIL_CMDLINE_LIMIT.
CMDLINE_LIMIT = 4096
DETAIL_CMDLINE_LIMIT = 65536
# A process name is comm (15 bytes), but psutil extends it from argv[0] when comm is full:
# it can be as long as an argument. User names come from NSS (LDAP, sssd): any text.
NAME_LIMIT = 256


class ProcessRow(BaseModel):
    """One process as the table shows it. Raw units; None where the field could not be read."""

    model_config = ConfigDict(frozen=True)

    pid: int
    ppid: int | None
    name: str
    username: str | None
    status: str | None = Field(description="psutil's status word: running, sleeping, disk-sleep, zombie, ...")
    cpu_percent: float | None = Field(
        description="percent of one CPU since the previous tick (can exceed 100 with threads); "
                    "None on a process's first tick")
    memory_percent: float | None = Field(description="RSS as percent of physical memory")
    rss: int | None = Field(description="resident set size, bytes")
    num_threads: int | None
    nice: int | None
    create_time: float = Field(description="start time, seconds since the epoch; with pid, the "
                                           "process's identity (PIDs are reused)")
    command: str = Field(description="shortened, masked command line for display")
    cmdline: list[str] = Field(description="full command line, credentials masked")


# -- command lines ------------------------------------------------------------------------------

def printable(text: str | bytes | None) -> str:
    """Kept for callers of the old name: monitor.text.clean (controls shown as \\x1b, invalid
    UTF-8 as U+FFFD, bidi marks as \\u202e)."""
    return clean(text)


def bounded_argv(argv: Sequence[str], limit: int = CMDLINE_LIMIT) -> list[str]:
    """Cleaned arguments, at most ``limit`` characters in all (a space counted between two).

    Only what is kept is cleaned, so 10,000 arguments or one of 128 KiB cost what ``limit``
    characters cost. The last kept argument ends with how long the whole command line was.

    >>> bounded_argv(["sleep", "A" * 10], limit=9)
    ['sleep', 'AAA…[truncated, 16 characters]']
    """
    out: list[str] = []
    room = limit
    for arg in argv:
        text, cut = clean_cut(arg, max(room, 0))
        if cut:
            total = sum(map(len, argv)) + len(argv) - 1  # the joined length
            out.append(text + TRUNCATED.format(total))
            return out
        out.append(text)
        room -= len(text) + 1
    return out


def short_cmdline(argv: Sequence[str], name: str, limit: int = COMMAND_LIMIT) -> str:
    """The table's command column, like ps: the program's base name and its arguments.

    >>> short_cmdline(["/usr/bin/python3", "-m", "http.server"], "python3")
    'python3 -m http.server'
    >>> short_cmdline([], "kworker/0:1")
    '[kworker/0:1]'
    """
    if not argv or not any(argv):
        return f"[{clean(name)}]"  # kernel threads and zombies have no command line
    head = argv[0]
    if head.startswith("/") and " " not in head:
        head = head.rsplit("/", 1)[-1] or head
    # Joined from at most ``limit`` characters: argv may be 10,000 arguments long.
    parts, size = [], 0
    for a in (head, *argv[1:]):
        parts.append(a)
        size += len(a) + 1
        if size > limit:
            break
    joined = " ".join(parts).strip()
    text, cut = clean_cut(joined, limit)
    if cut:
        text = clean_cut(joined, limit - 1)[0].rstrip() + "…"
    return text


class CommandCache:
    """Masked, cleaned, bounded argv and its short form per process, made again only when the
    raw argv changed (a 2 MiB command line costs once, not every tick). It keeps the argv's hash,
    not the argv: a long command line is not held twice per process."""

    def __init__(self, mask: bool = True) -> None:
        self.mask = mask
        self._by_pid: dict[int, tuple[tuple[int, int], list[str], str]] = {}

    def shaped(self, pid: int, argv: Sequence[str] | None, name: str) -> tuple[list[str], str]:
        raw = tuple(argv or ())
        key = (len(raw), hash(raw))
        cached = self._by_pid.get(pid)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        masked = bounded_argv(mask_argv(list(raw)) if self.mask else raw)
        short = short_cmdline(masked, name)
        self._by_pid[pid] = (key, masked, short)
        return masked, short

    def forget(self, pid: int) -> None:
        self._by_pid.pop(pid, None)

    def pids(self) -> set[int]:
        return set(self._by_pid)


# -- counts, sorting, filtering -----------------------------------------------------------------

def status_counts(rows: Iterable[ProcessRow]) -> dict[str, int]:
    """Processes per status word, most common first."""
    return dict(Counter(r.status or "unknown" for r in rows).most_common())


def sort_rows(rows: Iterable[ProcessRow], key: str, order: str) -> list[ProcessRow]:
    """Rows sorted by a column; unreadable (None) values always go last; ties by pid."""
    field = SORT_FIELDS[key]
    known, unknown = [], []
    for r in rows:
        (unknown if getattr(r, field) is None else known).append(r)
    if field in ("name", "username"):
        known.sort(key=lambda r: (getattr(r, field).casefold(), r.pid), reverse=order == "desc")
    else:
        known.sort(key=lambda r: (getattr(r, field), r.pid), reverse=order == "desc")
    unknown.sort(key=lambda r: r.pid)
    return known + unknown


def matches(row: ProcessRow, words: Sequence[str]) -> bool:
    """Every word (casefolded) occurs in the name, user or (masked) command line."""
    hay = f"{row.pid} {row.name} {row.username or ''} {' '.join(row.cmdline)}".casefold()
    return all(w in hay for w in words)


def filter_rows(rows: Iterable[ProcessRow], q: str | None = None,
                status: str | None = None) -> list[ProcessRow]:
    words = q.casefold().split() if q else []
    return [r for r in rows
            if (status is None or r.status == status) and (not words or matches(r, words))]
