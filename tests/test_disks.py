"""Disks: mount filtering, bind mounts, space and inode maths, time to full, I/O rates, hung mounts."""
from __future__ import annotations

import os
import subprocess
import threading
import time

import psutil
import pytest

from monitor.collectors.disks import (
    DisksCollector,
    DisksRaw,
    fill_rate,
    is_pseudo,
    parse_mountinfo,
    real_filesystems,
    shape,
    shape_devices,
    time_to_full,
    usage_from_statvfs,
)
from monitor.mounts import MountTable, Statvfs
from monitor.trend import Trends
from tests.conftest import IN_CI

# A Rocky-like host: kernel views, tmpfs, a snap image, a container layer, an NFS share, a mount
# point with a space, and /srv/data bind-mounted at /var/lib/data (same device 253:2, root /data).
MOUNTINFO = r"""22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
24 1 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=4096k
25 24 0:23 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw
26 1 0:24 / /run rw,nosuid,nodev shared:24 - tmpfs tmpfs rw,mode=755
27 23 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:7 - cgroup2 cgroup2 rw
60 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/rl-root rw,attr2,inode64
61 60 252:1 / /boot rw,relatime shared:50 - xfs /dev/vda1 rw
62 60 253:2 / /srv rw,relatime shared:51 - ext4 /dev/mapper/rl-srv rw
63 60 253:2 /data /var/lib/data rw,relatime shared:51 - ext4 /dev/mapper/rl-srv rw
64 60 7:3 / /snap/core22/1380 ro,nodev,relatime shared:52 - squashfs /dev/loop3 ro
65 60 0:60 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=x
66 60 0:61 / /mnt/backup\040disk ro,relatime shared:53 - ext4 /dev/sdb1 ro
67 60 0:62 / /mnt/nfs rw,relatime shared:54 - nfs4 fs1:/export rw,vers=4.2
"""


def test_parse_mountinfo_reads_fields_and_unescapes_octal():
    mounts = parse_mountinfo(MOUNTINFO)
    assert len(mounts) == 14
    backup = next(m for m in mounts if m.device_id == "0:61")
    assert backup.mountpoint == "/mnt/backup disk"
    assert backup.fstype == "ext4" and backup.source == "/dev/sdb1"
    assert "ro" in backup.options
    bind = next(m for m in mounts if m.mountpoint == "/var/lib/data")
    assert bind.root == "/data" and bind.device_id == "253:2"


def test_pseudo_filesystems_are_skipped_and_real_ones_kept():
    mounts = parse_mountinfo(MOUNTINFO)
    pseudo = {m.mountpoint for m in mounts if is_pseudo(m)}
    assert pseudo == {"/proc", "/sys", "/dev", "/sys/fs/cgroup",
                      "/snap/core22/1380", "/var/lib/docker/overlay2/abc/merged"}
    shown = [m.mountpoint for m, _ in real_filesystems(mounts)]
    # Network filesystems are real (and are the ones that hang): kept. So are the tmpfs that
    # fill up and hurt (issue 12): /dev/shm, /run (and /tmp, and the tmpfs_mounts setting).
    assert shown == ["/", "/boot", "/dev/shm", "/mnt/backup disk", "/mnt/nfs", "/run", "/srv"]
    other = parse_mountinfo("30 26 0:40 / /run/user/1000 rw - tmpfs tmpfs rw\n")
    assert real_filesystems(other) == [] and real_filesystems(other, ["/run/user/1000"])


def test_bind_mount_is_shown_once_at_the_filesystem_root():
    fs = dict((m.mountpoint, others) for m, others in real_filesystems(parse_mountinfo(MOUNTINFO)))
    assert "/var/lib/data" not in fs
    assert fs["/srv"] == ["/var/lib/data"]
    assert fs["/"] == []


