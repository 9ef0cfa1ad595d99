"""Mask credentials in command lines before anything shows them (table, detail, API, card).

    >>> mask_argv(["psql", "postgres://app:s3cret@db/app", "--password=hunter2", "token=abc"])
    ['psql', 'postgres://app:***@db/app', '--password=***', 'token=***']
    >>> mask_argv(["mysqldump", "--password", "hunter2", "-u", "root"])
    ['mysqldump', '--password', '***', '-u', 'root']
    >>> mask_argv(["curl", "-u", "admin:hunter2", "-H", "X-Api-Key: abc", "-H", "Authorization: Bearer eyJhbGc"])
    ['curl', '-u', 'admin:***', '-H', 'X-Api-Key: ***', '-H', 'Authorization: Bearer ***']
    >>> mask_argv(["mysql", "-phunter2", "-P", "3306", "app"])
    ['mysql', '-p***', '-P', '3306', 'app']
    >>> mask_text('--env {"DB_PASSWORD": "pw", "HOME": "/root"}')
    '--env {"DB_PASSWORD": "***", "HOME": "/root"}'

Masking is a heuristic: it hides what *looks* like a credential (a key naming a password, secret,
token or API key, in key=value or "Key: value" form; the password part of a URL; an
Authorization header; the password flags of a few programs in ``PROGRAM_FLAGS``). It is on by
default and can be turned off with the setting ``mask_secrets`` (SERVER_MONITOR_MASK_SECRETS=false). The process
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
# "Name: value" (an HTTP header, YAML): "X-Api-Key: abc", "PRIVATE-TOKEN: x", "password: pw".
# The name starts the argument or follows a space, so "/run/secrets:/run/secrets:ro" stays.
_HEADER = re.compile(
    r"(?P<key>(?:^|(?<=[\s{,]))[\w.-]*" + _SECRET_WORD + r"[\w.-]*\s*:\s*)(?P<value>[^\s\"',;}]+)",
    re.IGNORECASE,
)
# "Authorization: token x", "Authorization: Bearer x", "Proxy-Authorization: x": the scheme stays.
_AUTHORIZATION = re.compile(
    r"(?P<head>\b(?:proxy-)?authorization\s*:\s*(?:[a-z][\w-]*\s+)?)(?P<value>[^\s\"']+)",
    re.IGNORECASE,
)
# A flag whose *next* argument is the secret: --password hunter2, -token abc, --api-key k
_SECRET_FLAG = re.compile(r"^--?[\w-]*" + _SECRET_WORD + r"[\w-]*$", re.IGNORECASE)

# Programs whose short flags carry a password, which no general rule can tell from an ordinary
# "-p 8080": program -> {flag: how its value is given}.
#   "next"      the next argument, or attached (sshpass -p pw, sshpass -ppw)
#   "attached"  only attached: a lone mysql -p prompts, and the next argument is the database
#   "userinfo"  user:password, only the password hidden (curl -u admin:pw)
_MYSQL = {"-p": "attached"}
PROGRAM_FLAGS: dict[str, dict[str, str]] = {
    "mysql": _MYSQL, "mysqldump": _MYSQL, "mysqladmin": _MYSQL, "mariadb": _MYSQL,
    "mariadb-dump": _MYSQL, "sshpass": {"-p": "next"}, "redis-cli": {"-a": "next"},
    "curl": {"-u": "userinfo", "--user": "userinfo"},
}


def mask_text(text: str) -> str:
    """One argument (or any string) with credential-looking values replaced by ``***``."""
    if not text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", text)
    text = _JSON_PAIR.sub(lambda m: f"{m['key']}{m['q']}{MASK}{m['q']}", text)
    text = _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)
    text = _HEADER.sub(lambda m: f"{m['key']}{MASK}", text)
    text = _AUTHORIZATION.sub(lambda m: f"{m['head']}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m['head']}{MASK}", text)


def _hide(value: str, kind: str) -> str:
    if kind == "userinfo":  # "admin:pw" -> "admin:***"; a lone "admin" makes curl prompt
        user, colon, _ = value.partition(":")
        return f"{user}:{MASK}" if colon else value
    return MASK


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
    flags = PROGRAM_FLAGS.get(argv[0].rsplit("/", 1)[-1], {}) if argv else {}
    out: list[str] = []
    hide_next: str | None = None  # how to hide the next argument ("next", "userinfo")
    for i, arg in enumerate(argv):
        if hide_next and arg and not arg.startswith("-"):
            out.append(_hide(arg, hide_next))
            hide_next = None
            continue
        hide_next = "next" if _SECRET_FLAG.match(arg) else None
        if i and flags:
            program_next, masked = _program_flag(arg, flags)
            hide_next = hide_next or program_next
            if masked is not None:
                out.append(masked)
                continue
        out.append(mask_text(arg))
    return out
