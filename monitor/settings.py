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

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "SERVER_MONITOR_CONFIG"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVER_MONITOR_", extra="ignore")

    host: str = Field("127.0.0.1", description="address to listen on; loopback by default")
    port: int = Field(8000, ge=1, le=65535)
    tick: float = Field(1.0, ge=0.1, le=60, description="seconds between two samples")
    history_seconds: int = Field(
        900, ge=60, le=86400, description="how much history the sparklines and /api/history keep"
    )
    collector_timeout: float = Field(
        5.0, gt=0, description="a collection slower than this is reported unavailable (hung mount, sensor)"
    )

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
