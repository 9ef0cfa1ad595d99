"""The console's own log: one line per event, and no secret in any line.

    2026-05-04 10:12:01,337 INFO server_monitor: access control: full token from SERVER_MONITOR_TOKEN_FILE=/etc/server-monitor/token
    2026-05-04 10:12:01,412 INFO uvicorn.error: Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
    2026-05-04 10:12:03,020 INFO uvicorn.access: 10.0.0.7:51234 - "GET /api/cpu HTTP/1.1" 401
    2026-05-04 10:12:09,877 WARNING server_monitor.sampler: collector disks failed: OSError: ... \\n Traceback ...

One line per event: newlines inside a message or a traceback are written as a literal ``\\n``, so
a process or path name holding a newline cannot forge a log line, and journald/grep see one event
per line. Request lines never carry credentials: Authorization headers are not logged by uvicorn
at all, tokens are not accepted in query strings, and query parameters that look like secrets
(``?token=``, ``?password=``) are masked anyway in case a client tries.
"""
from __future__ import annotations

import logging
import re

SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:access_token|token|password|passwd|pass|pwd|secret|api_key|apikey|key|auth)=)[^&;#]*")


class OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


class MaskQuerySecrets(logging.Filter):
    """uvicorn.access records carry (client, method, path?query, http_version, status) as args."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask_query(args[2]), *args[3:])
        return True


def mask_query(path: str) -> str:
    return SECRET_PARAM.sub(r"\1***", path)


LOGGING: dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": OneLine, "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"mask_query_secrets": {"()": MaskQuerySecrets}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line",
                            "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False,
                           "filters": ["mask_query_secrets"]},
        "server_monitor": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
