"""Generate tickets: how many generate requests of a round are in flight, under the rules of leases.

A sorted set per round maps ticket -> expiry. :meth:`TicketStore.take_tickets` tops it up to
``want`` in one Lua script, so concurrent callers together never put more than ``want``
generate requests in flight; a queued ticket expires after ``queue_wait_s``, a running one
(:meth:`TicketStore.hold_ticket`, renewed by the heartbeat) after ``lease_s``, and an expired
ticket is replaced by the next top-up. Leases of the other stages: :mod:`workers.leases`.
"""

from __future__ import annotations

import redis

PREFIX = "selfinstruct:fleet:"
NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""


# KEYS: ticket set, ticket counter. ARGV: want, ttl ms. -> new ticket ids.
_TICKETS = NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local have = redis.call('ZCARD', KEYS[1])
local out = {}
while have < tonumber(ARGV[1]) do
  local id = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
  have = have + 1
  out[#out + 1] = id
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
redis.call('EXPIRE', KEYS[2], 86400 * 7)
return out
"""

# KEYS: ticket set, leases zset. ARGV: ticket, lease ms. -> 1 if the ticket is (still) ours.
_HOLD_TICKET = NOW + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 86400000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), 'generate:' .. ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
return 1
"""


class TicketStore:
    """Generate tickets in one Redis (the base of :class:`workers.leases.LeaseStore`)."""

    def __init__(self, client: redis.Redis, lease_ms: int, queue_wait_ms: int) -> None:
        self.redis = client
        self._lease_ms, self._queue_wait_ms = lease_ms, queue_wait_ms
        self._tickets = client.register_script(_TICKETS)
        self._hold_ticket = client.register_script(_HOLD_TICKET)

    @staticmethod
    def leases_key(round_id: int) -> str:
        return f"{PREFIX}round:{round_id}:leases"

    @staticmethod
    def tickets_key(round_id: int) -> str:
        return f"{PREFIX}round:{round_id}:tickets"

    def take_tickets(self, round_id: int, want: int) -> list[int]:
        """New tickets bringing the round's generate messages in flight up to ``want`` (atomic); a
        queued ticket expires after ``queue_wait_s``, a running one after ``lease_s`` unless renewed."""
        if want <= 0:
            return []
        keys = [self.tickets_key(round_id), f"{PREFIX}round:{round_id}:ticket-seq"]
        return [int(i) for i in self._tickets(keys=keys, args=[want, self._queue_wait_ms])]

    def hold_ticket(self, round_id: int, ticket: int) -> bool:
        """Start or renew the lease of a generate ticket; False if it expired (it was replaced)."""
        keys = [self.tickets_key(round_id), self.leases_key(round_id)]
        return bool(self._hold_ticket(keys=keys, args=[ticket, self._lease_ms]))

    def release_ticket(self, round_id: int, ticket: int) -> None:
        """The generate message holding ``ticket`` has run (or was dropped)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(self.tickets_key(round_id), ticket)
        pipe.zrem(self.leases_key(round_id), f"generate:{ticket}")
        pipe.execute()

    def inflight(self, round_id: int) -> int:
        """Generate tickets of the round not yet expired."""
        now_s, micros = self.redis.time()
        return int(self.redis.zcount(self.tickets_key(round_id), (now_s * 1000 + micros // 1000), "+inf"))