def test_bind_mount_listed_first_still_loses_to_the_root_mount():
    text = ("70 1 8:1 /home/x /a rw - ext4 /dev/sda1 rw\n"
            "71 1 8:1 / /zz/long/root rw - ext4 /dev/sda1 rw\n")
    [(primary, others)] = real_filesystems(parse_mountinfo(text))
    assert primary.mountpoint == "/zz/long/root" and others == ["/a"]


def test_a_mount_point_mounted_over_keeps_only_the_last_mount():
    text = ("80 1 8:1 / /data rw - ext4 /dev/sda1 rw\n"
            "81 1 8:2 / /data rw - xfs /dev/sdb1 rw\n")
    [(primary, _)] = real_filesystems(parse_mountinfo(text))
    assert primary.device_id == "8:2" and primary.fstype == "xfs"


def test_a_real_filesystem_hidden_under_a_pseudo_mount_is_not_listed():
    # systemd's ProtectHome=yes mounts an empty tmpfs over /home: statvfs("/home") reads the tmpfs,
    # so the XFS volume below must not be listed with the tmpfs' numbers.
    text = ("29 1 253:0 / / rw - xfs /dev/mapper/rl-root rw\n"
            "40 29 253:2 / /home rw - xfs /dev/mapper/rl-home rw\n"
            "90 40 0:50 / /home ro - tmpfs tmpfs ro,mode=000\n")
    assert [m.mountpoint for m, _ in real_filesystems(parse_mountinfo(text))] == ["/"]


def test_usage_from_statvfs_uses_dfs_formula():
    st = dict(f_blocks=1000, f_bfree=300, f_bavail=250, f_frsize=4096, f_files=100, f_ffree=40)
    u = usage_from_statvfs(st)
    assert u["total"] == 1000 * 4096
    assert u["used"] == 700 * 4096
    assert u["free"] == 250 * 4096  # what an unprivileged user can still write
    assert u["percent"] == round(700 / 950 * 100, 1)  # reserved blocks excluded, as df does
    assert (u["inodes_total"], u["inodes_used"], u["inodes_percent"]) == (100, 60, 60.0)


def test_usage_without_inode_table_has_no_inode_figures():
    u = usage_from_statvfs(dict(f_blocks=10, f_bfree=10, f_bavail=10, f_frsize=512, f_files=0, f_ffree=0))
    assert u["inodes_total"] is None and u["inodes_percent"] is None
    assert u["percent"] == 0.0


def test_usage_agrees_with_psutil_on_this_machine():
    ours = usage_from_statvfs({k: getattr(os.statvfs("/"), k) for k in
                               ("f_blocks", "f_bfree", "f_bavail", "f_frsize", "f_files", "f_ffree")})
    theirs = psutil.disk_usage("/")
    assert ours["total"] == theirs.total
    assert abs(ours["percent"] - theirs.percent) < 1.0  # the disk may change between the calls


def test_fill_rate_is_the_fitted_slope():
    samples = [(0.0, 1000.0), (60.0, 1600.0), (120.0, 2200.0)]
    assert fill_rate(samples) == pytest.approx(10.0)
    # A temporary file written and deleted mid-window does not change the trend.
    bursty = [(0.0, 0.0), (30.0, 300.0), (60.0, 5000.0), (90.0, 900.0), (120.0, 1200.0)]
    assert fill_rate(bursty) == pytest.approx(10.0)
    # Shrinking usage: a negative rate, i.e. not filling.
    assert fill_rate([(0.0, 900.0), (60.0, 600.0), (120.0, 300.0)]) == pytest.approx(-5.0)


def test_fill_rate_waits_for_a_long_enough_window():
    assert fill_rate([(0.0, 1.0), (30.0, 100.0)]) is None
    assert fill_rate([(0.0, 1.0)]) is None
    assert fill_rate([(0.0, 1.0), (30.0, 100.0)], min_span=10) == pytest.approx(99 / 30)


