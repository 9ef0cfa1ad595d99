"""How monitor/masking.py looks through one string: ``_Text`` (the spans to hide and the shared
budget of closer looks), ``_Finder`` (every occurrence of some words, one ``str.find`` pass per
word) and one scanner per form of secret: URL passwords, secret-looking names, Bearer/Basic
credentials, the short flags of programs in ``PROGRAM_FLAGS``.
"""
from __future__ import annotations

from monitor.mask_rules import (
    _BASE64,
    _BOOLEAN_FLAG,
    _DQ_BODY,
    _FORM,
    _HIT_WORDS,
    _NAME_CHARS,
    _NON_SPACE,
    _PROGRAM_AT,
    _PROGRAM_FLAG_RE,
    _PROGRAM_NAMES,
    _QUERY_VALUE,
    _SCHEME,
    _SPACES,
    _SQ_BODY,
    _WORD,
    MASK,
    PROGRAM_FLAGS,
    _hide,
    _is_secret_name,
    _program_flag,
)


class _Finder:
    """The next occurrence of any of some words: one str.find per word, each only moving forward,
    so finding all of them costs one C-speed pass over the text per word."""

    def __init__(self, haystack: str, words: tuple[str, ...]):
        self.haystack = haystack
        self.next = dict.fromkeys(words, -2)  # -2: not looked for yet; -1: no more

    def find(self, pos: int, limit: int) -> int:
        best = -1
        for word, i in self.next.items():
            if -1 < i < pos or i == -2:
                i = self.next[word] = self.haystack.find(word, pos, limit)
            if 0 <= i < limit and (best < 0 or i < best):
                best = i
        return best


class _Text:
    """One string being masked: the spans to hide and the budget of closer looks (shared by
    the arguments of one command line)."""

    def __init__(self, text: str, low: str, budget: list[int]):
        self.text, self.low, self.n, self.budget = text, low, len(text), budget
        self.spans: list[tuple[int, int]] = []
        self.limit = self.n  # everything from here on is hidden
        self._reversed: str | None = None

    def hide(self, start: int, end: int) -> None:
        self.spans.append((start, end))

    def hide_rest(self, start: int) -> None:
        self.hide(start, self.n)
        self.limit = min(self.limit, start)

    def spend(self, pos: int) -> bool:
        """One closer look at pos; once the budget is spent, hide from pos on and say no."""
        self.budget[0] -= 1
        if self.budget[0] >= 0:
            return True
        self.hide_rest(pos)
        return False

    def run_start(self, pos: int, bound: int) -> int:
        """Where the run of name characters holding pos starts (not before bound): a forward
        match on the reversed text, since a regex cannot search backwards."""
        if self._reversed is None:
            self._reversed = self.text[::-1]
        back = self.n - pos
        return pos - (_NAME_CHARS.match(self._reversed, back, self.n - bound).end() - back)

    def masked(self) -> str:
        """The text with each span (spans that overlap or touch: one) replaced by MASK."""
        out, last = [], 0
        for start, end in sorted(self.spans):
            if end <= start:
                continue
            if out and start <= last:
                last = max(last, end)
                continue
            out += (self.text[last:start], MASK)
            last = end
        out.append(self.text[last:])
        return "".join(out)



def _urls(t: _Text) -> list[tuple[int, int]]:
    """Hide the password of every scheme://user:password@host; return the URLs' query parts."""
    text, queries = t.text, []
    at = text.find("://", 0, t.limit)
    while at >= 0 and t.spend(at):
        start = at + 3
        end = _NON_SPACE.match(text, start).end()  # a URL has no spaces
        # The last "@" ends the userinfo, so a password with "@" or "/" in it is hidden whole.
        last_at = text.rfind("@", start, end)
        colon = text.find(":", start, last_at) if last_at > 0 else -1
        if colon >= 0:
            t.hide(colon + 1, last_at)
        if (query := text.find("?", max(start, last_at), end)) >= 0:
            queries.append((query, end))
        at = text.find("://", end, t.limit)
    return queries


