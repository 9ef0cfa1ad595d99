"""Mask credentials in command lines before anything shows them (table, detail, API, card).

    >>> mask_argv(["psql", "postgres://app:s3cret@db/app", "--password=hunter2", "token=abc"])
    ['psql', 'postgres://app:***@db/app', '--password=***', 'token=***']
    >>> mask_argv(["mysqldump", "--password", "hunter2", "-u", "root"])
    ['mysqldump', '--password', '***', '-u', 'root']
    >>> mask_argv(["app", "--password", "-starts-with-a-dash", "--db-pass=semi;colon", "--auth=x&y"])
    ['app', '--password', '***', '--db-pass=***', '--auth=***']
    >>> mask_argv(["curl", "-u", "admin:hunter2", "-H", "X-Api-Key: abc", "-H", "Authorization: Bearer eyJhbGc"])
    ['curl', '-u', 'admin:***', '-H', 'X-Api-Key: ***', '-H', 'Authorization: Bearer ***']
    >>> mask_argv(["sudo", "mysql", "-phunter2", "-P", "3306", "app"])
    ['sudo', 'mysql', '-p***', '-P', '3306', 'app']
    >>> mask_argv(["chromium", "--password-store=basic", "--token-file", "/run/t"])
    ['chromium', '--password-store=basic', '--token-file', '/run/t']
    >>> mask_text('--env {"DB_PASSWORD": "pw", "HOME": "/root"}')
    '--env {"DB_PASSWORD": "***", "HOME": "/root"}'
    >>> mask_text("https://example.com/cb?access_token=abc&page=2")
    'https://example.com/cb?access_token=***&page=2'
    >>> mask_text("postgres: app --password 'a b' GITHUB_TOKEN=x y")  # a rewritten argv: one string
    'postgres: app --password *** GITHUB_TOKEN=***'

Masking is a heuristic: it hides what *looks* like a credential (a name containing password,
secret, token, auth, key, ... in ``name=value``, ``Name: value`` or ``"name": "value"`` form or as a
flag followed by its value; the password part of a URL; a Bearer/Basic credential; the password
flags of a few programs in ``PROGRAM_FLAGS``). Where a value ends is decided so that a secret is
never shown in part: ``name=value`` runs to the end of the argument, so ``--password=ab&cd``,
``--db-pass=semi;colon`` and ``--password="quoted value"`` are hidden whole. The one exception is
a parameter of a URL's query string (``https://host/p?token=abc&page=2``): there ``&`` ends the
value, because a URL or form encoding writes a literal ``&`` inside a value as ``%26``, so the
``&`` is syntax and hiding the later parameters would hide nothing more. A flag (``--token``)
hides the whole next argument, whatever it looks like (``--password -Starts-with-a-dash``); a
boolean-looking flag (``--no-password``, ``--ask-pass``) does not. Names whose secret word is
followed by a word naming something else (``--password-store=basic``, ``--token-file``,
``--password-stdin``, ``AWS_ACCESS_KEY_ID``) are left alone.

A process that rewrites its argv can hand over a whole command line as one string, so
``mask_text`` also masks flags, program flags and ``name=value`` inside a string with spaces
(there the value of a flag is the next word, quotes respected; a space in it cannot be told
from the end of the argument). It is on by default and can be turned off with the setting
``mask_secrets`` (SERVER_MONITOR_MASK_SECRETS=false). The process table's filter matches the
masked text, so a secret cannot be probed by typing guesses into it.

Every step is linear in the input, and fast where nothing looks secret: a 128 KiB argument or
a 2 MiB command line costs milliseconds (bench/bench_masking.py). The words that can make
something a secret are found with ``str.find`` on a lower-cased copy (C speed, one pass per
word); only there does Python look closer, and every pattern used for that is anchored or
possessive, so nothing can backtrack. (The earlier ``[\\w.-]*password[\\w.-]*`` tried every start
inside every run: seconds of CPU, with the GIL held, for one 8 KiB argument.) The closer looks
share a budget per command line (``_BUDGET``); a line that exhausts it, which only a
constructed one does, is masked from there to its end: hiding too much is better than stalling
the console or showing a secret.
"""
from __future__ import annotations

import re

MASK = "***"
# Closer looks (a secret-looking word, a URL, a program name, ...) per command line; past them
# the rest of the line is masked. The command lines on a busy desktop need at most 4; about 10 µs
# each, so a constructed line costs at most ~10 ms here.
_BUDGET = 1000

