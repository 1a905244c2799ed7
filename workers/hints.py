"""Redis bookkeeping of a round's failures (claims and leases of work live in :mod:`workers.leases`)."""

from __future__ import annotations

import redis

PREFIX = "selfinstruct:fleet:"


class Hints:
    """Per-round counters in one Redis; every method may raise ``redis.RedisError``."""

    def __init__(self, client: redis.Redis, ttl_s: float) -> None:
        self.redis = client
        self.ttl_ms = max(1000, int(ttl_s * 1000))

    def count_failure(self, round_id: int) -> int:
        """Count one stage task of the round that failed for good; returns the round's count so far
        (forgotten ``ttl_s`` after the last one)."""
        key = f"{PREFIX}round:{round_id}:failures"
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.pexpire(key, self.ttl_ms)
        return int(pipe.execute()[0])
