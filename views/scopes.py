"""Which paths each scope may reach (views/auth.py decides who holds which scope).

Deny by default: a route added later is full-scope only until it is listed here (an area's
/api/<area> is, when its entry in monitor/areas.py says ``display=True``).

>>> may("display", "/dashboard"), may("display", "/api/processes"), may("metrics", "/metrics")
(True, False, True)
>>> acts("/api/processes/812/signal"), acts("/api/processes/812")
(True, False)
"""
from __future__ import annotations

import re

from monitor.areas import display_paths

from .credentials import DISPLAY, FULL, METRICS

# Open to anyone: liveness, the login form itself, and vendored static files.
OPEN_EXACT = {"/healthz", "/login", "/logout", "/favicon.ico"}
OPEN_PREFIXES = ("/static/",)

# What the display scope may read: exact paths, and prefixes that end in "/" (whole subtrees).
# The areas' /api/<area> entries come from the registry (monitor/areas.py, ``display``).
DISPLAY_EXACT = {"/", "/dashboard", "/wall", "/stream", "/api/health", "/api/history",
                 "/history"} | display_paths()
DISPLAY_PREFIXES = ("/api/history/",)
# Inside those prefixes, still full scope only: a moment carries command lines and log lines.
FULL_PREFIXES = ("/api/history/at/",)
METRICS_EXACT = {"/metrics"}
# Paths that change the host (views/actions.py): full scope, and only for a credential presented
# with the request (token or login cookie). Anonymous loopback never acts, even with
# ``anonymous = "full"``: any local user (or a page a local browser shows) could otherwise.
ACT_PATTERN = re.compile(r"^(/api)?/processes/\d+/(signal|renice)$|^/fragments/processes/\d+/actions$"
                         r"|^/api/services/[^/]+/(restart|stop|start|reload)$|^/fragments/services/[^/]+/actions$"
                         r"|^/services/[^/]+/(restart|stop|start|reload)$")
# Full scope only, by not being listed above: /fleet and /fleet/stream (views/fleet.py) show other
# hosts' problems, which the display scope of this host must not reach.


def display_may(path: str) -> bool:
    return (path in DISPLAY_EXACT or path.startswith(DISPLAY_PREFIXES)) and not path.startswith(FULL_PREFIXES)


def acts(path: str) -> bool:
    """Whether ``path`` changes the host (needs a presented full-scope credential)."""
    return ACT_PATTERN.match(path) is not None


def may(role: str, path: str) -> bool:
    if role == FULL:
        return True
    if role == METRICS:
        return path in METRICS_EXACT
    return role == DISPLAY and display_may(path)
