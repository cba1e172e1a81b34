"""Capped exponential backoff with jitter: one formula for reconnecting ports and retrying the CRM."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, initial: float, cap: float, jitter: float = 0.2) -> float:
    """Seconds before retry number ``attempt`` (1-based): initial * 2^(n-1), capped, +-``jitter`` (a fraction)."""
    base = min(cap, initial * 2 ** min(attempt - 1, 40))
    return min(cap, base * random.uniform(1 - jitter, 1 + jitter))
