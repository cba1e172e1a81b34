"""Fault injection: latency, injected 5xx, downtime, rejected secrets; changeable while running.

The random draws come from one ``random.Random(seed)``, so a seeded run fails the same requests.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(slots=True)
class FaultSettings:
    latency_ms: float = 0.0          # added before every Generic API answer
    error_rate: float = 0.0          # 0..1: share of Generic API requests answered 500
    reject_secret: bool = False      # every Generic API request fails authentication
    html_errors: bool = False        # 5xx bodies are HTML pages (a proxy or PHP fatal error) instead of JSON
    auth_failure_status: int = 401   # some installs answer the AUTH error with 200

    def check(self) -> None:
        if not 0 <= self.latency_ms <= 600_000:
            raise ValueError("latency_ms must be between 0 and 600000")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if not 100 <= self.auth_failure_status <= 599:
            raise ValueError("auth_failure_status must be an HTTP status (100-599)")


_KINDS: dict[str, type] = {"latency_ms": float, "error_rate": float, "reject_secret": bool,
                           "html_errors": bool, "auth_failure_status": int}
CONTROL_KEYS = frozenset({*_KINDS, "down_for", "seed", "reset"})


class FaultInjector:
    """The current fault settings plus the downtime clock; every method is thread-safe."""

    def __init__(self, settings: FaultSettings | None = None, seed: int | None = None) -> None:
        self._settings = settings or FaultSettings()
        self._settings.check()
        self._seed = seed
        self._rng = random.Random(seed)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def settings(self) -> FaultSettings:
        """A copy of the current settings."""
        with self._lock:
            return replace(self._settings)

    def snapshot(self) -> dict[str, Any]:
        """The settings as ``GET /_sim/faults`` shows them; ``down_for`` is the downtime left."""
        with self._lock:
            left = max(0.0, self._down_until - time.monotonic())
            return {**asdict(self._settings), "down_for": round(left, 3), "seed": self._seed}

    def update(self, changes: Mapping[str, Any]) -> float | None:
        """Apply a partial update (``POST /_sim/faults``); returns the downtime asked for, if any.

        ``reset: true`` first restores every default. Wrong keys or values raise ValueError and change
        nothing.
        """
        unknown = sorted(set(changes) - CONTROL_KEYS)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(CONTROL_KEYS))}")
        with self._lock:
            base = FaultSettings() if changes.get("reset") else self._settings
            values = asdict(base)
            for name, kind in _KINDS.items():
                if name in changes:
                    values[name] = _typed(name, changes[name], kind)
            new = FaultSettings(**values)
            new.check()
            down_for = None
            if changes.get("down_for") is not None:
                down_for = _typed("down_for", changes["down_for"], float)
                if not 0 <= down_for <= 86_400:
                    raise ValueError("down_for must be between 0 and 86400 seconds")
            seed = changes.get("seed")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise ValueError("seed must be an integer")
            self._settings = new
            if "seed" in changes:
                self._seed = seed
                self._rng = random.Random(seed)
            return down_for

    def mark_down(self, seconds: float) -> float:
        """Start (or extend or end, with 0) a downtime; returns its monotonic end."""
        with self._lock:
            self._down_until = time.monotonic() + seconds
            return self._down_until

    def is_down(self) -> bool:
        with self._lock:
            return time.monotonic() < self._down_until

    def down_until(self) -> float:
        with self._lock:
            return self._down_until

    def latency_seconds(self) -> float:
        with self._lock:
            return self._settings.latency_ms / 1000.0

    def draw_injected_error(self) -> bool:
        """True when this request is to be answered with an injected 500."""
        with self._lock:
            rate = self._settings.error_rate
            if rate <= 0.0:
                return False
            return rate >= 1.0 or self._rng.random() < rate


def _typed(name: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if kind is int and value != int(value):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return kind(value)


FAULT_OPTION_NAMES = tuple(f.name for f in fields(FaultSettings)) + ("down_for",)
