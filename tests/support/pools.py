"""Helpers for round tests: a StepContext on a scripted endpoint, pool invariant checks."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

from rouge_score import rouge_scorer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from generator.db import repository as repo
from generator.db.engine import open_database
from generator.db.models import LLMRequest, Task
from generator.llm.openai_client import OpenAIClient
from generator.settings import Settings
from generator.steps import StepContext
from generator.wiring import ensure_seeded_pool, params_of


def scripted_context(
    db_url: str, base_url: str, *, concurrency: int = 3, seed: int = 1, max_retries: int = 6,
    **settings_overrides: Any,
) -> StepContext:
    """A StepContext on ``db_url`` talking to the scripted server at ``base_url``, with no backoff waits."""
    settings = Settings(
        database_url=db_url,
        llm_base_url=base_url,
        llm_model="scripted-model",
        llm_concurrency=concurrency,
        llm_max_retries=max_retries,
        **settings_overrides,
    )
    sessions = open_database(db_url)
    with sessions.begin() as session:
        pool = ensure_seeded_pool(session, settings, "default")
        params = params_of(pool)
    client = OpenAIClient(
        base_url, "k", "scripted-model", max_retries=max_retries, timeout_s=10, sleep=lambda _s: None
    )
    return StepContext(sessions, client, params, settings, random.Random(seed))


def open_round(sessions: sessionmaker[Session], target: int, pool: str = "default") -> int:
    """Start an in-process round in ``pool`` and return its id."""
    with sessions.begin() as session:
        return repo.open_round(session, repo.get_pool(session, pool), target).id


def assert_pool_is_novel(session: Session, threshold: float = 0.7) -> None:
    """No machine instruction has ROUGE-L >= threshold with any other pool instruction (per rouge-score)."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    rows = session.execute(select(Task.instruction, Task.origin).order_by(Task.id)).all()
    for (a, oa), (b, ob) in itertools.combinations(rows, 2):
        if "machine" in (oa, ob):
            score = scorer.score(a, b)["rougeL"].fmeasure
            assert score < threshold, f"{a!r} vs {b!r}: {score}"


def attempts_recorded(session: Session) -> int:
    """HTTP attempts accounted for by the llm_requests rows."""
    return int(session.scalar(select(func.coalesce(func.sum(LLMRequest.attempts), 0))) or 0)


def sqlite_url(tmp_path: Path, name: str = "pool.db") -> str:
    return f"sqlite:///{tmp_path / name}"
