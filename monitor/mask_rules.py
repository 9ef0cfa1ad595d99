"""The rules of monitor/masking.py: which names are credentials, the forms a secret takes and
where its value ends, and the programs whose short flags carry a password. Patterns only (and the
two small helpers that apply a program's flags); the scanning is monitor/mask_scan.py's.

Every pattern here is anchored or possessive, so nothing can backtrack (monitor/masking.py says
why that matters).
"""
from __future__ import annotations

import re

MASK = "***"

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
