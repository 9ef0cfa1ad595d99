"""What GET /metrics (views/metrics.py) says: the latest snapshot's families, by prometheus_client.

Imported at the first scrape, not at start. A scrape never calls psutil: a custom Collector reads ``store.latest`` and the exposition is made
once per snapshot (memoised), however many Prometheus servers scrape. Sample:

    # TYPE node_load1 gauge
    node_load1 0.21
    # TYPE node_filesystem_avail_bytes gauge
    node_filesystem_avail_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} 8.4498452480e+10
    # TYPE server_monitor_verdict_state gauge
    server_monitor_verdict_state{area="disks",check="disks_percent",subject="/"} 0.0
    # TYPE server_monitor_state gauge
    server_monitor_state 0.0
    # TYPE server_monitor_collector_success gauge
    server_monitor_collector_success{collector="cpu"} 1.0

Each area's families come from ``EXPORTERS`` (views/exporters.py, keyed by the area word);
node_exporter's kernel counters from one raw reading of /proc and /sys (``read_host``, made once
per snapshot and only when scraped: views/exporters_node.py); the console-wide ones (verdicts,
collectors, samples) are made here. ``Accept: application/openmetrics-text`` gets OpenMetrics
(prometheus_client's ``choose_encoder``), memoised per snapshot and format.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric

from monitor.health import VALUE, state
from monitor.node_read import read_host
from monitor.sampler import Store

from .exporters import EXPORTERS, counter, gauge, one
from .exporters_node import host_families

__all__ = ["EXPORTERS", "SnapshotCollector", "families", "registry_of"]


# One number per state. 3 is "unknown": the check could not be judged (its area unreadable, its
# reading broken) or, for server_monitor_state, the whole sample was not judged. An alert on
# `server_monitor_state >= 2` therefore fires on "cannot tell" as well as on critical.
STATE_DOC = "0 ok, 1 warning, 2 critical, 3 unknown (could not be judged)."


def judgment(snap) -> Iterator[Metric | None]:
    """The console's verdicts: state, judged value and levels of each check, the overall state."""
    who = [((x.check, x.area, x.subject), x) for x in snap.verdicts]
    lab = ("check", "area", "subject")
    yield gauge("server_monitor_verdict_state", f"The console's judgment of each check: {STATE_DOC}",
                lab, [(k, VALUE[x.state]) for k, x in who])
    yield gauge("server_monitor_check_value", "The value each check judged, in the check's unit.",
                lab, [(k, x.value) for k, x in who])
    yield gauge("server_monitor_check_threshold", "The levels in effect for each check.",
                (*lab, "level"), [((*k, lvl), getattr(x, lvl)) for k, x in who
                                  for lvl in ("warning", "critical")])
    yield one("server_monitor_state", f"The overall state (unknown when the sample was not "
              f"judged): {STATE_DOC}", VALUE[state(snap)])
    yield one("server_monitor_judged", "1 when the exported sample was judged, 0 when judging "
              "failed or overran (server_monitor_state is then 3).", int(snap.judge_error is None))


def sampling(snap, failures: dict[str, int]) -> Iterator[Metric | None]:
    """The sampler's own health: each collector's success, staleness, duration and failures."""
    names = list(dict.fromkeys([*snap.areas, *snap.unavailable]))
    yield gauge("server_monitor_collector_success", "1 when the area was collected this tick.",
                ("collector",), [((n,), int(n in snap.areas)) for n in names])
    yield gauge("server_monitor_collector_stale_seconds",
                "Age of an area's published value while its next collection is late.",
                ("collector",), [((n,), age) for n, age in snap.stale.items()])
    yield gauge("server_monitor_collector_duration_seconds", "Seconds the last collection took.",
                ("collector",), [((n,), t) for n, t in snap.durations.items()])
    yield counter("server_monitor_collector_failures",
                  "Failed or hung collections since the console started.", ("collector",),
                  [((n,), failures.get(n, 0)) for n in names])
    yield one("server_monitor_sample_timestamp_seconds", "When the exported sample was taken.",
              snap.taken_at)
    yield counter("server_monitor_samples", "Samples taken since start.", (), [((), snap.seq)])


def families(snap, failures: dict[str, int], host: dict | None = None) -> Iterator[Metric]:
    """Every family of one snapshot: the host's raw counters (``host``, a ``read_host()``
    reading), each area's (``EXPORTERS``), then the console-wide ones."""
    if host is not None:
        yield from host_families(host)
    for area, export in EXPORTERS.items():
        data = snap.get(area)
        if data is not None:
            yield from (m for m in export(data) if m is not None)
    yield from (m for m in judgment(snap) if m is not None)
    yield from (m for m in sampling(snap, failures) if m is not None)


class SnapshotCollector:
    """prometheus_client Collector over the Store's latest snapshot (never psutil).

    ``read`` is the raw host reading (monitor/node_read.py), memoised on the snapshot: two
    formats or two scrapers of one snapshot read /proc once. A test passes a literal one."""

    def __init__(self, store: Store, read: Callable[[], dict] = read_host) -> None:
        self.store = store
        self.read = read

    def collect(self) -> Iterator[Metric]:
        snap = self.store.latest
        if snap is not None:
            yield from families(snap, self.store.failures, snap.memo("node_host", self.read))


def registry_of(store: Store) -> CollectorRegistry:
    """The console's registry: the snapshot's families and the notifier's counters."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(store))  # type: ignore[arg-type]
    from .notifications import NotifyCollector  # server_monitor_notifications_*: monitor/notify/
    registry.register(NotifyCollector(store))  # type: ignore[arg-type]
    return registry
