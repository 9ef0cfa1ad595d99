"""Which logs the console may read: named sources from configuration, never from a request.

    >>> [s.name for s in host_defaults("rocky")]
    ['messages', 'secure', 'cron', 'journal']
    >>> status(LogSource(name="secure", kind="file", path="/nonexistent/secure"))  # doctest: +NORMALIZE_WHITESPACE
    SourceStatus(name='secure', kind='file', path='/nonexistent/secure', available=False,
                 reason='not found: /nonexistent/secure')

(/var/log/secure itself, read by a normal user, says ``reason='permission denied: run as root or
grant read access'``.)

A request carries only a source *name*; it is looked up in this list and the path (or glob) that
is opened comes from the configuration. A glob source reads its newest matching file.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A source name is a short word: no slash, no dot-dot, no percent, nothing a file system reads.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN)

OS_RELEASE = Path("/etc/os-release")


class LogSource(BaseModel):
    """One configured source: a file (path or glob) or the journal (optionally a journal directory)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=NAME_PATTERN, description="what requests call it, e.g. 'secure'")
    kind: Literal["file", "journal"] = "file"
    path: str | None = Field(None, description="file: path or glob; journal: a journal directory "
                                               "(--directory), or none for the system journal")

    @model_validator(mode="after")
    def _file_needs_path(self) -> LogSource:
        if self.kind == "file" and not self.path:
            raise ValueError(f"log source {self.name!r}: a file source needs a path")
        return self


class SourceStatus(BaseModel):
    name: str
    kind: Literal["file", "journal"]
    path: str | None = Field(None, description="the file read now (a glob's newest match)")
    available: bool
    reason: str | None = None


def _defaults_for(os_id: str, id_like: str = "") -> list[LogSource]:
    ids = {os_id, *id_like.split()}
    if ids & {"rhel", "rocky", "centos", "fedora", "almalinux", "ol"}:
        files = [("messages", "/var/log/messages"), ("secure", "/var/log/secure"), ("cron", "/var/log/cron")]
    else:  # Debian, Ubuntu and most others that run rsyslog with Debian's layout
        files = [("syslog", "/var/log/syslog"), ("auth", "/var/log/auth.log")]
    return [LogSource(name=n, kind="file", path=p) for n, p in files] + [LogSource(name="journal", kind="journal")]


def read_os_release(path: Path = OS_RELEASE) -> tuple[str, str]:
    """(ID, ID_LIKE) from /etc/os-release; ("", "") if unreadable."""
    fields = {}
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            fields[key.strip()] = value.strip().strip('"').lower()
    except OSError:
        pass
    return fields.get("ID", ""), fields.get("ID_LIKE", "")


def host_defaults(os_id: str | None = None, id_like: str = "") -> list[LogSource]:
    if os_id is None:
        os_id, id_like = read_os_release()
    return _defaults_for(os_id, id_like)


def configured(sources: list[LogSource] | None) -> dict[str, LogSource]:
    """Name → source: the configured list, or the host's defaults when none is configured."""
    chosen = list(sources) if sources else host_defaults()
    by_name: dict[str, LogSource] = {}
    for s in chosen:
        if s.name in by_name:
            raise ValueError(f"log source name {s.name!r} is configured twice")
        by_name[s.name] = s
    return by_name


def resolve(source: LogSource) -> str | None:
    """The file a file source reads now: its path, or the newest match of its glob."""
    assert source.kind == "file" and source.path
    if not glob.has_magic(source.path):
        return source.path
    matches = [p for p in glob.glob(source.path) if os.path.isfile(p)]
    if not matches:
        return None

    def mtime(p: str) -> float:
        try:
            return os.stat(p).st_mtime
        except OSError:
            return 0.0
    return max(matches, key=mtime)


NO_ACCESS = "permission denied: run as root or grant read access"


# Where journald keeps its files: persistent, then volatile (journald.conf(5) Storage=).
JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")
JOURNAL_SCAN = 200  # directory entries looked at, at most: the check stays cheap on any host


def journal_files(dirs) -> str | None:
    """Why journalctl would find nothing, or None when a journal file is there to read: the
    directories and one level below (the machine-id folders), bounded."""
    seen, denied = 0, False
    for top in dirs:
        stack = [top]
        for depth in (0, 1):
            below = []
            for d in stack:
                try:
                    with os.scandir(d) as it:
                        for entry in it:
                            seen += 1
                            if entry.name.endswith((".journal", ".journal~")):
                                return None
                            if depth == 0 and entry.is_dir(follow_symlinks=False):
                                below.append(entry.path)
                            if seen > JOURNAL_SCAN:
                                return None  # a busy directory: let journalctl decide
                except PermissionError:
                    denied = True
                except OSError:
                    pass
            stack = below
    if denied:
        return NO_ACCESS + " (the systemd-journal group reads the journal)"
    return ("no journal files were found in " + " or ".join(dirs)
            + " (journald not running here, or Storage=none)")


def status(source: LogSource) -> SourceStatus:
    """Is the source readable right now, and if not, why (said so an operator can fix it)."""
    if source.kind == "journal":
        if shutil.which("journalctl") is None:
            return SourceStatus(name=source.name, kind="journal", path=source.path, available=False,
                                reason="journalctl not found: systemd's journal is not available on this host")
        if source.path and not os.path.isdir(source.path):
            return SourceStatus(name=source.name, kind="journal", path=source.path, available=False,
                                reason=f"journal directory not found: {source.path}")
        empty = journal_files((source.path,) if source.path else JOURNAL_DIRS)
        if empty is not None:
            return SourceStatus(name=source.name, kind="journal", path=source.path, available=False,
                                reason=empty)
        return SourceStatus(name=source.name, kind="journal", path=source.path, available=True)
    path = resolve(source)
    if path is None:
        return SourceStatus(name=source.name, kind="file", path=source.path, available=False,
                            reason=f"no file matches {source.path}")
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        reason = f"not found: {path}"
    except PermissionError:
        reason = NO_ACCESS
    except IsADirectoryError:
        reason = f"is a directory, not a log file: {path}"
    except OSError as e:
        reason = f"cannot open {path}: {e.strerror or e}"
    else:
        return SourceStatus(name=source.name, kind="file", path=path, available=True)
    return SourceStatus(name=source.name, kind="file", path=path, available=False, reason=reason)