def _names(t: _Text, queries: list[tuple[int, int]]) -> bool:
    """Hide the values of secret-looking names; True if a secret flag ends the text (then its
    value is the next argument). Scanning goes on from the start of each hidden value, not its
    end: in "--password --token S" or 'token: "x --password=' + 'S"' a name inside a value can
    have its own value outside it."""
    text, n, pos = t.text, t.n, 0
    hits, q = _Finder(t.low, _HIT_WORDS), 0
    while (hit := hits.find(pos, t.limit)) >= 0 and t.spend(hit):
        start = t.run_start(hit, pos)
        m = _FORM.match(text, start)
        if m is None or not _is_secret_name(t, start, start + len(m["flag"] or m["key"])):
            pos = max(_NAME_CHARS.match(text, hit).end(), m.end() if m else 0)
            continue
        pos, before = m.end(), text[start - 1:start]
        if m["flag"] is not None:
            if (before.strip() and before not in "\"'") or _BOOLEAN_FLAG.match(m["flag"]):
                continue
            value = _SPACES.match(text, pos + (text[pos:pos + 1] in ("'", '"'))).end()
            if value == n:
                return True
            t.hide(value, _WORD.match(text, value).end())
            pos = value  # a hidden value is looked into too (see above)
        elif m["sep"] == "=":
            while q < len(queries) and queries[q][1] <= start:
                q += 1
            if before in ("?", "&") and q < len(queries) and queries[q][0] < start:
                t.hide(pos, _QUERY_VALUE.match(text, pos).end())  # a URL parameter: to the "&"
            else:  # the rest of the argument: "ab&cd", "semi;colon", '"quoted value"'
                t.hide_rest(m.end())
        elif not before.strip() or before in "{,\"'":  # "Name: value"; not "/run/secrets:/x"
            value = _SPACES.match(text, pos).end()
            quote = text[value:value + 1]
            # JSON ('"DB_PASSWORD": "pw"'): a quoted name's quoted value ends at its closing
            # quote. Otherwise ('X-Api-Key: "a" b') the quote may be part of the secret.
            if quote in ("'", '"') and before == m["sep"][0] == quote:
                pos = value + 1
                t.hide(pos, (_DQ_BODY if quote == '"' else _SQ_BODY).match(text, pos).end())
                continue
            if m["key"].lower().endswith("authorization") and (s := _SCHEME.match(text, value)):
                value = s.end()  # the scheme stays: "Authorization: Bearer ***"
            t.hide_rest(value)
    return False


def _bearers(t: _Text) -> None:
    """Hide the credential after "Bearer " (any word of 4+ characters) or "Basic " (a base64
    word: "basic" is also an ordinary word, as in "--auth-method=basic NEXT_ARG=x") anywhere."""
    text, pos, hits = t.text, 0, _Finder(t.low, ("bearer", "basic"))
    while (hit := hits.find(pos, t.limit)) >= 0 and t.spend(hit):
        bearer = t.low.startswith("bearer", hit)
        head = hit + (6 if bearer else 5)
        pos = value = _SPACES.match(text, head).end()
        word_start = hit == 0 or not (text[hit - 1].isalnum() or text[hit - 1] in "_-")
        if value > head and word_start:  # "Bearer x", not "basically" or "Xbasic x"
            pos = (_WORD if bearer else _BASE64).match(text, value).end()
            if pos - value >= 4 and (bearer or pos == _WORD.match(text, value).end()):
                t.hide(value, pos)
        pos = max(pos, head)


def _program_flags(t: _Text) -> str | None:
    """PROGRAM_FLAGS inside one string, each program's from its name to the next program's.
    Returns how to hide the next argument if such a flag ends the text."""
    text, programs, pos = t.text, [], 0
    hits = _Finder(text, _PROGRAM_NAMES)
    while (hit := hits.find(pos, t.limit)) >= 0 and t.spend(hit):
        m = _PROGRAM_AT.match(text, hit)
        pos = m.end() if m else hit + 1
        if m and (hit == 0 or text[hit - 1].isspace() or text[hit - 1] == "/"):
            programs.append(m)
    for i, prog in enumerate(programs):
        flags, flag_re = PROGRAM_FLAGS[prog[1]], _PROGRAM_FLAG_RE[prog[1]]
        pos = prog.end()
        stop = min(t.limit, programs[i + 1].start() if i + 1 < len(programs) else t.n)
        while (f := flag_re.search(text, pos, stop)) is not None and t.spend(f.start()):
            start = f.start()
            pos = end = _WORD.match(text, start).end()
            kind, masked = _program_flag(text[start:end], flags)
            if masked is None and kind is not None:  # the value is the next word
                start = _SPACES.match(text, end).end()
                if start == t.n:
                    return kind
                end = _WORD.match(text, start).end()
                masked, pos = _hide(text[start:end], kind), start  # looked into, as in _names
            if masked is not None and MASK in masked:  # "-p***", "admin:***": MASK ends it
                t.hide(start + masked.index(MASK), end)
    return None
