"""Redis bookkeeping of messages in flight, so that ticks re-send only what is missing.

Two kinds of record, both expiring after ``ttl_s`` (the broker's visibility timeout: a message
not done by then is presumed lost, and the database still says the work is pending):

* **claims** — "a message for (kind, id) is queued or running": ``SET NX PX``. Only the caller
  that wins the claim sends the message; the task releases the claim when it has run.
* **generate tickets** — a sorted set per round of the generate messages in flight, scored by
  expiry. :meth:`Hints.take_tickets` tops the set up to ``want`` in one Lua script, so concurrent
  callers together never put more than ``want`` generate requests in flight.

If Redis loses them (a restart without persistence), the next tick re-sends what the database
says is pending: duplicates are harmless (the steps are idempotent) and bounded by one per item.
"""

from __future__ import annotations

import redis

PREFIX = "selfinstruct:fleet:"

# KEYS: ticket set, ticket counter. ARGV: want, ttl seconds. Returns the new ticket ids.
_TICKETS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local have = redis.call('ZCARD', KEYS[1])
local want = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local out = {}
while have < want do
  local id = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now + ttl, id)
  have = have + 1
  out[#out + 1] = id
end
redis.call('EXPIRE', KEYS[1], math.ceil(ttl) + 60)
redis.call('EXPIRE', KEYS[2], math.ceil(ttl) + 86400)
return out
"""

# KEYS: ticket set. Returns how many unexpired tickets it holds.
_INFLIGHT = """
local t = redis.call('TIME')
return redis.call('ZCOUNT', KEYS[1], tonumber(t[1]) + tonumber(t[2]) / 1000000, '+inf')
"""


class Hints:
    """Claims and generate tickets in one Redis; every method may raise ``redis.RedisError``."""

    def __init__(self, client: redis.Redis, ttl_s: float) -> None:
        self.redis = client
        self.ttl_ms = max(1000, int(ttl_s * 1000))
        self._tickets = client.register_script(_TICKETS)
        self._inflight = client.register_script(_INFLIGHT)

    @staticmethod
    def _claim_key(kind: str, ident: int) -> str:
        return f"{PREFIX}claim:{kind}:{ident}"

    @staticmethod
    def _ticket_keys(round_id: int) -> list[str]:
        return [f"{PREFIX}round:{round_id}:tickets", f"{PREFIX}round:{round_id}:ticket-seq"]

    def claim(self, kind: str, ident: int) -> bool:
        """True if no message for (kind, ident) was in flight: the caller must now send one."""
        return bool(self.redis.set(self._claim_key(kind, ident), "1", nx=True, px=self.ttl_ms))

    def claim_many(self, kind: str, idents: list[int]) -> list[bool]:
        """:meth:`claim` for many items in one round trip (a tick over a long backlog)."""
        pipe = self.redis.pipeline(transaction=False)
        for ident in idents:
            pipe.set(self._claim_key(kind, ident), "1", nx=True, px=self.ttl_ms)
        return [bool(r) for r in pipe.execute()] if idents else []

    def release(self, kind: str, ident: int) -> None:
        """The message for (kind, ident) has run: a later need may send a new one."""
        self.redis.delete(self._claim_key(kind, ident))

    def release_many(self, kind: str, idents: list[int]) -> None:
        """:meth:`release` for many items in one round trip."""
        if idents:
            self.redis.delete(*(self._claim_key(kind, ident) for ident in idents))

    def hand_over_many(self, kind: str, to_kind: str, idents: list[int]) -> list[int]:
        """:meth:`release` (kind, i) and :meth:`claim` (to_kind, i) for each item in one round trip;
        returns the items whose new claim was won."""
        if not idents:
            return []
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(*(self._claim_key(kind, ident) for ident in idents))
        for ident in idents:
            pipe.set(self._claim_key(to_kind, ident), "1", nx=True, px=self.ttl_ms)
        return [ident for ident, won in zip(idents, pipe.execute()[1:], strict=True) if won]

    def count_failure(self, round_id: int) -> int:
        """Count one stage task of the round that failed for good; returns the round's count so far
        (forgotten ``ttl_s`` after the last one)."""
        key = f"{PREFIX}round:{round_id}:failures"
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(key)
        pipe.pexpire(key, self.ttl_ms)
        return int(pipe.execute()[0])

    def take_tickets(self, round_id: int, want: int) -> list[int]:
        """New ticket ids bringing the round's generate messages in flight up to ``want`` (atomic)."""
        if want <= 0:
            return []
        ids = self._tickets(keys=self._ticket_keys(round_id), args=[want, self.ttl_ms / 1000.0])
        return [int(i) for i in ids]

    def release_ticket(self, round_id: int, ticket: int) -> None:
        """The generate message holding ``ticket`` has run (or was dropped)."""
        self.redis.zrem(self._ticket_keys(round_id)[0], ticket)

    def inflight(self, round_id: int) -> int:
        """Generate messages of the round currently believed in flight."""
        return int(self._inflight(keys=self._ticket_keys(round_id)[:1]))
