"""Fixed-window counters in Django's cache: how many probe runs (verified guesses) a user and a target domain may
start. Shared between processes when CACHE_URL names Redis; per process with the in-memory default."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
            "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"10/hour" -> (10, 3600). Raises ValueError for anything else."""
    count, _, period = rate.partition("/")
    seconds = _PERIODS.get(period.strip().lower())
    if seconds is None:
        raise ValueError(f"a rate reads like 10/hour, not {rate!r}")
    return int(count), seconds


def take(scope: str, key: str, rate: str) -> bool:
    """Count one use of `key` in `scope`; False when the rate is used up for the current window."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"diagnostics:discovery:rate:{scope}:{digest}:{window}"
    cache.add(cache_key, 0, period + 5)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, period + 5)
        used = 1
    return used <= limit
