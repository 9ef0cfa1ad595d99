"""The one Jinja2 environment: one loader with prefixed names, autoescape on, every global and filter.

Names say what a template is, so a page and a card may share a word:

    pages/<name>   templates/<name>   full pages (``pages/dashboard.html``, ``pages/logs_page.html``)
    cards/<name>   partials/<name>    cards, fragments and macros (``cards/cpu.html``, ``cards/_card.html``)

An unprefixed name does not load: every template says which kind it means.

jinja2-fragments' Jinja2Blocks lets a route render one named block of a page template, so a page
and its fragments are one file and never drift apart.

Every template global and filter is registered here and nowhere else, so any template renders
whichever views module happens to be imported (``health_card`` and ``limits`` live in
views/health.py, which imports this module: they are looked up when called).
"""
from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, PrefixLoader
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup

from .card_title import title
from .charts import sparkline
from .format import FILTERS

ROOT = Path(__file__).resolve().parent.parent
PAGES, CARDS = ROOT / "templates", ROOT / "partials"

loader = PrefixLoader({"pages": FileSystemLoader(PAGES), "cards": FileSystemLoader(CARDS)})
env = Environment(
    loader=loader,
    autoescape=True,  # host data (process names, log lines) is hostile; never turn this off
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates are code: a new version is a restart. Left on, every render of every card
    # stat()s its file and each file it imports, ten cards a tick per viewer scope.
    auto_reload=False,
)
templates = Jinja2Blocks(env=env)


def health_card(request, snap) -> Markup:
    """``{{ health_card(request, snap) }}``: the health banner (views/health.py)."""
    from . import health  # imported when called: views/health.py imports this module
    return health.health_card(request, snap)


def limits(snap, check: str, subject: str = "") -> str:
    """``{{ limits(snap, "cpu_percent") }}`` in a card value's title= (views/health.py)."""
    from . import health
    return health.limits(snap, check, subject)


def card_macro(name: str):
    """``missing()`` of partials/_card.html as a template global. Imported by each
    card with ``{% from %}``, Jinja re-checked the importing context's globals against the
    module's on every render (a tenth of a card's cost); the module is made once here."""
    def call(*args, **kwargs):
        return getattr(env.get_template("cards/_card.html").module, name)(*args, **kwargs)
    return call


def render(name: str, context: dict) -> str:
    """``env.get_template(name).render(context)``, without its copy of the globals: Template.render
    copies them through a ChainMap, key by key in Python, at every call. Merged here as plain
    dicts instead, the same context at about half the cost of a small card (14.6 µs against 7.5
    for ``<p>{{ x }}</p>``), and the cards render a dozen times a tick (issue 19). Precedence as
    in Jinja: the context over the template's globals over the environment's."""
    template = env.get_template(name)
    maps = getattr(template.globals, "maps", (template.globals,))
    parent: dict = {}
    for m in reversed(maps):
        parent.update(m)
    parent.update(context)
    ctx = template.new_context(parent, shared=True)  # shared: ``parent`` is used as it is
    try:
        return env.concat(template.root_render_func(ctx))
    except Exception:
        return env.handle_exception()  # raises, with the template's lines in the traceback


env.filters.update(FILTERS)
env.globals.update(sparkline=sparkline, health_card=health_card, limits=limits,
                   title=title, missing=card_macro("missing"))


log = logging.getLogger("server_monitor.templates")


class CompiledCache(FileSystemBytecodeCache):
    """Compiled templates on disk (jinja's bytecode cache). Compiling a template in the
    long-running process leaves the compiler's garbage behind as RSS: one display after a
    minute, 60.0 MiB compiled here against 59.7 loaded compiled (issue 19). ``precompile`` runs
    in a short-lived child at start; a template whose source changed is compiled again (jinja
    checks the source's checksum and the Python version). A cache that cannot be read or
    written is no cache: the template is compiled here, as without one."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
            bucket.reset()  # unreadable or truncated: compiled here instead
            log.debug("template cache: %s", exc)

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            log.debug("template cache: %s", exc)


def use_compiled(directory: Path) -> None:
    """Load templates compiled into ``directory`` (data_dir/templates: the console's own user
    only, as the token beside it: what is there is run as code)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
    except OSError as exc:
        log.info("template cache %s unusable (%s): templates are compiled in process", directory, exc)
        return
    env.bytecode_cache = CompiledCache(str(directory))


def compile_all(directory: Path, timeout: float = 30.0) -> None:
    """Compile every template into ``directory`` in a child process, so none is compiled here."""
    use_compiled(directory)
    if env.bytecode_cache is None:
        return
    code = "import sys; from views.templating import precompile; precompile(sys.argv[1])"
    try:
        done = subprocess.run([sys.executable, "-c", code, str(directory)], cwd=ROOT,
                              capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("templates not precompiled (%s): compiled in process when first used", exc)
        return
    if done.returncode != 0:
        log.info("templates not precompiled: %s", done.stderr.decode(errors="replace")[-500:])


def precompile(directory: str) -> None:
    """The child's side of ``compile_all``: every template compiled and written to the cache."""
    use_compiled(Path(directory))
    for name in env.list_templates():
        env.get_template(name)
