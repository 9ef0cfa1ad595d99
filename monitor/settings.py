"""Configuration: environment variables SERVER_MONITOR_* and an optional TOML file.

    SERVER_MONITOR_HOST=0.0.0.0 SERVER_MONITOR_TICK=2 python main.py
    SERVER_MONITOR_CONFIG=/etc/server-monitor/config.toml python main.py

Precedence, highest first: arguments given to ``Settings(...)`` (main.py's --host/--port),
environment variables, the TOML file named by SERVER_MONITOR_CONFIG, the defaults below.
Structured settings (log sources, thresholds) are easiest in the TOML file; in the environment
they are JSON, e.g. SERVER_MONITOR_LOG_SOURCES='[...]'.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .logs.sources import LogSource
from .thresholds import Thresholds
from .notify.settings import NotifySettings

CONFIG_ENV = "SERVER_MONITOR_CONFIG"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVER_MONITOR_", extra="ignore")

    host: str = Field("127.0.0.1", description="address to listen on; loopback by default")
    port: int = Field(8000, ge=1, le=65535)
    tick: float = Field(1.0, ge=0.1, le=60, description="seconds between two samples")
    history_seconds: int = Field(
        900, ge=60, le=86400, description="how much history the sparklines and /api/history keep"
    )
    # History database (monitor/history/): per-minute rollups in data_dir/history.sqlite.
    history_keep_days: int = Field(30, ge=1, le=3660, description="days of per-minute history kept")
    history_series_max: int = Field(
        500, ge=10, le=100_000, description="most series the history database stores; new ones "
                                            "beyond it are not stored (said in the log and /api/history)")
    show_loopback: bool = Field(False, description="list the loopback interface on the network card")
    collector_timeout: float = Field(
        5.0, gt=0, description="a collection slower than this is reported unavailable (hung mount, sensor)"
    )
    # Disks (monitor/mounts.py): tmpfs mounts listed and judged like disks, besides /dev/shm, /run, /tmp.
    tmpfs_mounts: list[str] = Field(
        default_factory=list, description="tmpfs mount points judged for space and inodes, "
                                          "besides /dev/shm, /run and /tmp")
    # Processes (monitor/collectors/processes.py, views/processes.py).
    process_interval: float = Field(
        2.0, ge=0.5, le=60, description="seconds between two reads of the process table (the costliest area)"
    )
    mask_secrets: bool = Field(
        True, description="mask credential-looking command-line arguments (--password=, token=, "
                          "user:pass@) in the process table, detail and API"
    )

    # Access control (views/auth.py). Each secret is given directly or, better, as a file to read
    # (a file is not inherited by child processes nor shown by `systemctl show`). Secrets are
    # SecretStr so that no repr, log line or error message ever prints them.
    token: SecretStr | None = Field(
        None, description="full-access secret: `Authorization: Bearer <token>`, or the HTTP Basic password"
    )
    token_file: Path | None = Field(None, description="file holding the full-access secret")
    display_token: SecretStr | None = Field(
        None, description="read-only secret that opens only the overview pages, /wall, /stream and overview JSON"
    )
    display_token_file: Path | None = Field(None, description="file holding the display secret")
    metrics_token: SecretStr | None = Field(
        None, description="scrape-only secret: opens /metrics and nothing else (for Prometheus)")
    metrics_token_file: Path | None = Field(None, description="file holding the scrape-only secret")
    # What a request from this host (loopback) without a credential gets. "display": the overview
    # only, never command lines, open files or log text, which other local users could not read
    # themselves; "full": everything, for a single-user machine; "none": nothing but /login.
    anonymous: Literal["display", "full", "none"] = Field(
        "display", description="what a loopback request without a credential may see")
    # DNS rebinding: a page on evil.example whose name resolves to 127.0.0.1 must not be served.
    # Loopback names and addresses are always allowed; add the names the console is reached by
    # (the reverse proxy's server_name, the address it listens on). "*" turns the check off.
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Host header values served besides loopback ones")
    login_attempts: int = Field(
        10, ge=1, le=1000, description="failed logins per client address per minute before 429")
    # CSP frame-ancestors: who may put the console in a frame. "'none'" forbids it; a dashboard
    # embedded on purpose names its origin, e.g. "https://grafana.example.com". Only characters
    # of a CSP source list, so a setting can never inject another header or directive.
    frame_ancestors: str = Field("'none'", pattern=r"^[A-Za-z0-9*.:/'_\-\[\] ]+$")
    # Direct HTTPS (uvicorn's certificate options); main.py --ssl-certfile/--ssl-keyfile win.
    ssl_certfile: Path | None = Field(None, description="PEM certificate (chain) for direct HTTPS")
    ssl_keyfile: Path | None = Field(None, description="PEM private key for direct HTTPS")

    # Judgment (monitor/health.py, monitor/thresholds.py, views/health.py). Thresholds are easiest
    # in the TOML file: [thresholds.cpu_percent] warning = 85 (see README, "Thresholds").
    thresholds: Thresholds = Field(default_factory=Thresholds)
    data_dir: Path = Field(
        default_factory=lambda: _state_dir(),
        description="where the generated token (token) and events (events.jsonl) are kept")
    events_keep: int = Field(500, ge=10, le=100_000, description="events kept in the file and the API")
    health_status_warning: int = Field(200, ge=200, le=599, description="/api/health's HTTP status when warning")
    health_status_critical: int = Field(503, ge=200, le=599, description="/api/health's HTTP status when critical")
    health_status_unknown: int = Field(
        503, ge=200, le=599, description="/api/health's HTTP status when the state cannot be judged")
    # Notifications (monitor/notify/): Apprise channels, reminders, quiet hours, a heartbeat. In
    # TOML [[notify.channels]] url = "mailtos://..." (see monitor/notify/settings.py); none by default.
    notify: NotifySettings = Field(default_factory=NotifySettings)

    # Logs (monitor/logs/, views/logs.py). In TOML: [[log_sources]] name = "app", kind = "file",
    # path = "/var/log/app/*.log"; in the environment JSON, SERVER_MONITOR_LOG_SOURCES='[...]'.
    # None or [] means the host's defaults (Rocky: messages, secure, cron; Debian: syslog, auth;
    # and the journal). Requests name a source; only these paths are ever opened.
    log_sources: list[LogSource] | None = Field(None, description="named log sources (file or journal)")
    log_lines: int = Field(200, ge=1, le=5000, description="lines shown by default")
    log_lines_max: int = Field(5000, ge=1, le=100_000, description="most lines a request may ask for")
    log_follow_interval: float = Field(0.25, ge=0.05, le=5, description="seconds between two reads of a followed file")

    # Services (monitor/services_bus.py, monitor/collectors/services.py): systemd over D-Bus.
    services_bus: str = Field("unix:path=/run/dbus/system_bus_socket", max_length=500,
                              description="D-Bus address where systemd (org.freedesktop.systemd1) is")
    services_ignore: list[str] = Field(
        default_factory=list, description="unit name patterns (fnmatch: 'user@*.service') listed "
                                          "but never judged")

    # Actions (monitor/actions.py, views/actions.py): the console changes the host only for the
    # kinds listed here (none by default), only for a presented full-access credential, and
    # audits every attempt. In the environment JSON: SERVER_MONITOR_ACTIONS='["signal", "renice"]'.
    # Under the shipped unit they need deploy/actions.conf (CAP_KILL, CAP_SYS_NICE, setpriority).
    actions: list[Literal["signal", "renice", "unit"]] = Field(
        default_factory=list, description="enabled action kinds: signal (TERM, INT, HUP, KILL, "
                                          "STOP, CONT), renice (0..19), unit (restart, stop, start, reload)")
    renice_lower: bool = Field(
        False, description="allow renice to lower a process's nice value (raise its priority); "
                           "needs CAP_SYS_NICE")
    action_units: list[str] = Field(
        default_factory=list, description="the systemd units unit actions may touch (none by default)")

    # Fleet (views/fleet.py, monitor/fleet_poll.py): /fleet lists every console this Prometheus
    # scrapes. None: no fleet view, no polling, httpx never imported.
    prometheus_url: str | None = Field(
        None, description="the Prometheus that scrapes your consoles (http:// or https://), for /fleet")
    fleet_interval: float = Field(
        15.0, ge=1, le=300, description="seconds between two polls of Prometheus while /fleet is open")

    @field_validator("prometheus_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        from urllib.parse import urlsplit
        if url is None or url.strip() == "":
            return None
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an http:// or https:// URL of Prometheus without a query, "
                             "e.g. http://127.0.0.1:9090")
        return url.strip().rstrip("/")

    @property
    def history_length(self) -> int:
        """Points kept per series in the ring buffer."""
        return max(2, math.ceil(self.history_seconds / self.tick))

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        sources = [init_settings, env_settings]
        config = os.environ.get(CONFIG_ENV)
        if config:
            path = Path(config)
            if not path.is_file():
                raise ValueError(f"{CONFIG_ENV}={config}: no such file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def _state_dir() -> Path:
    """systemd's StateDirectory= (it sets $STATE_DIRECTORY, e.g. /var/lib/server-monitor), else
    the XDG state directory of the user running the console."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state)
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local/state") / "server-monitor"


@lru_cache
def get_settings() -> Settings:
    return Settings()