# -- which names are secrets -----------------------------------------------------------------
# The words that can make a name a credential, as found in the lower-cased text: PGPASSWORD,
# --db-pass, api_key, client_secret, access-token, X-Auth-Token, --auth, --key, dbPassword,
# AWS_SECRET_ACCESS_KEY, credentials, --pwd. _SECRET_AT then says whether an occurrence is one.
_HIT_WORDS = ("pass", "pw", "secret", "token", "auth", "key", "cred")
# A secret word ends a word of the name: not followed by a lowercase letter (by no letter when it
# is in upper case), so "passthrough", "tokenizer", "secretsdir" and "author" stay visible, while
# camelCase counts ("dbPassword", "apiKey"). "key", "pw" and "creds" must also start a word
# ("monkey", "hotkey" stay) unless they follow api, access, secret, auth, priv(ate): "apikey",
# "SECRETKEY". "bypass" is not one.
_START = r"(?:(?<![a-zA-Z])|(?<=[a-z])(?=[A-Z]))"
_END = r"(?:(?<=[a-z])(?![a-z])|(?<=[A-Z])(?![a-zA-Z]))"
_SECRET_AT = re.compile(
    r"(?:(?i:(?<!by)pass(?:word|wd|phrase)?|pwd|secrets?|tokens?|auth(?:orization)?|credentials?)"
    r"|(?:" + _START + r"|(?i:(?<=api)|(?<=access)|(?<=secret)|(?<=auth)|(?<=priv)|(?<=private)))"
    r"(?i:key)"
    r"|" + _START + r"(?i:pw|creds?))" + _END)
# The last secret word of a name followed by one of these names something else: a file, a store,
# an id (--password-store=basic, --token-file, --password-stdin, AWS_ACCESS_KEY_ID).
_NOT_A_SECRET = re.compile(r"[-_.]?(?i:store|files?|paths?|dirs?|fd|stdin|url|uri|host|port|id|"
                           r"name|user|type|mode|method|prompt|length)(?![a-z])")
# Flags that say "ask for a password" or "do not use one" rather than carrying one.
_BOOLEAN_FLAG = re.compile(r"--?(?i:no|ask)-")

# -- the forms a secret takes, and where its value ends -----------------------------------------
# At the start of a run of name characters, one of:
#   flag   "--password" alone in its word: the next word (or argument) is the value;
#   key=   "token=abc";
#   key:   "X-Api-Key: abc", '"DB_PASSWORD": "pw"'.
_FORM = re.compile(r"(?P<flag>-[\w.-]*+)(?=[\"']?(?:\s|\Z))|(?P<key>[\w.-]++)(?P<sep>=|[\"']?\s*+:)")
_NAME_CHARS = re.compile(r"[\w.-]*+")
_SPACES = re.compile(r"\s*+")
_NON_SPACE = re.compile(r"\S*+")
# One shell-ish word: unquoted characters, 'single' or "double" quoted parts (an unclosed quote
# runs to the end), backslash escapes. Each part starts with a different character and all are
# possessive, so it cannot backtrack.
_WORD = re.compile(r"""(?:'[^']*+'?|"[^"\\]*+(?:\\(?s:.)?[^"\\]*+)*+"?|\\(?s:.)?|[^\s'"\\]++)*+""")
_DQ_BODY = re.compile(r"""[^"\\]*+(?:\\(?s:.)?[^"\\]*+)*+""")  # a JSON string's body
_SQ_BODY = re.compile(r"[^']*+")
_QUERY_VALUE = re.compile(r"[^&#\s]*+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*+=*+")
_SCHEME = re.compile(r"[A-Za-z][\w-]*+[ \t]++(?=\S)")  # "Bearer " in "Authorization: Bearer x"

# -- programs whose short flags carry a password ------------------------------------------------
# No general rule can tell these from an ordinary "-p 8080": program -> {flag: how its value is
# given}. The flags apply after the program's name, so "sudo mysql -ppw" is masked too.
#   "next"      the next argument, or attached (sshpass -p pw, sshpass -ppw)
#   "attached"  only attached: a lone mysql -p prompts, and the next argument is the database
#   "userinfo"  user:password, only the password hidden (curl -u admin:pw)
_MYSQL = {"-p": "attached"}
PROGRAM_FLAGS: dict[str, dict[str, str]] = {
    "mysql": _MYSQL, "mysqldump": _MYSQL, "mysqladmin": _MYSQL, "mariadb": _MYSQL,
    "mariadb-dump": _MYSQL, "sshpass": {"-p": "next"}, "redis-cli": {"-a": "next"},
    "curl": {"-u": "userinfo", "--user": "userinfo"},
}
# Inside one string ("sh -c 'mysql -ppw db'"): a word naming a program ("/usr/bin/mysql"), and
# each program's flags, which start a word (literal first, then the lookbehind: fast to search).
_PROGRAM_NAMES = ("mysql", "mariadb", "sshpass", "redis-cli", "curl")  # found with str.find
# Is anything in this (lower-cased) string worth a closer look? One call for a short string.
_ANY_WORDS = _HIT_WORDS + ("://", "bearer", "basic") + _PROGRAM_NAMES
_ANYTHING = re.compile("|".join(map(re.escape, _ANY_WORDS)))
_PROGRAM_AT = re.compile("(" + "|".join(sorted(map(re.escape, PROGRAM_FLAGS), key=len, reverse=True))
                         + r")(?!\S)")
