"""Parse our HTML and list what a strict CSP would block: inline scripts, on*= handlers, style=."""
from __future__ import annotations

from html.parser import HTMLParser


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {k.lower() for k, _ in attrs}
        if tag == "script":
            if "src" not in names:
                self.problems.append("inline <script>")
            self._in_script = True
        for name in names:
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if name == "style":
                self.problems.append(f"style= attribute on <{tag}>")
            if name.startswith("hx-on"):
                self.problems.append(f"{name} on <{tag}>")
        if tag == "style":
            self.problems.append("inline <style>")


def inline_code(html: str) -> list[str]:
    """Everything in ``html`` that needs 'unsafe-inline'; an empty list means CSP-clean."""
    p = _Inline()
    p.feed(html)
    return p.problems
