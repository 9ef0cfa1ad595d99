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

The rules (names, forms, programs) are in monitor/mask_rules.py, the scanners in
monitor/mask_scan.py; this module is the entry points and the budget.
"""
from __future__ import annotations

from monitor.mask_rules import _ANY_WORDS, _ANYTHING, MASK, PROGRAM_FLAGS, _hide, _program_flag
from monitor.mask_scan import _bearers, _names, _program_flags, _Text, _urls

__all__ = ["MASK", "PROGRAM_FLAGS", "mask_argv", "mask_text"]

# Closer looks (a secret-looking word, a URL, a program name, ...) per command line; past them
# the rest of the line is masked. The command lines on a busy desktop need at most 4; about 10 µs
# each, so a constructed line costs at most ~10 ms here.
_BUDGET = 1000


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
