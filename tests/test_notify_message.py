"""Notifications: message shaping, URL redaction and maintenance windows on literal input (pure)."""
from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from monitor.health import ProcessRef
from monitor.notify.changes import Item
from monitor.notify.maintenance import Maintenance
from monitor.notify.message import compose, span, subject
from monitor.notify.settings import Channel, NotifySettings, QuietHours, redacted, scrub, secrets_of

T0 = 1796163600.0  # 2026-12-01 22:20:00 UTC


def item(kind="opened", state="critical", check="disks_percent", subject_="/var", **kw):
    base = dict(kind=kind, key=f"{check}:{subject_}" if subject_ else check, check=check,
                subject=subject_, area=check.split("_")[0], state=state, since=T0 - 300,
                reason="/var is 96 % full (critical at 95 %)")
    return Item(**{**base, **kw})


def test_a_message_has_host_state_reason_culprit_command_since_and_link():
    hog = ProcessRef(pid=4121, name="python3", cpu_percent=88.4, rss=1288490188,
                     command="python3 /srv/app.py --token=***", unit="app.service")
    msg = compose("web1", T0, "critical", "1 of 31 checks not ok", [item(top=(hog,))],
                  others=["WARNING cpu_percent: CPU is 93 % busy (since 2026-12-01 22:18:00 UTC)"],
                  public_url="https://monitor.example.com/")
    assert msg.subject == "[CRITICAL] web1: disks_percent /var critical"
    assert msg.type == "failure"
    assert msg.body == (
        "web1 is CRITICAL: 1 of 31 checks not ok (2026-12-01 22:20:00 UTC)\n"
        "\n"
        "OPENED     critical disks_percent /var\n"
        "  /var is 96 % full (critical at 95 %)\n"
        "  since 2026-12-01 22:15:00 UTC (5 min)\n"
        "  top: python3 (pid 4121, app.service) 88 % CPU, 1.2 GiB\n"
        "       python3 /srv/app.py --token=***\n"
        "\n"
        "Also not ok:\n"
        "  WARNING cpu_percent: CPU is 93 % busy (since 2026-12-01 22:18:00 UTC)\n"
        "\n"
        "Console: https://monitor.example.com/dashboard\n")


def test_a_recovery_says_what_it_was_and_for_how_long():
    msg = compose("web1", T0, "ok", "all 31 checks ok",
                  [item("recovered", "ok", was="critical", reason="/var is 70 % full")])
    assert msg.subject == "[OK] web1: disks_percent /var recovered" and msg.type == "success"
    assert "RECOVERED  ok       disks_percent /var\n  /var is 70 % full\n" \
           "  was critical from 2026-12-01 22:15:00 UTC for 5 min\n" in msg.body


def test_a_grouped_subject_counts_and_the_worst_comes_first():
    items = [item("recovered", "ok", check="cpu_percent", subject_="", was="warning"),
             item("opened", "warning", check="memory_percent", subject_=""),
             item("escalated", "critical", was="warning")]
    msg = compose("web1", T0, "critical", "2 of 31 checks not ok", items)
    assert msg.subject == "[CRITICAL] web1: 1 critical, 1 warning, 1 recovered"
    order = [line.split()[0] for line in msg.body.splitlines() if line and not line.startswith((" ", "web1"))]
    assert order == ["ESCALATED", "OPENED", "RECOVERED"]


def test_a_message_is_bounded_however_many_checks_change():
    items = [item(subject_=f"/mnt/{i:03}") for i in range(500)]
    msg = compose("web1", T0, "critical", "500 of 500 checks not ok", items)
    assert msg.body.count("OPENED") == 30 and "... and 470 more changes (see the console)" in msg.body
    assert msg.subject == "[CRITICAL] web1: 500 critical" and len(msg.body) < 10_000


def test_the_subject_is_bounded():
    s = subject("h" * 64, "critical", [item(subject_="/" + "x" * 300)])
    assert len(s) == 150 and s.endswith("…")


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"),
                                           (3600, "1 h"), (7800, "2 h 10 min"), (90000, "1 d 1 h")])
def test_span(seconds, text):
    assert span(seconds) == text


@pytest.mark.parametrize("url, shown", [
    ("mailtos://alerts:app-pass@smtp.example.com:465?to=ops@example.com", "mailtos://smtp.example.com:465/…"),
    ("json://user:s3cret@127.0.0.1:8080/hook?token=abc", "json://127.0.0.1:8080/…"),
    ("ntfy://my-private-topic", "ntfy://***/…"),
    ("discord://1234567890/AbCdEf-webhook-token", "discord://***/…"),
    ("slack://TOKENA/TOKENB/TOKENC/#ops", "slack://***/…"),
    ("json://localhost", "json://localhost"),
    ("ht tp://x", "***"),
])
def test_redacted_shows_scheme_and_host_only(url, shown):
    assert redacted(url) == shown
    for secret in ("app-pass", "s3cret", "abc", "my-private-topic", "AbCdEf", "TOKENB"):
        assert secret not in redacted(url)


def test_scrub_removes_every_part_of_the_url_from_an_error():
    url = "json://user:s3cret@127.0.0.1:8080/hook-path?token=abc123"
    err = f"to 127.0.0.1: Max retries exceeded with url: /hook-path?token=abc123 ({url}) user:s3cret"
    out = scrub(err, secrets_of(url))
    assert "s3cret" not in out and "abc123" not in out and "hook-path" not in out
    assert "127.0.0.1" in out


def test_channel_urls_never_print():
    s = NotifySettings(channels=[{"url": "json://u:s3cret@127.0.0.1/x"}],
                       heartbeat_url="https://hc.example.com/ping/uuid-secret")
    assert "s3cret" not in repr(s) and "uuid-secret" not in repr(s)
    assert "s3cret" not in s.model_dump_json() and "uuid-secret" not in s.model_dump_json()
    assert s.channels[0].label() == "json://127.0.0.1/…"


@pytest.mark.parametrize("bad", [{"channels": [{"url": "json://x", "level": "info"}]},
                                 {"channels": [{"url": "json://x", "checks": ["a b"]}]},
                                 {"heartbeat_url": "ftp://x/y"},
                                 {"quiet_hours": [{"start": "25:00", "end": "07:00"}]},
                                 {"public_url": "javascript:alert(1)"}])
def test_bad_settings_are_refused_with_the_field(bad):
    with pytest.raises(ValidationError):
        NotifySettings(**bad)


def at(h, m=0):
    return dt.datetime(2026, 12, 1, h, m).timestamp()


def test_quiet_hours_across_midnight_and_the_manual_window():
    m = Maintenance([QuietHours(start="22:00", end="07:00")])
    assert m.window(at(21, 59)) is None
    w = m.window(at(23, 30))
    assert w is not None and w.holds("warning") and not w.holds("critical")
    assert dt.datetime.fromtimestamp(w.until) == dt.datetime(2026, 12, 2, 7, 0)
    assert m.window(at(7, 0)) is None
    manual = m.set(at(12), minutes=30, hold_critical=True, who="127.0.0.1")
    assert m.window(at(12, 29)) == manual and manual.holds("critical")
    assert m.window(at(12, 30)) is None  # over: the quiet hours apply again (none at noon)
    m.set(at(12), 30)
    m.set(at(12), 0)
    assert m.window(at(12, 1)) is None


def test_a_channel_without_a_name_is_labelled_by_its_redacted_url():
    assert Channel(url="mailto://u:p@smtp.example.com").label() == "mailto://smtp.example.com/…"
    assert Channel(url="mailto://u:p@smtp.example.com", name="ops mail").label() == "ops mail"
