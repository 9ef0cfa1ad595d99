"""Memoise values derived from an immutable object, so every viewer shares one copy."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Memoised:
    """Mixin for a frozen dataclass that declares ``_memo: dict = field(default_factory=dict)``.

    Safe without a lock: views run on one event loop and ``make`` does not await.
    """

    _memo: dict[str, Any]

    def memo(self, key: str, make: Callable[[], T]) -> T:
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = make()
            return value
