"""Logs in Chromium: lines appended to a file appear live; Pause holds them, Resume catches up;
hostile lines (HTML, JS, ANSI) stay inert text. Every test ends with no console or CSP error."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

HOSTILE = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "\x1b[31mred\x1b[0m plain"]


@pytest.fixture
def log_server(spawn_server, tmp_path):
    log = tmp_path / "live.log"
    log.write_text("\n".join(["first line", *HOSTILE]) + "\n")
    server = spawn_server(env={"SERVER_MONITOR_LOG_SOURCES": json.dumps([{"name": "live", "path": str(log)}])})
    return server, log


def append(log, *lines):
    with open(log, "a") as f:
        f.write("".join(line + "\n" for line in lines))


def line_texts(page):
    return page.locator("#log-lines .log-msg").all_text_contents()


def test_live_tail_pause_resume_and_inert_lines(log_server, watched_page):
    server, log = log_server
    page = watched_page.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server.url + "/logs?source=live")
    page.wait_for_selector('.log-live[data-connected="true"]', timeout=10_000)

    # Hostile lines are text: shown literally, no element made from them, no script run.
    assert line_texts(page) == ["first line", "<img src=x onerror=alert(1)>", "<script>alert(2)</script>",
                                "red plain"]
    assert page.locator("#log-lines img, #log-lines script").count() == 0

    # Live: appended lines appear without a reload.
    append(log, "live one", "live <b>two</b>")
    expect(page.locator("#log-lines .log-line")).to_have_count(6, timeout=5_000)
    assert line_texts(page)[-2:] == ["live one", "live <b>two</b>"]
    assert page.locator("#log-lines b").count() == 0

    # Pause: new lines arrive but are held back (the state says how many).
    page.click(".log-pause")
    assert page.locator(".log-pause").get_attribute("aria-pressed") == "true"
    append(log, "paused 1", "paused 2")
    append(log, "paused 3")
    expect(page.locator(".log-state")).to_contain_text("3 new lines waiting", timeout=5_000)
    assert len(line_texts(page)) == 6

    # Resume: the held lines appear in order, each once.
    page.click(".log-pause")
    assert line_texts(page)[-3:] == ["paused 1", "paused 2", "paused 3"]
    append(log, "after resume")
    expect(page.locator("#log-lines .log-line")).to_have_count(10, timeout=5_000)
    texts = line_texts(page)
    assert texts[-4:] == ["paused 1", "paused 2", "paused 3", "after resume"]
    assert len(texts) == len(set(texts))
    assert page.locator(".log-state").text_content() == "live"
    assert dialogs == []
    watched_page.assert_clean()


def test_filter_form_keeps_filters_in_the_url(log_server, watched_page):
    server, log = log_server
    page = watched_page.page
    page.goto(server.url + "/logs?source=live")
    page.fill("input[name=q]", "line")
    page.click(".log-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"/logs\?source=live.*&q=line"), timeout=5_000)
    assert line_texts(page) == ["first line"]
    page.wait_for_selector('.log-live[data-connected="true"]', timeout=10_000)
    append(log, "not shown", "another line")  # the live stream applies the same filter
    expect(page.locator("#log-lines .log-line")).to_have_count(2, timeout=5_000)
    assert line_texts(page) == ["first line", "another line"]
    page.reload()
    assert line_texts(page) == ["first line", "another line"]
    watched_page.assert_clean()


def test_filters_apply_as_you_type_and_a_bad_regex_shows_next_to_its_field(log_server, watched_page):
    """Issue 18: text and regex filters apply while typing (debounced, URL replaced, focus kept);
    an invalid regex is shown next to its field, not only in the browser console; fixing it
    clears the message."""
    server, log = log_server
    page = watched_page.page
    page.goto(server.url + "/logs?source=live")
    page.wait_for_selector('.log-live[data-connected="true"]', timeout=10_000)
    history_before = page.evaluate("history.length")
    page.locator("input[name=q]").press_sequentially("first", delay=30)
    expect(page.locator("#log-lines .log-line")).to_have_count(1, timeout=5_000)
    expect(page).to_have_url(re.compile(r"/logs\?source=live.*&q=first"), timeout=5_000)
    assert page.evaluate("history.length") == history_before  # replaced, not pushed
    assert page.evaluate("document.activeElement.name") == "q"  # typing goes on where it was

    page.fill("input[name=q]", "")
    page.locator("input[name=regex]").press_sequentially("fail(ed", delay=30)
    error = page.locator("#log-error-regex [role=alert]")
    expect(error).to_contain_text("regex", timeout=5_000)
    assert page.locator("input[name=regex]").get_attribute("aria-invalid") == "true"
    page.locator("input[name=regex]").press_sequentially(")", delay=30)
    expect(page.locator("#log-error-regex")).to_have_text("", timeout=5_000)
    assert page.locator("input[name=regex]").get_attribute("aria-invalid") is None
    watched_page.assert_clean(answered=(422,))  # the refused regex's answer, nothing else


def test_the_line_count_is_the_count_shown(log_server, watched_page):
    """The header counts the rows on the page, live ones included (it said 4 with 15 shown)."""
    server, log = log_server
    page = watched_page.page
    page.goto(server.url + "/logs?source=live")
    page.wait_for_selector('.log-live[data-connected="true"]', timeout=10_000)
    assert page.locator(".log-count").inner_text() == "4 lines"
    append(log, *(f"live {i}" for i in range(11)))
    expect(page.locator("#log-lines .log-line")).to_have_count(15, timeout=5_000)
    expect(page.locator(".log-count")).to_have_text("15 lines", timeout=2_000)
    watched_page.assert_clean()
