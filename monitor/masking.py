"""Mask credentials in command lines before anything shows them (table, detail, API, card).

    >>> mask_argv(["psql", "postgres://app:s3cret@db/app", "--password=hunter2", "token=abc"])
    ['psql', 'postgres://app:***@db/app', '--password=***', 'token=***']
    >>> mask_argv(["mysqldump", "--password", "hunter2", "-u", "root"])
    ['mysqldump', '--password', '***', '-u', 'root']
    >>> mask_argv(["curl", "-H", "Authorization: Bearer eyJhbGc"])
    ['curl', '-H', 'Authorization: Bearer ***']
    >>> mask_text('--env {"DB_PASSWORD": "pw", "HOME": "/root"}')
    '--env {"DB_PASSWORD": "***", "HOME": "/root"}'

Masking is a heuristic: it hides what *looks* like a credential (a key naming a password, secret,
token or API key; the password part of a URL; a bearer token). It is on by default and can be
turned off with the setting ``mask_secrets`` (SERVER_MONITOR_MASK_SECRETS=false). The process
table's filter matches the masked text, so a secret cannot be probed by typing guesses into it.
"""
from __future__ import annotations

import re

MASK = "***"

# Words that make a key, flag or variable name a credential: PGPASSWORD, --db-pass, api_key,
# client_secret, access-token, X-Auth-Token, private_key, ...
# The lookahead keeps "passthrough=", "tokenizer=" and "secretsdir=" visible.
_SECRET_WORD = r"(?:(?<!by)pass(?:word|wd|phrase)?|pwd|secrets?|tokens?|api[-_]?key|access[-_]?key|" \
               r"private[-_]?key|credentials?)(?![a-z])"

# key=value anywhere in an argument (also inside query strings and comma lists): the value runs
# to the next separator. The key must *contain* a secret word: "password=", "DB_PASSWORD=",
# "--auth-token=", "?access_token=".
_KEY_VALUE = re.compile(
    r"(?P<key>[\w.-]*" + _SECRET_WORD + r"[\w.-]*)(?P<sep>=)(?P<value>[^\s&,;]+)",
    re.IGNORECASE,
)
# "key": "value" inside JSON or YAML-ish arguments (--env '{"API_TOKEN": "abc"}').
_JSON_PAIR = re.compile(
    r"""(?P<key>["']?[\w.-]*""" + _SECRET_WORD
    + r"""[\w.-]*["']?\s*:\s*)(?P<q>["'])(?P<value>[^"']*)(?P=q)""",
    re.IGNORECASE,
)
# scheme://user:password@host -> scheme://user:***@host (postgres, mysql, redis, amqp, http ...)
_URL_USERINFO = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]*):(?P<value>[^/\s@]+)@",
                           re.IGNORECASE)
# "Authorization: Bearer xyz", "Bearer xyz", "Basic dXNlcjpwYXNz"
_BEARER = re.compile(r"(?P<head>\b(?:bearer|basic)\s+)(?P<value>[A-Za-z0-9._~+/=-]{4,})",
                     re.IGNORECASE)
# A flag whose *next* argument is the secret: --password hunter2, -token abc, --api-key k
_SECRET_FLAG = re.compile(r"^--?[\w-]*" + _SECRET_WORD + r"[\w-]*$", re.IGNORECASE)


def mask_text(text: str) -> str:
    """One argument (or any string) with credential-looking values replaced by ``***``."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    text = _JSON_PAIR.sub(lambda m: f"{m['key']}{m['q']}{MASK}{m['q']}", text)
    text = _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m['head']}{MASK}", text)


def mask_argv(argv: list[str]) -> list[str]:
    """A command line with credentials masked, argument by argument."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and arg and not arg.startswith("-"):
            out.append(MASK)
            hide_next = False
            continue
        hide_next = bool(_SECRET_FLAG.match(arg))
        out.append(mask_text(arg))
    return out
