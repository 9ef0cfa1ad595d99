"""The history ring (monitor/store.py ``Ring``): ``within`` bisects the newest run in time order
and must count exactly what the plain walk back from the newest point counts, whatever the
clock did (steps back, repeats, gaps) and wherever the ring has wrapped."""
from __future__ import annotations

import random

import pytest

from monitor.ring import Points, Ring
from monitor.store import History


def walked(ring: Ring, seconds: float) -> int:
    """The walk ``within`` replaced: back from the newest to the first point that is too old."""
    pts = ring.points()
    if not pts:
        return 0
    since, n = pts[-1][0] - seconds, 0
    while n < len(pts) and pts[-1 - n][0] >= since:
        n += 1
    return n


@pytest.mark.parametrize("seed", range(40))
def test_within_counts_what_the_walk_counts(seed):
    rng = random.Random(seed)
    ring = Ring(rng.choice([1, 2, 7, 50, 300]))
    t = 1_000_000.0
    for step in range(rng.randint(0, 900)):
        r = rng.random()
        t += (-rng.uniform(0, 400) if r < 0.03 else 0.0 if r < 0.08 else
              rng.uniform(20, 200) if r < 0.1 else rng.uniform(0.9, 1.1))
        ring.append(t, float(step))
        if step % 7 == 0 or rng.random() < 0.05:
            for seconds in (0.0, 0.5, 1.0, 30.0, 299.9, 300.0, 1e9, -1.0, rng.uniform(0, 600)):
                assert ring.within(seconds) == walked(ring, seconds), (seed, step, seconds)
    assert ring.within(300.0) == walked(ring, 300.0)


def test_an_empty_ring_has_none_within():
    assert Ring(5).within(300.0) == 0 and History(5).points("nothing", 300) == []


def test_points_say_where_they_sit_in_their_ring():
    history = History(10)
    for i in range(25):  # wrapped twice and a half
        history.add(float(i), {"s": float(i)})
    pts = history.points("s", 4.5)
    assert isinstance(pts, Points) and pts == [(float(i), float(i)) for i in range(20, 25)]
    assert pts.first == 20 and pts.ring == history.points("s").ring
    assert history.points("s") == [(float(i), float(i)) for i in range(15, 25)]


@pytest.mark.parametrize("seed", range(30))
def test_a_window_reads_what_the_points_list_holds(seed):
    """``History.window`` (the cards' sparklines) reads the ring in place: its length, items,
    slices, iteration and largest value are the copied ``Points``', and a sparkline drawn from
    it is the same markup, byte for byte, whether the ring has wrapped or not."""
    from views.charts import sparkline
    rng = random.Random(seed)
    history = History(rng.choice([2, 5, 60, 300, 900]))
    t = 1_000_000.0 + seed
    for step in range(rng.randint(1, 1200)):
        t += rng.choice([1.0, 1.0, 1.0, 0.5, 7.0])
        history.add(t, {"s": rng.uniform(-5, 1e6) if rng.random() < 0.9 else 0.0})
    for seconds in (0.0, 1.0, 30.0, 300.0, 1e9):
        window, points = history.window("s", seconds), history.points("s", seconds)
        assert len(window) == len(points) and list(window) == points
        assert (window.ring, window.first) == (points.ring, points.first)
        n = len(points)
        for k in {0, n - 1, -1, -n, n // 2}:
            assert window[k] == points[k]
        for a, b in ((None, None), (n - 1, None), (0, 1), (n // 3, n // 2), (n, None), (-2, None)):
            assert window[a:b] == points[a:b]
        assert window.max_value() == max(v for _, v in points)
        for hi in (100.0, None):
            assert str(sparkline(window, "label", hi=hi)) == str(sparkline(points, "label", hi=hi))
    with pytest.raises(IndexError):
        history.window("s", 1e9)[len(history.points("s"))]
    assert history.window("absent", 300) == []
