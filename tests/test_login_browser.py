"""Logging in from Chromium: an anonymous visit to a full-scope page goes to /login, the token
typed there opens it, the cookie keeps the browser logged in across reloads and the live stream,
and Log out ends it. No console errors, no CSP violations."""
from __future__ import annotations

from tests.conftest import CSP_WATCH, TEST_TOKEN


def test_login_then_logout(live_server, browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})  # no Authorization header
    ctx.add_init_script(CSP_WATCH)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server.url + "/processes?sort=pid")
        assert page.url == live_server.url + "/login?next=%2Fprocesses%3Fsort%3Dpid"
        page.fill("#token", "not-the-token-at-all")
        page.click("button[type=submit]")
        assert page.locator("[role=alert]").inner_text() == "That token is not right."
        errors.clear()  # the 401 answer to the wrong token is reported as a console error
        page.fill("#token", TEST_TOKEN)
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + "/processes?sort=pid")
        assert page.locator("#proc-page").count() == 1
        cookies = {c["name"]: c for c in ctx.cookies()}
        session = cookies["server_monitor_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert TEST_TOKEN not in session["value"]
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read it
        page.goto(live_server.url + "/dashboard")  # the stream works with the cookie too
        page.wait_for_function(
            "document.querySelector('#cpu') && document.querySelector('#cpu').dataset.seq !== undefined"
            " || document.querySelectorAll('[sse-swap]').length > 0")
        assert page.locator("nav a[href='/processes']").count() == 1
        page.click(".nav-logout button")
        page.wait_for_url(live_server.url + "/login")
        page.goto(live_server.url + "/dashboard")  # the overview stays open to loopback...
        assert page.locator("nav a[href='/processes']").count() == 0  # ...without the links
        assert page.locator("nav a.nav-login").count() == 1
        assert errors == []
        assert page.evaluate("window.__cspViolations || []") == []
    finally:
        ctx.close()