def test_time_to_full():
    assert time_to_full(36000, 10.0) == 3600.0  # "full in 1 h 0 min"
    assert time_to_full(36000, 0.0) is None  # steady: not filling
    assert time_to_full(36000, -5.0) is None  # shrinking: not filling
    assert time_to_full(36000, None) is None  # still measuring
    assert time_to_full(None, 10.0) is None  # the filesystem did not answer


def test_device_rates_partitions_and_loops_skipped_counter_reset_handled():
    prev = {"vda": dict(read_bytes=1000, write_bytes=5000, read_count=10, write_count=50, busy_time=100),
            "vda1": dict(read_bytes=1, write_bytes=1, read_count=1, write_count=1, busy_time=1),
            "loop0": dict(read_bytes=0, write_bytes=0, read_count=0, write_count=0, busy_time=0)}
    cur = {"vda": dict(read_bytes=3000, write_bytes=1000, read_count=30, write_count=60, busy_time=600),
           "vda1": dict(read_bytes=2, write_bytes=2, read_count=2, write_count=2, busy_time=2),
           "nvme0n1p2": dict(read_bytes=2, write_bytes=2, read_count=2, write_count=2, busy_time=2),
           "loop0": dict(read_bytes=0, write_bytes=0, read_count=0, write_count=0, busy_time=0)}
    [vda] = shape_devices(cur, prev, 2.0)
    assert vda.name == "vda"
    assert vda.read_bytes_per_s == 1000.0
    assert vda.write_bytes_per_s == 500.0  # 5000 -> 1000 is a reset: counted from zero
    assert (vda.read_iops, vda.write_iops) == (10.0, 5.0)
    assert vda.busy_percent == 25.0  # 500 ms busy in 2 s


def test_first_device_reading_has_no_rates():
    [d] = shape_devices({"sda": dict(read_bytes=1, write_bytes=1, read_count=1, write_count=1,
                                     busy_time=1)}, None, 1.0)
    assert d.read_bytes_per_s is None and d.busy_percent is None


def statvfs_fields(blocks, free, frsize=4096, files=100, ffree=40):
    return dict(f_blocks=blocks, f_bfree=free, f_bavail=free, f_frsize=frsize, f_files=files, f_ffree=ffree)


def test_shape_from_a_literal_reading_fullest_first_not_answering_before_all():
    filesystems = [(m, o) for m, o in real_filesystems(parse_mountinfo(MOUNTINFO)) if m.fstype != "tmpfs"]
    usage = {"/": statvfs_fields(1000, 500), "/boot": statvfs_fields(1000, 100),
             "/mnt/backup disk": statvfs_fields(1000, 900), "/srv": statvfs_fields(1000, 800),
             "/mnt/nfs": "not answering after 0.5 s"}
    io = {"vda": dict(read_bytes=3000, write_bytes=1000, read_count=30, write_count=60, busy_time=600)}
    prev = DisksRaw(filesystems, usage, {"vda": dict(read_bytes=1000, write_bytes=0, read_count=10,
                                                      write_count=10, busy_time=100)})
    data = shape(DisksRaw(filesystems, usage, io), prev, 2.0, {"/": 4096.0, "/boot": None})
    assert [fs.mountpoint for fs in data.filesystems] == ["/mnt/nfs", "/boot", "/", "/srv", "/mnt/backup disk"]
    nfs, boot, root, srv, _ = data.filesystems
    assert nfs.error == "not answering after 0.5 s" and nfs.total is None and nfs.full_in is None
    assert root.fill_rate == 4096.0 and root.full_in == 500.0  # 500 blocks of 4 KiB at 4 KiB/s
    assert boot.fill_rate is None and boot.full_in is None and boot.percent == 90.0
    assert srv.also_mounted_at == ["/var/lib/data"] and srv.fstype == "ext4" and not srv.read_only
    assert data.read_bytes_per_s == 1000.0 and data.write_bytes_per_s == 500.0
    assert data.devices[0].busy_percent == 25.0
    first = shape(DisksRaw(filesystems, usage, io), None, 0.0)
    assert first.read_bytes_per_s is None and first.filesystems[2].fill_rate is None


