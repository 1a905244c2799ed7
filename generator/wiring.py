"""Wiring for commands: settings → database sessions, LLM client (embedded or remote), index config."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from threading import Event
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from generator.db import repository as repo
from generator.db.engine import open_database
from generator.db.models import Pool
from generator.novelty.config import IndexConfig
from generator.selfinstruct.params import GenerationParams
from generator.settings import Settings

if TYPE_CHECKING:  # the steps (and what they import) are loaded by step_context: query commands skip them
    from generator.instag.embedding import Embedder
    from generator.llm.client import LLMClient
    from generator.steps import StepContext
    from generator.steps.coverage import PoolCoverage


def sessions_for(settings: Settings) -> sessionmaker[Session]:
    """Open (and migrate if needed) the configured database."""
    return open_database(
        settings.database_url,
        connect_timeout_s=settings.database_connect_timeout_s,
        busy_timeout_s=settings.sqlite_busy_timeout_s,
    )


def index_config(settings: Settings) -> IndexConfig:
    """How every novelty index of this process searches: the C kernel unless SELFINSTRUCT_NATIVE=0."""
    return IndexConfig(native=settings.native)


def embedder_for(settings: Settings) -> Embedder:
    """The one Embedder (InsTag aggregation and the KNN-6 indicator) named by SELFINSTRUCT_INSTAG_EMBEDDER."""
    from generator.llm.embedder import build_embedder  # heavy models load only when a command needs them

    return build_embedder(settings.instag_embedder, base_url=settings.instag_embedding_base_url or "",
                          model=settings.instag_embedding_model or "", api_key=settings.llm_api_key or "none")


def coverage_for(settings: Settings) -> PoolCoverage:
    """The tag counts steered rounds read: stored InsTag tags (default) mapped with the one embedder,
    or, only when SELFINSTRUCT_STEERING_TAGGER=lexical, the lexical stand-in."""
    from generator.steering.lexical import LexicalTagger
    from generator.steps.coverage import PoolCoverage

    tagger = LexicalTagger() if settings.steering_tagger == "lexical" else None
    return PoolCoverage(tagger=tagger, embedder=lambda: embedder_for(settings))


def params_of(pool: Pool) -> GenerationParams:
    """The pool's stored knobs (defaults for any knob added since the pool was created)."""
    return GenerationParams.from_json(pool.params)


def ensure_seeded_pool(session: Session, settings: Settings, name: str) -> Pool:
    """The pool ``name``; created and loaded with the default seeds when it is new or empty."""
    from generator.selfinstruct.seeds import load_seed_tasks

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
        from generator.llm.embedded_servers import EmbeddedServers

        with EmbeddedServers(settings) as servers:
            client = servers.client(lambda server: throttled_client(
                settings, base_url=server.base_url, model=server.model, stop=stop))
            yield _context(settings, params, sessions, client, seed)
    else:
        yield _context(settings, params, sessions, throttled_client(settings, stop=stop), seed)


def _context(settings: Settings, params: GenerationParams, sessions: sessionmaker[Session], client: LLMClient,
             seed: int | None) -> StepContext:
    from generator.steps import StepContext

    config = index_config(settings)
    return StepContext(sessions, client, params, settings, random.Random(seed), coverage_for(settings),
                       index_config=config)
