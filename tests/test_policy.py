"""The written policy (docs/JUDGMENT.md) and the code's defaults (monitor/checks.py CHECKS)
are the same: one row per check, the same levels, hold and clear (issue 12)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.thresholds import CHECKS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "JUDGMENT.md"
FIELDS = ("warning", "critical", "for", "clear")


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if cell in ("—", "-", ""):
        return None
    m = re.match(r"-?[0-9]+(?:\.[0-9]+)?", cell)
    assert m, f"not a number: {cell!r}"
    return float(m.group(0))


def rows() -> dict[str, dict[str, object]]:
    """check -> its row: the numbers and the text cells."""
    out: dict[str, dict[str, object]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|", line)
        if not m:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 8, f"row {m.group(1)}: {len(cells)} cells, not 8"
        name = m.group(1)
        assert name not in out, f"{name} has two rows"
        out[name] = {"measures": cells[1], **{f: _number(c) for f, c in zip(FIELDS, cells[2:6])},
                     "why": cells[6], "look": cells[7]}
    return out


def test_every_check_has_one_row_and_every_row_a_check():
    table = set(rows())
    assert set(CHECKS) - table == set(), "checks missing from docs/JUDGMENT.md"
    assert table - set(CHECKS) == set(), "rows in docs/JUDGMENT.md for checks that do not exist"


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_row_has_the_code_defaults(name):
    row = rows().get(name)
    assert row is not None, f"{name} has no row in docs/JUDGMENT.md"
    default = CHECKS[name][1]
    for f in FIELDS:
        want = default.get(f)
        want = None if want is None else float(want)
        assert row[f] == want, f"{name}: {f} is {row[f]} in docs/JUDGMENT.md, {want} in the code"


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_row_says_why_and_what_to_look_at(name):
    row = rows()[name]
    assert len(str(row["measures"])) > 10 and len(str(row["look"])) > 20
    assert re.search(r"\[(N-[a-z]+|P-[a-z]+|G|PSI|oomd|own)\]|own levels", str(row["why"])), \
        f"{name}: the reason names no source"


def test_the_sources_cited_are_listed():
    text = DOC.read_text(encoding="utf-8")
    cited = set(re.findall(r"\[(N-[a-z]+|P-[a-z]+|G|PSI|oomd|own)\]", text))
    for tag in cited:
        assert f"- [{tag}]" in text, f"[{tag}] is cited but not listed among the sources"


def test_readme_links_the_policy():
    assert "docs/JUDGMENT.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_check():
    """The README's short table names every check (its numbers, with units, are JUDGMENT.md's)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.M))
    assert set(CHECKS) <= listed, f"missing from README.md's thresholds table: {set(CHECKS) - listed}"
