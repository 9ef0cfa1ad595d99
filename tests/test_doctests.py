"""The examples in docstrings are tests: every module under monitor/ and views/ with a ``>>>``
example runs it here, so a doc that drifts from the code fails CI (same as ``pytest
--doctest-modules`` on those modules). A module whose examples cannot run anywhere (they need the
host's own files or root) goes in NOT_RUN with the reason, never silently.
"""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN: dict[str, str] = {}  # module -> why its examples are illustrations only
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def modules_with_examples() -> list[str]:
    found = []
    for top in ("monitor", "views"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if ">>>" in path.read_text(encoding="utf-8"):
                found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


MODULES = modules_with_examples()


def test_the_pure_modules_have_examples():
    """The modules issue 11 names as pure keep at least one example each."""
    for name in ("monitor.text", "monitor.masking", "monitor.logs.lines", "monitor.logs.filters",
                 "views.format", "monitor.areas"):
        assert name in MODULES, f"{name} has no >>> example any more"


@pytest.mark.parametrize("name", [m for m in MODULES if m not in NOT_RUN])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out: list[str] = []
    tests = finder.find(module, name)
    for test in tests:
        runner.run(test, out=out.append)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name}: no example found"
    assert result.failed == 0, "".join(out)
