"""Telling a stalled fleet round from a slow one: heartbeats of beat and ticks, leases, pending work.

Beat writes ``beat:last`` (its scheduler loop, every tick interval at least) and every tick
writes ``tick:last`` and ``round:<id>:last-tick`` (unix seconds, kept a week), so ``round
status`` can say whether a scheduler is alive and whether ticks actually run on a worker. With
the leases of :mod:`workers.leases` and the database's pending items it names the likely cause.
Reads Redis directly: no Celery import (``round status`` stays fast and works without a broker).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import redis
from sqlalchemy.orm import Session

from generator.db.models import Round
from generator.db.pending import PendingWork, pending_work
from generator.db.statuses import RoundMode, RoundStatus
from generator.settings import Settings
from workers.leases import PREFIX, LeaseStore

BEAT_KEY, TICK_KEY = f"{PREFIX}beat:last", f"{PREFIX}tick:last"
KEEP_S = 7 * 86400
QUEUE_KINDS = ("generate", "admit", "classify", "instances", "tag")


def round_tick_key(round_id: int) -> str:
    return f"{PREFIX}round:{round_id}:last-tick"


def note_beat(client: redis.Redis) -> None:
    """Beat's scheduler loop is alive (called by :class:`workers.schedule.Scheduler`)."""
    client.set(BEAT_KEY, f"{time.time():.3f}", ex=KEEP_S)


def note_tick(client: redis.Redis, round_id: int) -> None:
    """A tick of ``round_id`` ran (beat's ``tick_all``, or ``selfinstruct generate`` following it)."""
    pipe = client.pipeline(transaction=False)
    now = f"{time.time():.3f}"
    pipe.set(TICK_KEY, now, ex=KEEP_S)
    pipe.set(round_tick_key(round_id), now, ex=KEEP_S)
    pipe.execute()


def _age(client: redis.Redis, key: str) -> float | None:
    value = client.get(key)
    return None if value is None else max(0.0, time.time() - float(value))


def beat_age(client: redis.Redis) -> float | None:
    """Seconds since beat's scheduler loop last ran, or None if it never ran (within a week)."""
    return _age(client, BEAT_KEY)


@dataclass(frozen=True)
class LeaseCounts:
    """A round's leases now: renewed in time (held) or run out with the work not yet re-sent."""

    held: int
    expired: int
    oldest_expired_s: float | None
    generate_in_flight: int


def lease_counts(store: LeaseStore, round_id: int) -> LeaseCounts:
    """Read the round's lease set and generate tickets (see :mod:`workers.leases`)."""
    now_s, micros = store.redis.time()
    now_ms = now_s * 1000 + micros // 1000
    key = store.leases_key(round_id)
    held = int(store.redis.zcount(key, now_ms, "+inf"))
    expired = store.redis.zrangebyscore(key, "-inf", now_ms - 1, start=0, num=1, withscores=True)
    count = int(store.redis.zcount(key, "-inf", now_ms - 1))
    oldest = (now_ms - float(expired[0][1])) / 1000 if expired else None
    return LeaseCounts(held, count, oldest, store.inflight(round_id))


def diagnosis(status: str, pending: PendingWork, leases: LeaseCounts, beat_s: float | None,
              tick_s: float | None, tick_every_s: float) -> str:
    """One line: why the round is (not) moving. ``tick_s``: age of the round's last tick."""
    if status != RoundStatus.RUNNING:
        return f"ended ({status})"
    late = 3 * tick_every_s
    if tick_s is None or tick_s > late:
        since = "no tick has run" if tick_s is None else f"no tick for {tick_s:.0f} s"
        if beat_s is None or beat_s > late:
            return (f"stalled: {since} and no beat within {late:.0f} s: start one scheduler "
                    "(`selfinstruct beat`); queued messages still run, lost ones wait for it")
        return (f"stalled: beat is alive but {since}: no worker consumes the control queue "
                "(`selfinstruct worker -Q ...,control`)")
    if leases.expired and (leases.oldest_expired_s or 0) > late:
        return (f"stalled: {leases.expired} leases expired {leases.oldest_expired_s:.0f} s ago and "
                "were not re-sent (is Redis shared by every worker and the scheduler?)")
    if leases.held or leases.generate_in_flight:
        return f"working: {leases.held} leases renewed, {leases.generate_in_flight} generate in flight"
    if pending.total:
        return "waiting: work is queued for the workers (no message running now)"
    return "waiting: the next tick ends or tops up the round"


def describe(store: LeaseStore, round_id: int, status: str, pending: PendingWork,
             tick_every_s: float) -> dict[str, Any]:
    """The fleet part of ``round status --json``: pending by stage, leases, heartbeats, diagnosis."""
    leases = lease_counts(store, round_id)
    beat_s, tick_s = beat_age(store.redis), _age(store.redis, round_tick_key(round_id))
    waits = dict(zip(QUEUE_KINDS, store.redis.mget([f"{PREFIX}queue-wait:{k}" for k in QUEUE_KINDS]),
                     strict=True))
    return {
        "pending": {s.stage: s.count for s in pending.stages} | {"generate": leases.generate_in_flight},
        "oldest_pending_s": {s.stage: _round(s.oldest_s) for s in pending.stages if s.count},
        "last_request_s": _round(pending.last_request_s),
        "leases": {k: _round(v) for k, v in asdict(leases).items() if k != "generate_in_flight"},
        "last_queue_wait_s": {k: float(v) for k, v in waits.items() if v is not None},
        "beat_age_s": _round(beat_s),
        "tick_age_s": _round(tick_s),
        "diagnosis": diagnosis(status, pending, leases, beat_s, tick_s, tick_every_s),
    }


def _round(value: float | int | None) -> float | int | None:
    return round(value, 1) if isinstance(value, float) else value


def fleet_status(settings: Settings, session: Session, round_id: int) -> dict[str, Any]:
    """:func:`describe` for a fleet round, reading the Redis named by ``settings``; {} for other rounds.

    Redis being unreachable is itself the diagnosis (claims, leases and ticks all live there)."""
    rnd = session.get(Round, round_id)
    if rnd is None or rnd.mode != RoundMode.FLEET or settings.rate_limit_redis_url is None:
        return {}
    client = redis.Redis.from_url(settings.rate_limit_redis_url, socket_timeout=5, socket_connect_timeout=3)
    store = LeaseStore(client, settings.lease_s, settings.queue_wait_s)
    try:
        return describe(store, round_id, rnd.status, pending_work(session, round_id), settings.fleet_tick_s)
    except redis.RedisError as exc:
        return {"diagnosis": f"Redis unreachable ({settings.rate_limit_redis_url}): {exc}"}
    finally:
        client.close()


def beat_warning(settings: Settings) -> str | None:
    """A warning for ``round start`` when no beat has run its loop within three ticks, else None."""
    url = settings.rate_limit_redis_url
    if url is None:
        return None
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
    try:
        age = beat_age(client)
    except redis.RedisError:
        return None  # starting the round has already needed the broker; Redis trouble shows elsewhere
    finally:
        client.close()
    if age is not None and age <= 3 * settings.fleet_tick_s:
        return None
    seen = "no beat has ever ticked" if age is None else f"the last beat ticked {age:.0f} s ago"
    return (f"{seen}: without one scheduler (`selfinstruct beat`) a lost message is never re-sent and the "
            "round may stall; `selfinstruct round status` shows where it stands")
