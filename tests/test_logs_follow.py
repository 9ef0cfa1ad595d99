"""Logs, live side: following a file across rotation, and one follower shared by all viewers.

Rotation is done the two ways logrotate does it, on real files in a temporary directory:
rename + create, and copytruncate. The follower must deliver every line once, in order.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time

from monitor.logs.cursor import FileCursor
from monitor.logs.follow import LogHub
from monitor.logs.sources import LogSource


def append(path, lines):
    with open(path, "a") as f:  # O_APPEND, like syslog daemons (what makes copytruncate work)
        f.write("".join(line + "\n" for line in lines))


def texts(raw):
    return [b.decode() for b in raw]


# -- the cursor, step by step ----------------------------------------------------------------------
def test_cursor_starts_at_the_end_and_reads_appends(tmp_path):
    p = tmp_path / "a.log"
    append(p, ["old 1", "old 2"])
    c = FileCursor(lambda: str(p))
    c.start()
    assert c.read_new() == []
    append(p, ["new 1"])
    with open(p, "a") as f:
        f.write("half a li")
    assert texts(c.read_new()) == ["new 1"]
    with open(p, "a") as f:
        f.write("ne\n")
    assert texts(c.read_new()) == ["half a line"]  # delivered whole, once complete
    c.close()


def test_cursor_rename_and_create_loses_nothing(tmp_path):
    p = tmp_path / "a.log"
    append(p, ["x"])
    c = FileCursor(lambda: str(p))
    c.start()
    append(p, ["1", "2"])
    assert texts(c.read_new()) == ["1", "2"]
    append(p, ["3", "4"])  # not read before the rotation
    os.rename(p, tmp_path / "a.log.1")
    append(tmp_path / "a.log.1", ["5"])  # the writer still had the old file open
    append(p, ["6", "7"])  # new file
    assert texts(c.read_new()) == ["3", "4", "5", "6", "7"]
    append(tmp_path / "a.log.1", ["late"])  # until it reopens (rsyslog: until HUP)
    append(p, ["8"])
    assert texts(c.read_new()) == ["late", "8"]
    assert c.read_new() == []
    c.close()


def test_cursor_copytruncate_recovers_unread_lines_from_the_copy(tmp_path):
    p = tmp_path / "a.log"
    append(p, ["x"])
    c = FileCursor(lambda: str(p))
    c.start()
    append(p, [f"line {i}" for i in range(10)])
    assert len(c.read_new()) == 10
    append(p, ["unread 1", "unread 2"])
    shutil.copyfile(p, tmp_path / "a.log.1")
    os.truncate(p, 0)
    append(p, ["after 1"])
    assert texts(c.read_new()) == ["unread 1", "unread 2", "after 1"]
    c.close()


def test_cursor_truncated_and_refilled_past_our_offset(tmp_path):
    """The file grew back beyond our offset before we looked: the bytes before the offset changed."""
    p = tmp_path / "a.log"
    append(p, ["x"])
    c = FileCursor(lambda: str(p))
    c.start()
    append(p, ["short"])
    assert texts(c.read_new()) == ["short"]
    shutil.copyfile(p, f"{p}-20251126")
    os.truncate(p, 0)
    refill = [f"a much longer line than before, number {i}" for i in range(5)]
    append(p, refill)
    assert texts(c.read_new()) == refill
    c.close()


def test_cursor_file_appearing_later_is_read_from_its_start(tmp_path):
    p = tmp_path / "later.log"
    c = FileCursor(lambda: str(p))
    c.start()
    assert c.read_new() == []
    append(p, ["first", "second"])
    assert texts(c.read_new()) == ["first", "second"]
    c.close()


# -- the follower, live, with a writer rotating under it ---------------------------------------------
def _follow_while(path, name, writer, expected, timeout=30.0):
    """Run a hub follower for ``path`` while ``writer(caught_up)`` runs in a thread; collect every
    line. ``caught_up(n)`` waits (up to 5 s) until the follower has read the first n lines written:
    a rotation comes hours after the last, never within one poll, however loaded the machine."""
    async def main():
        hub = LogHub({name: LogSource(name=name, path=str(path))}, interval=0.05)
        follower = hub.follower(name)
        await asyncio.wait_for(follower.ready.wait(), 5)
        got: list[str] = []
        seq = start = follower.seq

        def caught_up(n: int) -> None:
            deadline = time.monotonic() + 5
            while follower.seq - start < n and time.monotonic() < deadline:
                time.sleep(0.01)
        thread = threading.Thread(target=writer, args=(caught_up,), daemon=True)
        async with follower.watching():
            thread.start()
            deadline = time.monotonic() + timeout
            while len(got) < len(expected) and time.monotonic() < deadline:
                batches, skipped = await follower.wait_after(seq, timeout=1)
                assert skipped == 0
                for b in batches:
                    got += [line.message for line in b.lines[max(0, seq - b.first + 1):]]
                    seq = b.last
        await hub.close()
        thread.join(5)
        return got
    return asyncio.run(main())


def test_follow_through_rename_create_rotations(tmp_path):
    p = tmp_path / "app.log"
    append(p, ["before the follower started"])
    expected = [f"line {i:04d}" for i in range(600)]

    def writer(caught_up):
        for i, line in enumerate(expected):
            append(p, [line])
            if i % 150 == 149:  # logrotate: rename, create, (writer reopens)
                caught_up(i + 1)
                for k in range(3, 0, -1):
                    if os.path.exists(f"{p}.{k}"):
                        os.replace(f"{p}.{k}", f"{p}.{k + 1}")
                os.rename(p, f"{p}.1")
                open(p, "w").close()
            if i % 20 == 0:
                time.sleep(0.01)

    assert _follow_while(p, "app", writer, expected) == expected


def test_follow_through_copytruncate_rotations(tmp_path):
    p = tmp_path / "app.log"
    append(p, ["before the follower started"])
    expected = [f"line {i:04d}" for i in range(600)]

    def writer(caught_up):
        for i, line in enumerate(expected):
            append(p, [line])
            if i % 150 == 149:  # logrotate copytruncate
                caught_up(i + 1)
                shutil.copyfile(p, f"{p}.1")
                os.truncate(p, 0)
            if i % 20 == 0:
                time.sleep(0.01)

    assert _follow_while(p, "app", writer, expected) == expected


def test_one_follower_per_source_shared_by_viewers(tmp_path):
    p = tmp_path / "a.log"
    append(p, ["x"])

    async def main():
        hub = LogHub({"a": LogSource(name="a", path=str(p))}, interval=0.05)
        f1 = hub.follower("a")
        f2 = hub.follower("a")
        await f1.ready.wait()
        async with f1.watching(), f2.watching():
            append(p, ["shared line"])
            got1, _ = await f1.wait_after(f1.seq, timeout=5)
            got2, _ = await f2.wait_after(0, timeout=5)
        tasks = [t for t in asyncio.all_tasks() if t.get_name() == "logs:a"]
        await hub.close()
        return f1 is f2, len(tasks), got1, got2

    same, tasks, got1, got2 = asyncio.run(main())
    assert same and tasks == 1
    assert got1[0] is got2[0]  # the very same batch object: read once, rendered once
    assert [line.message for line in got1[0].lines] == ["shared line"]


def test_unwatched_follower_stops_after_linger(tmp_path):
    p = tmp_path / "a.log"
    append(p, ["x"])

    async def main():
        hub = LogHub({"a": LogSource(name="a", path=str(p))}, interval=0.05, linger=0.3)
        f = hub.follower("a")
        await f.ready.wait()
        async with f.watching():
            await asyncio.sleep(0.5)
            alive_while_watched = not f.task.done()
        await asyncio.wait_for(f.task, 5)
        return alive_while_watched, "a" in hub.followers

    alive, still_listed = asyncio.run(main())
    assert alive and not still_listed


def test_slow_viewer_skips_lines_beyond_the_ring(tmp_path):
    p = tmp_path / "a.log"
    append(p, ["x"])

    async def main():
        hub = LogHub({"a": LogSource(name="a", path=str(p))}, interval=0.05, ring_lines=50)
        f = hub.follower("a")
        await f.ready.wait()
        async with f.watching():
            for chunk in range(4):
                append(p, [f"l{chunk}-{i}" for i in range(40)])
                target = (chunk + 1) * 40
                while f.seq < target:
                    await f.wait_after(f.seq, timeout=5)
            batches, skipped = await f.wait_after(0, timeout=1)
        await hub.close()
        return batches, skipped

    batches, skipped = asyncio.run(main())
    kept = sum(len(b.lines) for b in batches)
    assert kept + skipped == 160 and kept <= 90 and skipped > 0
    assert batches[-1].lines[-1].message == "l3-39"