def test_shape_cleans_what_a_user_may_name():
    [(m, others)] = real_filesystems(parse_mountinfo("70 1 8:1 / /mnt/x\\033[2J rw - ext4 /dev/sd\u202e rw\n"))
    [fs] = shape(DisksRaw([(m, others)], {m.mountpoint: statvfs_fields(10, 5)}), None, 0.0).filesystems
    assert fs.mountpoint == "/mnt/x\\x1b[2J" and fs.device == "/dev/sd\\u202e"


def test_trends_fit_over_the_window_and_forget_what_is_gone():
    t = Trends(window=600.0, min_span=60.0)
    assert t.add(0.0, {"/": 1000.0}) == {"/": None}
    t.add(60.0, {"/": 1600.0})
    assert t.add(120.0, {"/": 2200.0}, keep=["/mnt/nfs"]) == {"/": pytest.approx(10.0)}
    assert t.add(900.0, {"/": 2200.0}) == {"/": None}  # older readings left the window
    t.add(901.0, {}, keep=["/"])  # "/" did not answer this time: its window is kept
    assert t.add(961.0, {"/": 2800.0})["/"] is not None
    t.add(962.0, {})  # unmounted: forgotten
    assert t.add(1022.0, {"/": 1.0}) == {"/": None}


def _switches() -> int:
    with open("/proc/thread-self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))


def test_a_read_of_many_mounts_waits_once_not_once_per_mount(tmp_path):
    """The statvfs thread makes the calls in order, so the reader waits for the last one only:
    one wake-up a read (it woke at each call's end: one per mount, every read)."""
    mounts = [str(tmp_path)] + [f"/m{i}" for i in range(20)]

    def statvfs(path: str):
        time.sleep(0.001)  # each call ends after the reader began to wait
        return os.statvfs(str(tmp_path))

    s = Statvfs(statvfs=statvfs, timeout=5.0)
    s.read(mounts)  # the thread is started
    before = _switches()
    out = s.read(mounts)
    woke = _switches() - before
    assert all(isinstance(v, dict) and v["f_blocks"] > 0 for v in out.values()) and len(out) == 21
    assert woke <= 3, woke


def test_hung_mount_is_reported_without_stalling_and_not_asked_again_until_it_returns():
    release = threading.Event()
    calls: list[str] = []

    def statvfs(path: str):
        calls.append(path)
        if path == "/mnt/nfs":
            release.wait(30)  # an NFS server that went away
        return os.statvfs("/")

    c = DisksCollector(statvfs=statvfs, timeout=0.3)
    t0 = time.monotonic()
    out = c.read_usage(["/", "/mnt/nfs"])
    assert time.monotonic() - t0 < 5  # bounded by the per-call timeout, not by the hung call
    assert isinstance(out["/"], dict) and out["/"]["f_blocks"] > 0
    assert out["/mnt/nfs"] == "not answering after 0.3 s"

    again = c.read_usage(["/", "/mnt/nfs"])
    assert again["/mnt/nfs"].startswith("not answering")
    assert calls.count("/mnt/nfs") == 1  # the stuck call is not repeated: threads do not pile up

    release.set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and isinstance(c.read_usage(["/mnt/nfs"])["/mnt/nfs"], str):
        time.sleep(0.05)
    assert isinstance(c.read_usage(["/mnt/nfs"])["/mnt/nfs"], dict)


def test_statvfs_error_is_reported_for_that_mount_only():
    def statvfs(path: str):
        if path == "/gone":
            raise PermissionError(13, "Permission denied")
        return os.statvfs(path)

    out = DisksCollector(statvfs=statvfs).read_usage(["/", "/gone"])
    assert isinstance(out["/"], dict)
    assert out["/gone"] == "PermissionError: Permission denied"


def test_collector_on_this_machine():
    c = DisksCollector()
    first = c.collect(time.monotonic())
    assert all(d.read_bytes_per_s is None for d in first.devices)  # no previous reading yet
    time.sleep(0.2)
    data = c.collect(time.monotonic())
    root = next(fs for fs in data.filesystems if fs.mountpoint == "/")
    assert root.error is None and 0 <= root.percent <= 100
    assert root.total == psutil.disk_usage("/").total
    assert root.fill_rate is None  # the window is far shorter than FILL_MIN_SPAN
    assert not any(fs.fstype in ("proc", "sysfs", "cgroup2") for fs in data.filesystems)
    assert all(fs.mountpoint in ("/dev/shm", "/run", "/tmp") for fs in data.filesystems if fs.fstype == "tmpfs")
    # Fullest first: the order a clipped wall card relies on.
    percents = [fs.percent for fs in data.filesystems if fs.percent is not None]
    assert percents == sorted(percents, reverse=True)
    assert all(d.read_bytes_per_s is not None for d in data.devices)
    series = c.series(data)
    assert series["disks./.percent"] == root.percent
    assert "disks.read_bytes_per_s" in series and "disks.write_bytes_per_s" in series


# ---- issue 12: overlays and binds not judged twice, the tmpfs that matter judged --------------------

def test_an_overlay_writing_to_a_listed_filesystem_is_another_place_it_shows():
    text = ("60 1 253:0 / / rw - xfs /dev/mapper/rl-root rw\n"
            "80 60 0:70 / /srv/merged rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
            "81 60 0:71 / /srv/ro rw - overlay overlay ro,lowerdir=/l:/m\n")
    devices = {"/u": "253:0"}
    [(root, others), (ro, _)] = real_filesystems(parse_mountinfo(text), device_of=devices.get)
    assert root.mountpoint == "/" and others == ["/srv/merged"]
    assert ro.mountpoint == "/srv/ro"  # a read-only overlay writes nowhere: its own (full) row
    # An upper directory on no listed filesystem: the overlay is its own row.
    assert len(real_filesystems(parse_mountinfo(text), device_of={"/u": "9:9"}.get)) == 3


def _run(*cmd):
    import subprocess
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.fixture
def mounted(tmp_path):
    """mount(8) as root, unmounted at teardown. Under CI=true a mount that cannot be made fails."""
    made = []

    def mount(*args):
        target = args[-1]
        r = _run("mount", *args)
        if r.returncode != 0:
            why = f"cannot mount {' '.join(args)}: {r.stderr.strip() or r.returncode}"
            if os.environ.get("CI") == "true":
                pytest.fail(why)
            pytest.skip(why)
        made.append(target)
        return target

    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("mount tests need root")
        pytest.skip("mount tests need root")
    yield mount
    for target in reversed(made):
        _run("umount", "-l", target)


def test_a_real_tmpfs_filled_to_99_percent_is_listed_and_critical(tmp_path, mounted):
    from monitor.health import Judge
    from monitor.thresholds import Thresholds
    from tests.test_health import snap

    mp = tmp_path / "scratch"
    mp.mkdir()
    mounted("-t", "tmpfs", "-o", "size=4m,nr_inodes=200", "tmpfs", str(mp))
    c = DisksCollector(tmpfs_mounts=[str(mp)])
    assert str(mp) not in [fs.mountpoint for fs in DisksCollector().collect(time.monotonic()).filesystems]
    total = os.statvfs(mp).f_blocks * os.statvfs(mp).f_frsize
    with open(mp / "fill", "wb") as f:
        f.write(b"\0" * (total * 99 // 100))
    for i in range(195):  # and inodes: 197 of 200 (the root directory and the fill file too)
        (mp / f"f{i}").touch()
    data = c.collect(time.monotonic())
    [fs] = [fs for fs in data.filesystems if fs.mountpoint == str(mp)]
    assert fs.fstype == "tmpfs" and fs.error is None and fs.percent >= 98.5
    assert fs.inodes_total == 200 and fs.inodes_percent >= 95
    verdicts = Judge(Thresholds())(snap(t=0.0, disks=data))
    by_key = {v.key: v for v in verdicts if v.subject == str(mp)}
    assert by_key[f"disks_percent:{mp}"].state == "critical"
    assert by_key[f"disks_inodes_percent:{mp}"].state == "critical"


def test_a_real_overlay_on_a_listed_filesystem_is_not_judged_twice(tmp_path, mounted):
    from monitor.health import Judge
    from monitor.thresholds import Thresholds
    from tests.test_health import snap

    base = tmp_path / "base"  # a tmpfs of our own under the overlay: a listed filesystem we know
    base.mkdir()
    mounted("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(base))
    for d in ("lower", "upper", "work", "merged"):
        (base / d).mkdir()
    merged = base / "merged"
    mounted("-t", "overlay", "-o", f"lowerdir={base}/lower,upperdir={base}/upper,workdir={base}/work",
            "overlay", str(merged))
    bind = tmp_path / "bind"  # and a bind mount of a directory of the same filesystem
    bind.mkdir()
    mounted("--bind", str(base / "lower"), str(bind))
    data = DisksCollector(tmpfs_mounts=[str(base), str(bind)]).collect(time.monotonic())
    shown = [fs.mountpoint for fs in data.filesystems]
    assert str(merged) not in shown and str(bind) not in shown and shown.count(str(base)) == 1
    [fs] = [fs for fs in data.filesystems if fs.mountpoint == str(base)]
    assert sorted(fs.also_mounted_at) == sorted([str(bind), str(merged)])
    verdicts = Judge(Thresholds())(snap(t=0.0, disks=data))
    assert not [v for v in verdicts if v.subject in (str(merged), str(bind))]
    assert [v.check for v in verdicts if v.subject == str(base)].count("disks_percent") == 1


def test_mounts_queued_behind_a_hung_one_are_still_answered_and_one_thread_serves_every_read():
    release = threading.Event()
    threads: dict[str, set[int]] = {}

    def statvfs(path: str):
        threads.setdefault(path, set()).add(threading.get_ident())
        if path == "/mnt/nfs" and not release.is_set():
            release.wait(30)
        return os.statvfs("/")

    c = DisksCollector(statvfs=statvfs, timeout=0.3)
    for _ in range(3):
        assert all(isinstance(v, dict) for v in c.read_usage(["/", "/srv"]).values())
    assert len(threads["/"] | threads["/srv"]) == 1  # one long-lived thread, not one per call
    out = c.read_usage(["/mnt/nfs", "/", "/srv"])  # the hung one first: the others queue behind it
    assert out["/mnt/nfs"] == "not answering after 0.3 s"
    assert isinstance(out["/"], dict) and isinstance(out["/srv"], dict)
    assert len(threads["/"]) == 2  # taken back and made by a fresh thread
    release.set()


def test_the_mount_table_is_read_again_only_after_a_mount_or_unmount(tmp_path):
    """poll(2) on mountinfo says when the table changed; between changes one parse is reused."""
    if os.geteuid() != 0 and not IN_CI:
        pytest.skip("mounting needs root (CI runs as root)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    table = MountTable(tmpfs=[str(mnt)])
    try:
        first = table.read()
        assert table.read() is first  # nothing changed: not read again
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "none", str(mnt)], check=True)
        try:
            mounted = table.read()
            assert str(mnt) in [m.mountpoint for m, _ in mounted]
            assert table.read() is mounted
        finally:
            subprocess.run(["umount", str(mnt)], check=True)
        assert str(mnt) not in [m.mountpoint for m, _ in table.read()]
    finally:
        table.close()
    assert table.read() == table.read()  # opens again after close()
    table.close()
