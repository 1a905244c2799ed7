"""Per-process resources of the fleet: settings, database sessions, Redis, LLM client, pool indexes.

Built lazily on first use in each process and rebuilt when the pid changes, because prefork
children must not share the parent's sockets or connection pools. The LLM client (with the
fleet-wide Redis throttle when limits are set) is built once per process, on the first task
that needs it. The CLI builds a context too (``round start``, ``generate`` following a round).
"""

from __future__ import annotations

import gc
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from generator.db import fleet as fleet_db
from generator.db.engine import open_database
from generator.db.models import Pool, Round
from generator.errors import ConfigError, NotFoundError
from generator.llm.client import LLMClient
from generator.llm.ratelimit import throttled_client
from generator.selfinstruct.params import GenerationParams
from generator.settings import Settings, load_settings
from generator.steps import StepContext
from generator.steps.admission import PoolIndex
from generator.steps.coverage import PoolCoverage
from generator.wiring import coverage_for, index_config
from workers.hints import Hints
from workers.leases import LeaseStore, require_redis

# How stale a cached round status may be: after a cancel, the round's tasks may still call the
# endpoint for this long (one query per task saved in exchange).
STATUS_MAX_AGE_S = 1.0


@dataclass
class WorkerContext:
    """What control logic and tasks need in one process; see the module docstring."""

    settings: Settings
    sessions: sessionmaker[Session]
    hints: Hints
    app: Any  # the Celery app messages are sent through (untyped library)
    leases: LeaseStore
    _client: LLMClient | None = None
    _round_pools: dict[int, int] = field(default_factory=dict)
    _round_tags: dict[int, bool] = field(default_factory=dict)
    _params: dict[int, GenerationParams] = field(default_factory=dict)
    _indexes: dict[int, PoolIndex] = field(default_factory=dict)
    _status: dict[int, tuple[str, float]] = field(default_factory=dict)
    # Steered rounds' tag counts, kept across tasks so each task is tagged once per process.
    coverage: PoolCoverage = field(default_factory=PoolCoverage)
    # Guards the caches when the worker runs a thread pool (--pool threads).
    lock: threading.RLock = field(default_factory=threading.RLock)
    # One admission at a time per process: a failed one must drop its index before the next reads it.
    admitting: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, settings: Settings, app: Any) -> WorkerContext:
        """Connect to the database and Redis named by ``settings``; the fleet needs PostgreSQL."""
        if not settings.database_url.startswith("postgresql"):
            raise ConfigError("the fleet needs PostgreSQL: set SELFINSTRUCT_DATABASE_URL=postgresql://...")
        client = redis.Redis.from_url(require_redis(settings), socket_timeout=10, socket_connect_timeout=5)
        # Workers do not migrate (many at once would race): `round start` / `selfinstruct db upgrade` do.
        sessions = open_database(
            settings.database_url, migrate=False, connect_timeout_s=settings.database_connect_timeout_s,
            busy_timeout_s=settings.sqlite_busy_timeout_s,
        )
        leases = LeaseStore(client, settings.lease_s, settings.queue_wait_s)
        return cls(settings, sessions, Hints(client, ttl_s=settings.visibility_timeout_s), app, leases,
                   coverage=coverage_for(settings))

    def client(self) -> LLMClient:
        """The process's LLM client, built on first use (it may ask the endpoint for its model)."""
        with self.lock:
            if self._client is None:
                self._client = throttled_client(self.settings)
            return self._client

    def pool_of(self, round_id: int) -> int:
        """The pool a round belongs to (cached: a round never changes pool)."""
        with self.lock:
            if round_id not in self._round_pools:
                with self.sessions() as session:
                    rnd = session.get(Round, round_id)
                    if rnd is None:
                        raise NotFoundError(f"no round with id {round_id}")
                    self._round_pools[round_id] = rnd.pool_id
            return self._round_pools[round_id]

    def round_tags(self, round_id: int) -> bool:
        """Whether the round has tagging on (cached: a round's flag never changes)."""
        with self.lock:
            if round_id not in self._round_tags:
                with self.sessions() as session:
                    self._round_tags[round_id] = fleet_db.round_tags(session, round_id)
            return self._round_tags[round_id]

    def round_status(self, round_id: int, max_age_s: float = STATUS_MAX_AGE_S) -> str:
        """The round's status, re-read when older than ``max_age_s`` (saves a query per task)."""
        now = time.monotonic()
        with self.lock:
            cached = self._status.get(round_id)
            if cached is not None and now - cached[1] < max_age_s:
                return cached[0]
        with self.sessions() as session:
            found = fleet_db.round_status(session, round_id)
        status = found if found is not None else "missing"
        with self.lock:
            self._status[round_id] = (status, now)
        return status

    def params(self, pool_id: int) -> GenerationParams:
        """The pool's stored knobs (cached per process)."""
        with self.lock:
            if pool_id not in self._params:
                with self.sessions() as session:
                    pool = session.get(Pool, pool_id)
                    if pool is None:
                        raise NotFoundError(f"no pool with id {pool_id}")
                    self._params[pool_id] = GenerationParams.from_json(pool.params)
            return self._params[pool_id]

    def step_context(self, round_id: int) -> StepContext:
        """A StepContext for a round's pool; the rng is per process (seeded by the OS)."""
        params = self.params(self.pool_of(round_id))
        return StepContext(self.sessions, self.client(), params, self.settings, random.Random(),
                           coverage=self.coverage)

    def index(self, pool_id: int) -> PoolIndex:
        """The process's novelty index of a pool; only used while holding the pool lock."""
        with self.lock:
            if pool_id not in self._indexes:
                self._indexes[pool_id] = PoolIndex(pool_id, self.params(pool_id).rouge_threshold,
                                                   index_config(self.settings))
            return self._indexes[pool_id]

    def drop_index(self, pool_id: int) -> None:
        """Forget a pool's index (after a failed admission it may hold tasks that were rolled back)."""
        with self.lock:
            self._indexes.pop(pool_id, None)


_current: WorkerContext | None = None
_pid: int | None = None
_guard = threading.Lock()


def current() -> WorkerContext:
    """This process's context, built from the environment and the fleet's Celery app on first use."""
    global _current, _pid
    with _guard:
        if _current is None or _pid != os.getpid():
            from workers.app import app

            _current, _pid = WorkerContext.create(load_settings(), app), os.getpid()
            # Everything imported and built so far lives as long as the process: moving it out of
            # the collector's generations keeps each full collection from walking it again.
            gc.freeze()
        return _current
