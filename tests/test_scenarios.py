"""Scenario replays (issue 12): each file in tests/scenarios/ is one behaviour, series in and the
verdict timeline out, replayed through the real Judge with no host (monitor/replay.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from monitor import replay, scenario as scenario_file

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.toml"))


def _params():
    for path in SCENARIOS:
        yield pytest.param(path, id=path.stem)


def test_the_behaviours_issue_12_names_have_a_scenario():
    names = {p.stem for p in SCENARIOS}
    assert {"disk_steady_fill", "disk_step_then_idle", "disk_fill_then_stop",
            "disk_sawtooth_log_rotation", "disk_deletion", "cpu_noisy_around_level",
            "cpu_spike_shorter_than_hold", "restart_mid_episode"} <= names


@pytest.mark.parametrize("path", list(_params()))
def test_scenario(path: Path, tmp_path: Path):
    scenario = replay.load(path)
    result = replay.replay(scenario, tmp_path / "events.jsonl")
    got = "\n".join(str(c) for c in result.changes)
    assert not replay.diff(scenario.expect, result.changes), (
        f"{scenario.title}\n" + "\n".join(replay.diff(scenario.expect, result.changes))
        + f"\nwhole timeline:\n{got}")
    if scenario.expect_events:
        events = [(e.check, e.state, e.start, e.end) for e in result.events]
        want = [(e["check"], e["state"], float(e["start"]), float(e["end"]))
                for e in scenario.expect_events]
        assert events == want, f"{scenario.title}: events {events}"


def test_the_replay_reads_no_host(monkeypatch, tmp_path: Path):
    """A replay calls no psutil: every psutil function raises while it runs."""
    import psutil

    def boom(*a, **k):
        raise AssertionError("the replay touched the host")

    for name in ("cpu_times", "cpu_percent", "virtual_memory", "swap_memory", "disk_usage",
                 "disk_io_counters", "disk_partitions", "process_iter", "net_io_counters"):
        monkeypatch.setattr(psutil, name, boom)
    for path in SCENARIOS:
        replay.replay(replay.load(path), tmp_path / f"{path.stem}.jsonl")


def test_series_and_timeline_parsing():
    pts = scenario_file.parse_series("0 1 GiB\n100 2GiB  # a comment\n100 1 GiB\n", tick=10)
    assert pts == [(0.0, 2**30), (100.0, 2 * 2**30), (100.0, 2**30)]
    assert scenario_file.value_at(pts, 50) == 1.5 * 2**30
    assert scenario_file.value_at(pts, 100) == 2**30  # the step: the last point at a time wins
    assert scenario_file.parse_series("5 1 2 3", tick=5) == [(5.0, 1.0), (10.0, 2.0), (15.0, 3.0)]
    (c,) = scenario_file.parse_timeline("300..600 disks_time_to_full:/var warning")
    assert c.matches(replay.Change(450, "disks_time_to_full:/var", "warning"))
    assert not c.matches(replay.Change(601, "disks_time_to_full:/var", "warning"))


def test_false_alarms_count_episodes_no_expected_one_overlaps():
    C = replay.Change
    expected = [C(100, "cpu_percent", "warning"), C(200, "cpu_percent", "ok")]
    actual = [C(110, "cpu_percent", "warning"), C(190, "cpu_percent", "ok"),
              C(300, "cpu_percent", "critical"), C(320, "cpu_percent", "ok"),
              C(50, "disks_percent:/", "warning")]
    assert replay.false_alarms(expected, actual) == 2
    assert replay.missed_alarms(expected, actual) == 0


def test_the_outcome_table_for_the_note(capsys):
    """``python -m monitor.replay tests/scenarios`` prints one line per scenario and the totals."""
    assert replay.main([str(SCENARIOS[0].parent)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(SCENARIOS) + 1
    assert out[-1].startswith(f"{len(SCENARIOS)} scenarios: ") and "false alarms" in out[-1]
