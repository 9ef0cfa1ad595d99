"""Host strings -> text that is safe to show anywhere (HTML, JSON, SSE, /metrics labels, events).

    >>> print(clean(b"x\\xff\\x1b[31mred"))
    x�\\x1b[31mred
    >>> print(clean("evil\\u202etxt.exe"))
    evil\\u202etxt.exe

Everything the host hands us (process names, command lines, paths, user names, mount points,
interface names, sensor labels, log lines) is data a local user may have chosen, byte for byte.
``clean`` is applied where such a string *enters* the console (the collectors, the process
detail, the log line shaper), so nothing downstream ever holds a string that cannot be encoded
or that acts on a terminal or a page:

- bytes are decoded as UTF-8; undecodable bytes become U+FFFD;
- lone surrogates (psutil and ``os`` decode with ``surrogateescape``, so a name with ``\\xff``
  arrives as ``\\udcff``; ``json.loads`` also accepts lone ``\\ud800`` escapes) become U+FFFD:
  they would make every later ``.encode("utf-8")`` raise;
- C0 controls except tab, DEL, the C1 controls U+0080–U+009F (NEL U+0085 is a line break to
  some renderers, CSI U+009B an escape to some terminals), the line and paragraph separators
  U+2028/U+2029, and the bidi marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F,
  U+202A–U+202E, U+2066–U+2069: "Trojan Source" reordering) are shown as visible backslash
  escapes, never interpreted.

One scheme everywhere: ``\\xNN`` for a code point below U+0100 (``\\x1b``, ``\\x0a``, ``\\x85``),
``\\uNNNN`` above (``\\u202e``), lower-case hex. A backslash already in the text is left as it is
(like ps and systemd's escaping of unit names), so ``\\x1b`` typed literally reads the same as an
escaped ESC: the point is that neither can steer anything. Tab stays a tab: it is whitespace to
HTML and JSON escapes it.

``limit`` bounds the result (characters): the input is cut *before* the work, so a 2 MiB
command line costs what its first ``limit`` characters cost, and the result ends with a note
saying how long the original was. Cutting happens after whatever must see the whole string
(credential masking): see monitor/collectors/processes.py.

Cost: one C-speed regex scan for the common case (nothing to replace: the string is returned
as is), else one ``str.translate``; both linear.
"""
from __future__ import annotations

import re

# Code points shown as escapes.
_ESCAPED = [*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F, *range(0x80, 0xA0),
            0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TABLE: dict[int, str] = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _ESCAPED}
# Surrogates (only a str can hold one) become U+FFFD by a regex, not by 2,048 more entries in
# the table: those were 140 KiB of every console's memory (issue 19).
_SURROGATE = re.compile("[\ud800-\udfff]")

# Anything that needs the table. ASCII text only has to be checked for C0 and DEL.
_NEEDS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                    "\u2066-\u2069\ud800-\udfff]")
_NEEDS_ASCII = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
# A cut through an escape ("\x1", "\u20") would read as a different escape: drop the stump.
_STUMP = re.compile(r"\\(?:x[0-9a-f]?|u[0-9a-f]{0,3})?\Z")

TRUNCATED = "…[truncated, {} characters]"


def clean(s: str | bytes | None, limit: int | None = None) -> str:
    """``s`` as safe, valid text (see the module docstring); None is "".

    With ``limit``, at most ``limit`` characters of cleaned text are kept, followed by
    ``…[truncated, N characters]`` (N the original length: characters, or bytes if given bytes).
    """
    if s is None:
        return ""
    text, cut = clean_cut(s, limit)
    return text + TRUNCATED.format(len(s)) if cut else text


def clean_cut(s: str | bytes, limit: int | None = None) -> tuple[str, bool]:
    """(cleaned text of at most ``limit`` characters, whether anything was cut), no note added:
    for callers that word the note themselves (a command line counts all its arguments)."""
    cut = limit is not None and len(s) > limit
    if cut:
        s = s[:limit]  # before decoding and escaping: the work is bounded by the limit
    if not isinstance(s, str):
        s = bytes(s).decode("utf-8", errors="replace")  # a cut through a character: one U+FFFD
    needs = _NEEDS_ASCII if s.isascii() else _NEEDS
    if needs.search(s) is not None:
        if needs is _NEEDS:
            s = _SURROGATE.sub("\ufffd", s)
        s = s.translate(_TABLE)
        if limit is not None and len(s) > limit:  # escapes are longer than what they stand for
            s = _STUMP.sub("", s[:limit])
            cut = True
    return s, cut


def clean_or_none(s: str | bytes | None, limit: int | None = None) -> str | None:
    """``clean`` that keeps None as None (a field that could not be read)."""
    return None if s is None else clean(s, limit)
