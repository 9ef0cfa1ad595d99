"""One Jinja environment (views/templating.py): prefixed names, every global registered there,
the failed card drawn as markup."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import httpx
import pytest

from tests.conftest import AUTH, ROOT


def test_a_page_and_a_card_may_share_a_name():
    from views.templating import env
    page = env.get_template("pages/logs_page.html").filename
    card = env.get_template("cards/logs.html").filename
    assert page == str(ROOT / "templates" / "logs_page.html")
    assert card == str(ROOT / "partials" / "logs.html")
    assert env.get_template("pages/base.html").filename == str(ROOT / "templates" / "base.html")


def test_unprefixed_names_do_not_load():
    from jinja2 import TemplateNotFound

    from views.templating import env
    for name in ("cpu.html", "dashboard.html"):
        with pytest.raises(TemplateNotFound):
            env.get_template(name)


def test_every_global_is_registered_by_the_templating_module():
    from views.templating import env
    assert {"sparkline", "health_card", "limits"} <= set(env.globals)
    assert {"bytes", "pct"} <= set(env.filters)


def test_the_memory_card_renders_without_views_health_imported():
    """`limits` used to exist only once views/health.py had been imported; in a fresh process
    that imports only the card renderer the memory card must draw, not "could not be drawn"."""
    code = textwrap.dedent("""
        import asyncio, sys
        from monitor.collectors.memory import MemoryCollector
        from monitor.sampler import Sampler, Store
        from views.cards import render_card
        store = Store(10)
        sampler = Sampler(store, [MemoryCollector()], tick=1, timeout=1)
        snap = asyncio.run(sampler.sample_once())
        sampler.close()
        assert "views.health" not in sys.modules, "test is void: views.health already imported"
        html = str(render_card(store, snap, "memory"))
        assert "could not be drawn" not in html, html
        assert 'data-metric="memory.percent"' in html, html
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_failed_card_is_markup_on_a_full_page(client, monkeypatch):
    """The fallback card is HTML the template wrote, so the page must carry it as tags, not as
    the escaped text "&lt;p class=...&gt;"."""
    from views import cards
    real = cards.card_context

    def broken(store, snap, area, *scope):
        if area == "memory":
            raise KeyError("template bug")
        return real(store, snap, area, *scope)

    monkeypatch.setattr(cards, "card_context", broken)
    html = client.get("/dashboard").text
    assert '<p class="unavailable">This card could not be drawn' in html
    assert "&lt;p class" not in html and "&lt;h2" not in html
    failed = cards.render_card(client.app.state.store, client.app.state.store.latest, "memory")
    assert type(failed).__name__ == "Markup"


COMPILED = """
import json, sys
from pathlib import Path
from views import templating
from views.templating import compile_all, env
directory = Path(sys.argv[1])
compile_all(directory)
compiled = []
real = env.compile
env.compile = lambda *a, **k: compiled.append(a[1]) or real(*a, **k)
for name in env.list_templates():
    env.get_template(name)
print(json.dumps({"templates": len(env.list_templates()), "compiled here": compiled,
                  "files": len(list(directory.glob("*.cache"))),
                  "mode": directory.is_dir() and oct(directory.stat().st_mode & 0o777),
                  "cache": type(env.bytecode_cache).__name__}))
"""


