"""Fleet-wide rate limiting per endpoint (requests/min and tokens/min), shared through Redis.

:class:`RedisThrottle` implements :class:`generator.llm.Throttle`. Every worker process of every
machine that talks to the same endpoint (base URL + model) shares one pair of Redis keys, so
twenty workers together stay under the limit instead of each spending it twenty times over.

Mechanism: GCRA-style virtual scheduling ("theoretical arrival time", TAT) per limit, run as
one Lua script so the check-and-charge of both limits is atomic across the fleet. A limit of
L per minute spaces charges ``60/L`` s apart per unit; a request is let through when the TAT is
at most ``burst_s`` ahead of now, then the TAT moves forward by the request's cost. A request
larger than the burst is therefore never starved (it runs into debt that later callers wait
out), and the long-run rate never exceeds L/min. Time is Redis's ``TIME``, so clocks of the
workers' machines do not matter.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from threading import Event

import redis

from generator.errors import BrokerUnavailableError, ConfigError
from generator.llm.endpoint import build_client
from generator.llm.openai_client import OpenAIClient
from generator.settings import Settings

KEY_PREFIX = "selfinstruct:ratelimit:"
MAX_SLEEP_S = 5.0  # re-check at least this often (another limit holder may have given up)
UNAVAILABLE_GRACE_S = 30.0  # how long Redis may be unreachable before acquire gives up (transient)

# KEYS: requests key, tokens key. ARGV: burst_ms, rpm, requests, tpm, tokens (a limit of 0 = none).
# Returns 0 when granted (both limits charged), else the milliseconds to wait before retrying.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local burst = tonumber(ARGV[1])
local wait = 0
local tats = {}
for i = 1, 2 do
  local limit = tonumber(ARGV[2 * i])
  local cost = tonumber(ARGV[2 * i + 1])
  if limit > 0 and cost > 0 then
    local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    if tat < now then tat = now end
    local over = tat - now - burst
    if over > wait then wait = over end
    tats[i] = tat + cost * 60000 / limit
  end
end
if wait > 0 then return math.ceil(wait) end
for i = 1, 2 do
  if tats[i] then
    redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now) + 60000)
  end
end
return 0
"""


def endpoint_key(base_url: str, model: str) -> str:
    """The Redis key prefix shared by every client of one endpoint (base URL + model)."""
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\n{model}".encode()).hexdigest()[:20]
    return f"{KEY_PREFIX}{{{digest}}}"  # braces: both keys hash to one Redis Cluster slot


class RedisThrottle:
    """A :class:`generator.llm.Throttle` whose budget is shared by all processes through Redis.

    ``acquire(requests, tokens)`` blocks until both limits allow the request, then charges it.
    If Redis stays unreachable for ``unavailable_grace_s`` it raises BrokerUnavailableError
    (transient: the fleet task is retried later) rather than sending unthrottled.
    """

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        *,
        rpm: int | None,
        tpm: int | None,
        burst_s: float = 1.0,
        unavailable_grace_s: float = UNAVAILABLE_GRACE_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rpm is None and tpm is None:
            raise ValueError("a throttle needs rpm or tpm")
        self.key, self.rpm, self.tpm = key, rpm, tpm
        self.burst_ms = max(0.0, burst_s) * 1000.0
        self.unavailable_grace_s = unavailable_grace_s
        self._sleep = sleep
        self._script = client.register_script(_SCRIPT)
        self._rng = random.Random()

    def acquire(self, requests: int, tokens: int) -> None:
        """Block until ``requests`` requests and ``tokens`` tokens may be sent; see the class contract."""
        keys = [f"{self.key}:rpm", f"{self.key}:tpm"]
        args = [self.burst_ms, self.rpm or 0, max(0, requests), self.tpm or 0, max(0, tokens)]
        failing_since: float | None = None
        while True:
            try:
                wait_ms = int(self._script(keys=keys, args=args))
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                now = time.monotonic()
                failing_since = failing_since if failing_since is not None else now
                if now - failing_since >= self.unavailable_grace_s:
                    raise BrokerUnavailableError(f"rate limiter: Redis unreachable: {exc}") from exc
                self._sleep(min(1.0, self.unavailable_grace_s / 10))
                continue
            failing_since = None
            if wait_ms <= 0:
                return
            # A little jitter so processes woken by the same TAT do not retry in lockstep.
            self._sleep(min(MAX_SLEEP_S, wait_ms / 1000.0 * self._rng.uniform(1.0, 1.1)))


def throttle_for(settings: Settings, base_url: str, model: str) -> RedisThrottle | None:
    """The fleet-wide throttle for an endpoint, or None when no rate limit is configured.

    ConfigError when a limit is set but there is no Redis to share it through.
    """
    if settings.rate_limit_rpm is None and settings.rate_limit_tpm is None:
        return None
    url = settings.rate_limit_redis_url
    if url is None:
        raise ConfigError(
            "SELFINSTRUCT_RATE_LIMIT_RPM/TPM need SELFINSTRUCT_REDIS_URL or a redis SELFINSTRUCT_BROKER_URL"
        )
    client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    return RedisThrottle(
        client, endpoint_key(base_url, model), rpm=settings.rate_limit_rpm, tpm=settings.rate_limit_tpm
    )


def throttled_client(
    settings: Settings, base_url: str | None = None, model: str | None = None, stop: Event | None = None
) -> OpenAIClient:
    """The LLM client for ``base_url`` (default: the configured endpoint), throttled when limits are set;
    a set ``stop`` ends its backoff waits early."""
    plain = build_client(settings, base_url=base_url, model=model, stop=stop)
    throttle = throttle_for(settings, base_url or settings.llm_base_url or "", plain.model)
    if throttle is None:
        return plain
    return build_client(settings, base_url=base_url, model=plain.model, throttle=throttle, stop=stop)
