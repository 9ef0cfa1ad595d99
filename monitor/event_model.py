"""What one event is (monitor/events.py keeps them): an episode of a check away from ok, or a
point event (an action's audit record, a notification channel's note). One JSON line each in
data_dir/events.jsonl; ``/api/events`` answers them as they are.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .health import ProcessRef
from .thresholds import RENAMED


class Audit(BaseModel):
    """One attempt to act on the host (monitor/actions.py, views/actions.py), refused ones too."""
    scope: str = Field(description="the requester's scope (full, display, anonymous)")
    via: str = Field(description="how the credential came: bearer, basic, cookie, or none")
    peer: str = Field(description="the client address the request came from")
    action: str = Field(description='what was asked, e.g. "signal TERM", "renice 10", "unit restart"')
    pid: int | None = None
    started: float | None = Field(None, description="the start time the request named")
    name: str = Field("", description="the process's name, or the unit")
    unit: str = ""
    result: str = Field(description="gone, running, stopped, denied, refused, not found, pid "
                                    "reused, done, failed, ...")


class Event(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)  # a NaN peak would break every page showing it

    id: str
    check: str
    subject: str = ""
    area: str
    state: str = Field(description="the worst state of the episode")
    start: float
    end: float | None = Field(None, description="None while the event is still open")
    peak: float
    peak_at: float
    unit: str = ""
    states: list[tuple[float, str]] = Field(default_factory=list, description="(when, new state)")
    reason: str = Field(description="the reason at the peak")
    top: list[ProcessRef] = Field(default_factory=list, description="top processes at the peak")
    interrupted: bool = Field(False, description="the console stopped while the event was open")
    last_seen: float | None = Field(None, description="for an event open at shutdown: the last "
                                                      "moment the console saw it still open")
    gaps: list[tuple[float, float]] = Field(
        default_factory=list, description="(stopped, started again): the console was not watching")
    note: str = Field("", description="e.g. \"ended while the console was stopped\"")
    audit: Audit | None = Field(None, description="set on an action's audit record (check "
                                "action_<kind>, area actions): who did what to which target")

    @field_validator("check")
    @classmethod
    def _current_name(cls, check: str) -> str:
        """A file written before the checks were renamed (issue 11) reads with the new names."""
        return RENAMED.get(check, check)
