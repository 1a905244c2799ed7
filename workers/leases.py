"""Claims and leases of the fleet's work items in Redis: who may send, and who is working on what.

An item is a (kind, id) pair: ``admit:<round>``, ``classify:<task>``, ``instances:<task>``; a
generate message holds a *ticket* of its round instead (:mod:`workers.tickets`). Each record
names its owner, the Celery task id of the message that carries the item (messages are sent
with that id, and a retry or a broker redelivery keeps it):

* **queued claim** ``q:<token>:<sent_ms>`` — the message is in a queue; expires after
  ``queue_wait_s``, so a message lost before it started (a killed worker's prefetched or
  countdown messages) is sent again by a later tick, and a long backlog costs at most one
  duplicate per item per ``queue_wait_s`` (the duplicate finds the work leased or done).
* **lease** ``l:<token>`` — the message is running; expires after ``lease_s`` unless the
  worker's heartbeat (:mod:`workers.heartbeat`) renews it, so a dead worker's work is sent again
  by the first tick after ``lease_s``. Renewal and release only touch the owner's own record.

Starting a message turns its items' claims into leases (:meth:`LeaseStore.acquire`): an item
already leased by another live message is skipped; one whose claim expired or belongs to a
queued duplicate is taken over. Late duplicates (a redelivery after the visibility timeout, a
worker that was only slow) may still run: the database's status guards decide whose write
counts. A sorted set per round mirrors the leases (``kind:id`` -> expiry) for ``round status``.
Only ``redis`` is imported here, so the CLI can read it without Celery.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import redis

from generator.errors import ConfigError
from generator.settings import Settings
from workers.tickets import NOW as _NOW
from workers.tickets import PREFIX, TicketStore

__all__ = ["PREFIX", "Acquired", "LeaseStore", "new_token", "require_redis"]

# KEYS: leases zset, claim keys... ARGV: token, ttl ms, members... -> won flags.
_CLAIM = _NOW + """
local out = {}
for i = 2, #KEYS do
  local won = redis.call('SET', KEYS[i], 'q:' .. ARGV[1] .. ':' .. now, 'NX', 'PX', ARGV[2])
  if won then
    redis.call('ZREM', KEYS[1], ARGV[i + 1])  -- an expired lease being replaced
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""

# KEYS: leases zset, claim keys... ARGV: token, lease ms, members... -> {won, queue wait ms} pairs.
_ACQUIRE = _NOW + """
local out = {}
local mine = 'l:' .. ARGV[1]
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  local take = (not v) or v == mine or string.sub(v, 1, 2) == 'q:'
  local wait = -1
  if take then
    if v and string.sub(v, 1, 2) == 'q:' then
      wait = now - tonumber(string.match(v, ':(%d+)$') or now)
    end
    redis.call('SET', KEYS[i], mine, 'PX', ARGV[2])
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[i + 1])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  out[#out + 1] = wait
end
redis.call('PEXPIRE', KEYS[1], 86400000)
return out
"""

