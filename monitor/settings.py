"""Configuration: environment variables SERVER_MONITOR_* (pydantic-settings).

    SERVER_MONITOR_HOST=0.0.0.0 SERVER_MONITOR_TICK=2 python main.py

Command-line flags of main.py override the environment for host and port.
"""
from __future__ import annotations

import math
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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


@lru_cache
def get_settings() -> Settings:
    return Settings()