def compiled_in_a_fresh_console(directory) -> dict:
    r = subprocess.run([sys.executable, "-c", COMPILED, str(directory)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.splitlines()[-1])


def test_templates_are_compiled_in_a_child_and_loaded_compiled(tmp_path):
    """Compiling leaves the compiler's garbage in the long-running process (issue 19): at start
    a child compiles every template into data_dir/templates, and the console compiles none."""
    seen = compiled_in_a_fresh_console(tmp_path / "templates")
    assert seen["templates"] > 10 and seen["files"] == seen["templates"], seen
    assert seen["compiled here"] == [] and seen["cache"] == "CompiledCache", seen
    assert seen["mode"] == "0o700", seen  # what is there is run as code: the console's user only


def test_a_damaged_cache_is_compiled_again_and_an_unusable_one_is_no_cache(tmp_path):
    directory = tmp_path / "templates"
    compiled_in_a_fresh_console(directory)
    damaged = sorted(directory.glob("*.cache"))
    for i, f in enumerate(damaged[:3]):  # truncated mid-header, mid-checksum, mid-code
        f.write_bytes(f.read_bytes()[: (2, 12, 60)[i]])
    (directory / "written-by-the-child").touch()
    directory.chmod(0o500)  # the child cannot write its repairs: they are compiled in process
    try:
        seen = compiled_in_a_fresh_console(directory)
    finally:
        directory.chmod(0o700)
    if os.geteuid() != 0:  # root writes through 0500; either way the damaged three are recompiled
        assert len(seen["compiled here"]) == 3, seen
    assert len(seen["compiled here"]) <= 3, seen
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("not a directory")
    seen = compiled_in_a_fresh_console(blocked / "templates")
    assert seen["cache"] == "NoneType" and len(seen["compiled here"]) == seen["templates"], seen


def test_the_console_started_by_main_keeps_its_compiled_templates_in_its_data_dir(spawn_server,
                                                                                 tmp_path):
    data = tmp_path / "data"
    server = spawn_server(env={"SERVER_MONITOR_DATA_DIR": str(data)})
    assert httpx.get(server.url + "/dashboard", headers=AUTH, timeout=10).status_code == 200
    assert len(list((data / "templates").glob("*.cache"))) > 10


def test_the_quick_render_is_jinjas_render(client):
    """views/templating.py's ``render`` merges the globals itself: every card, the banner and the
    tick come out exactly as ``Template.render`` makes them, in both scopes, on a real snapshot."""
    from views import cards, health
    from views.templating import env, render
    store = client.app.state.store
    snap = store.latest
    contexts = {f"cards/{a}.html": [cards.card_context(store, snap, a, scope)
                                    for scope in (cards.FULL, cards.DISPLAY)]
                for a in client.app.state.card_areas}
    contexts["cards/tick.html"] = [{"snap": snap}]
    contexts["cards/health.html"] = [health.health_context(snap, client.app.state.judge.events, scope)
                                     for scope in (cards.FULL, cards.DISPLAY)]
    assert len(contexts) >= 12
    for name, each in contexts.items():
        for context in each:
            quick = render(name, context)
            assert quick == env.get_template(name).render(context), name
            assert len(quick) > 40, name


def test_the_quick_render_raises_what_the_template_raises():
    from views.templating import env, render
    context = {"data": {}, "snap": None, "area": "cpu"}  # no snapshot for title() to read
    with pytest.raises(Exception) as jinjas:
        env.get_template("cards/cpu.html").render(context)
    with pytest.raises(type(jinjas.value)) as quick:
        render("cards/cpu.html", context)
    assert str(quick.value) == str(jinjas.value) and "state_of" in str(quick.value)


# The macro views/card_title.py replaced (partials/_card.html before issue 19's cut), kept as
# the oracle: the Python global must write exactly what it wrote.
OLD_TITLE_MACRO = """{% macro title(label, snap, area) %}
{% set st = snap.state_of(area) %}
<h2 class="card-title">{{ label }} <span class="state state-{{ st }}">{{ "not judged" if st == "unjudged" else st }}</span>{% set coming = snap.pending_of(area) %}{% if coming %}{% set v = coming[0] %} <span class="card-pending pending-{{ v.pending }}" data-check="{{ v.check }}">{{ v.pending }} in {{ v.pending_in|round|int }} s if it stays{% if v.subject %} ({{ v.subject }}){% endif %}{% if coming|length > 1 %} +{{ coming|length - 1 }}{% endif %}</span>{% endif %}{{ caller() if caller else "" }} <a class="card-history" href="/history?area={{ area|urlencode }}" aria-label="{{ label }} history">history</a></h2>
{% endmacro %}"""


def verdict(area, state, check="disks_percent", subject="", pending=None, pending_in=None):
    from monitor.health import Verdict
    return Verdict(check=check, area=area, subject=subject, state=state, value=1.0, unit="%",
                   threshold=None, warning=80.0, critical=90.0, since=0.0, reason="r",
                   pending=pending, pending_in=pending_in)


@pytest.mark.parametrize("verdicts, unavailable, judge_error", [
    ((), {}, None),  # not judged
    ((verdict("disks", "ok"), verdict("disks", "warning", subject="/srv")), {}, None),
    ((verdict("disks", "critical"), verdict("cpu", "ok", check="cpu_percent")), {}, None),
    ((verdict("disks", "ok", subject="/<b>&\"x'", pending="critical", pending_in=12.5),
      verdict("disks", "ok", subject="/a", pending="warning", pending_in=3.49),
      verdict("disks", "warning", subject="/b", pending="critical", pending_in=40.0)), {}, None),
    ((verdict("disks", "ok", pending="warning", pending_in=0.5),), {}, None),  # no subject, one
    ((verdict("disks", "ok"),), {"disks": "statvfs hung"}, None),
    ((verdict("disks", "ok"),), {}, "judging failed: boom"),
])
@pytest.mark.parametrize("label, area, body", [
    ("Disks", "disks", None), ("Disks", "disks", '<span class="big">91 %</span>'),
    ("<Odd & label>", "a b/c?d", "x"),
])
def test_the_card_title_writes_what_the_macro_wrote(verdicts, unavailable, judge_error, label, area, body):
    from markupsafe import Markup

    from monitor.store import Snapshot
    from views.card_title import title
    from views.templating import env
    macro = env.from_string(OLD_TITLE_MACRO).module.title
    snap = Snapshot(seq=1, taken_at=0.0, areas={}, unavailable=unavailable,
                    verdicts=tuple(v.model_copy(update={"area": area}) for v in verdicts),
                    judge_error=judge_error)
    if body is None:
        want, got = macro(label, snap, area), title(label, snap, area)
    else:
        want = env.from_string("{% call t(label, snap, area) %}" + body + "{% endcall %}").render(
            t=macro, label=label, snap=snap, area=area)
        got = env.from_string("{% call t(label, snap, area) %}" + body + "{% endcall %}").render(
            t=title, label=label, snap=snap, area=area)
    assert got == want and isinstance(title(label, snap, area), Markup)
    assert "<Odd" not in got and "<b>" not in got  # the label and subjects are escaped


def test_a_replaced_snapshot_derives_its_own_states():
    """``replace(snap, verdicts=...)`` is how a snapshot gets judged: what was memoised on the
    unjudged one (its states, pending verdicts, cards) must not carry over."""
    from dataclasses import replace

    from monitor.store import Snapshot
    unjudged = Snapshot(seq=1, taken_at=0.0, areas={}, unavailable={})
    assert unjudged.state_of("disks") == "unjudged" and unjudged.pending_of("disks") == []
    judged = replace(unjudged, verdicts=(verdict("disks", "ok", pending="warning", pending_in=5.0),
                                         verdict("disks", "critical", subject="/srv")))
    assert judged.state_of("disks") == "critical"
    assert [v.pending for v in judged.pending_of("disks")] == ["warning"]
    assert unjudged.state_of("disks") == "unjudged"