# KEYS: leases zset, claim keys... ARGV: token, lease ms, members... -> still-held flags.
_RENEW = _NOW + """
local out = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == 'l:' .. ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[i + 1])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""

# KEYS: leases zset, claim keys... ARGV: token, requeue ttl ms (0 = delete), members... -> owned flags.
_RELEASE = _NOW + """
local out = {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and (v == 'l:' .. ARGV[1] or string.sub(v, 1, #ARGV[1] + 3) == 'q:' .. ARGV[1] .. ':') then
    if tonumber(ARGV[2]) > 0 then
      redis.call('SET', KEYS[i], 'q:' .. ARGV[1] .. ':' .. now, 'PX', ARGV[2])
    else
      redis.call('DEL', KEYS[i])
    end
    redis.call('ZREM', KEYS[1], ARGV[i + 1])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""

def require_redis(settings: Settings) -> str:
    """The Redis holding claims, leases and rate limits; ConfigError naming the setting if none."""
    url = settings.rate_limit_redis_url
    if url is not None:
        return url
    if settings.broker_url and settings.broker_url.startswith("amqp"):
        raise ConfigError("a RabbitMQ broker needs Redis for claims, leases and rate limits: set "
                          "SELFINSTRUCT_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    raise ConfigError("the fleet needs Redis: set SELFINSTRUCT_BROKER_URL=redis://... "
                      "or SELFINSTRUCT_REDIS_URL")


def new_token() -> str:
    """A fresh message id (sent as the Celery task id, so the claim names its message)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Acquired:
    """What :meth:`LeaseStore.acquire` got: the ids now leased, and the longest queue wait seen."""

    ids: list[int]
    queue_wait_s: float | None


class LeaseStore(TicketStore):
    """Queued claims, leases and generate tickets in one Redis; methods may raise ``redis.RedisError``."""

    def __init__(self, client: redis.Redis, lease_s: float, queue_wait_s: float) -> None:
        self.redis = client
        self.lease_ms = max(1000, int(lease_s * 1000))
        self.queue_wait_ms = max(1000, int(queue_wait_s * 1000))
        self._claim = client.register_script(_CLAIM)
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        super().__init__(client, self.lease_ms, self.queue_wait_ms)

    @property
    def renew_every_s(self) -> float:
        """How often a holder renews: three chances before the lease runs out."""
        return self.lease_ms / 3000

    @staticmethod
    def claim_key(kind: str, ident: int) -> str:
        return f"{PREFIX}claim:{kind}:{ident}"

    def _keys(self, round_id: int, kind: str, ids: list[int]) -> tuple[list[str], list[str]]:
        keys = [self.leases_key(round_id), *(self.claim_key(kind, i) for i in ids)]
        return keys, [f"{kind}:{i}" for i in ids]

    def claim(self, round_id: int, kind: str, ids: list[int], token: str) -> list[bool]:
        """Queued claims for ``ids`` owned by message ``token``; True where no message held the item."""
        if not ids:
            return []
        keys, members = self._keys(round_id, kind, ids)
        return [bool(won) for won in self._claim(keys=keys, args=[token, self.queue_wait_ms, *members])]

    def acquire(self, round_id: int, kind: str, ids: list[int], token: str) -> Acquired:
        """Lease the items for the running message ``token`` (see the module docstring)."""
        if not ids:
            return Acquired([], None)
        keys, members = self._keys(round_id, kind, ids)
        flat = [int(v) for v in self._acquire(keys=keys, args=[token, self.lease_ms, *members])]
        won = [i for i, flag in zip(ids, flat[0::2], strict=True) if flag]
        waits = [w for w in flat[1::2] if w >= 0]
        return Acquired(won, max(waits) / 1000 if waits else None)

    def renew(self, round_id: int, kind: str, ids: list[int], token: str) -> list[int]:
        """Extend ``token``'s leases by ``lease_s``; returns the ids it still holds."""
        if not ids:
            return []
        keys, members = self._keys(round_id, kind, ids)
        flags = self._renew(keys=keys, args=[token, self.lease_ms, *members])
        return [i for i, flag in zip(ids, flags, strict=True) if flag]

    def release(self, round_id: int, kind: str, ids: list[int], token: str, *,
                requeue_s: float = 0) -> list[int]:
        """Drop ``token``'s claims or leases of ``ids`` (others' records are left alone); with
        ``requeue_s`` turn them back into queued claims for that long (a retry waiting its countdown).

        Returns the ids ``token`` no longer held (expired, or taken over by another message)."""
        if not ids:
            return []
        keys, members = self._keys(round_id, kind, ids)
        flags = self._release(keys=keys, args=[token, int(requeue_s * 1000), *members])
        return [i for i, owned in zip(ids, flags, strict=True) if not owned]
