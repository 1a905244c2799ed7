"""Wiring for commands: settings → database sessions, LLM client (embedded or remote)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from threading import Event

from sqlalchemy.orm import Session, sessionmaker

from generator.db import repository as repo
from generator.db.engine import open_database
from generator.db.models import Pool
from generator.selfinstruct.params import GenerationParams
from generator.selfinstruct.seeds import load_seed_tasks
from generator.settings import Settings
from generator.steps import StepContext
from generator.steps.coverage import coverage_for


def sessions_for(settings: Settings) -> sessionmaker[Session]:
    """Open (and migrate if needed) the configured database."""
    return open_database(
        settings.database_url,
        connect_timeout_s=settings.database_connect_timeout_s,
        busy_timeout_s=settings.sqlite_busy_timeout_s,
    )


def params_of(pool: Pool) -> GenerationParams:
    """The pool's stored knobs (defaults for any knob added since the pool was created)."""
    return GenerationParams.from_json(pool.params)


def ensure_seeded_pool(session: Session, settings: Settings, name: str) -> Pool:
    """The pool ``name``; created and loaded with the default seeds when it is new or empty."""
    pool = repo.ensure_pool(session, name, GenerationParams(), seed_source=str(settings.seeds_path))
    if not repo.pool_instructions(session, pool.id):
        repo.add_seed_tasks(session, pool, load_seed_tasks(settings.seeds_path))
    return pool


@contextlib.contextmanager
def step_context(
    settings: Settings, params: GenerationParams, sessions: sessionmaker[Session], seed: int | None = None,
    stop: Event | None = None,
) -> Iterator[StepContext]:
    """A StepContext with a live LLM client; runs the embedded server while no endpoint is set.
    Setting ``stop`` ends the client's backoff waits at once (Ctrl-C must not wait a Retry-After out)."""
    from generator.llm.ratelimit import throttled_client  # here: database-only commands need no redis

    if settings.embedded:
        from generator.llm.embedded import EmbeddedServer

        with EmbeddedServer(settings) as server:
            client = throttled_client(settings, base_url=server.base_url, model=server.model, stop=stop)
            yield StepContext(sessions, client, params, settings, random.Random(seed), coverage_for(settings))
    else:
        client = throttled_client(settings, stop=stop)
        yield StepContext(sessions, client, params, settings, random.Random(seed), coverage_for(settings))