_PROGRAM_FLAG_RE = {p: re.compile("|".join(
    re.escape(f) + r"(?<!\S" + re.escape(f) + ")" + (r"(?=[=\s]|\Z)" if f.startswith("--") else "")
    for f in sorted(flags, key=len, reverse=True))) for p, flags in PROGRAM_FLAGS.items()}


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


def _is_secret_name(t: _Text, start: int, end: int) -> bool:
    """Whether the name text[start:end] is a credential's: its last secret word is not followed
    by a word naming something else."""
    last = {w: t.low.rfind(w, start, end) for w in _HIT_WORDS}
    while (i := max(last.values())) >= 0:
        if (m := _SECRET_AT.match(t.text, i)) is not None:
            return not _NOT_A_SECRET.match(t.text, m.end())
        if not t.spend(i):
            return True
        word = max(last, key=last.__getitem__)
        last[word] = t.low.rfind(word, start, i + len(word) - 1)  # an earlier one
    return False


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


def _mask(text: str, budget: list[int]) -> tuple[str, str | None]:
    """Text masked, and how to hide the next argument if the text ends with a secret flag."""
    low = text.replace("\u0130", "I").lower()  # the one character lower() makes two
    if not (_ANYTHING.search(low) if len(text) < 4096 else any(w in low for w in _ANY_WORDS)):
        return text, None  # the common case: nothing here can be a secret (str.find: C speed)
    t = _Text(text, low, budget)
    queries = _urls(t)
    flag_pending = _names(t, queries)
    _bearers(t)
    program_pending = _program_flags(t)
    return t.masked(), ("next" if flag_pending else program_pending)


def mask_text(text: str) -> str:
    """One argument, a whole command line or any string, credential-looking values -> ``***``."""
    return _mask(text, [_BUDGET])[0]


def _hide(value: str, kind: str) -> str:
    if kind == "userinfo":  # "admin:pw" -> "admin:***"; a lone "admin" makes curl prompt
        user, colon, rest = value.partition(":")
        return f"{user}:{MASK}" if colon and rest else value
    return MASK if value else value


def _program_flag(arg: str, flags: dict[str, str]) -> tuple[str | None, str | None]:
    """(how to hide the next argument, this argument masked) for a program's secret flags."""
    for flag, kind in flags.items():
        if arg == flag:
            return (None if kind == "attached" else kind), None
        if flag.startswith("--") and arg.startswith(flag + "="):  # --user=admin:pw
            return None, f"{flag}={_hide(arg[len(flag) + 1:], kind)}"
        if not flag.startswith("--") and arg.startswith(flag) and len(arg) > len(flag):  # -ppw
            return None, flag + _hide(arg[len(flag):], kind)
    return None, None


def mask_argv(argv: list[str]) -> list[str]:
    """A command line with credentials masked, argument by argument."""
    budget = [_BUDGET]
    flags: dict[str, str] = {}  # the secret flags of the program named last
    out: list[str] = []
    hide_next: str | None = None  # how to hide the next argument ("next", "userinfo")
    for arg in argv:
        if budget[0] < 0:  # spent: a secret flag's value may follow, so show nothing more
            out.append(MASK if arg else arg)
            continue
        if hide_next:
            out.append(_hide(arg, hide_next))
            # "--password --token S", "--token mysql -pS": a hidden value still counts as a flag
            # or a program's name, so S is hidden too.
            flags = PROGRAM_FLAGS.get(arg.rsplit("/", 1)[-1], flags)
            hide_next = _mask(arg, budget)[1]
            continue
        if flags:
            hide_next, masked = _program_flag(arg, flags)
            if masked is not None or hide_next:
                out.append(masked if masked is not None else arg)
                # mysql reads "-password S" as -p "assword"; as a flag it would hide S: hide it
                hide_next = hide_next or _mask(arg, budget)[1]
                continue
        flags = PROGRAM_FLAGS.get(arg.rsplit("/", 1)[-1], flags)
        masked, hide_next = _mask(arg, budget)
        out.append(masked)
    return out
