"""The one Jinja2 environment: loader over templates/ and partials/, autoescape on, our filters.

jinja2-fragments' Jinja2Blocks lets a route render one named block of a page template, so a page
and its fragments are one file and never drift apart.
"""
from __future__ import annotations

from pathlib import Path

from jinja2_fragments.fastapi import Jinja2Blocks

from .charts import sparkline
from .format import FILTERS

ROOT = Path(__file__).resolve().parent.parent

templates = Jinja2Blocks(directory=[ROOT / "templates", ROOT / "partials"])
env = templates.env
env.autoescape = True  # host data (process names, log lines) is hostile; never turn this off
env.filters.update(FILTERS)
env.globals["sparkline"] = sparkline
env.trim_blocks = True
env.lstrip_blocks = True
