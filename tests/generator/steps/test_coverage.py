"""Steering's coverage reads the stored InsTag tags and maps them through the pool's current vocabulary."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from generator.db.engine import open_database
from generator.db.models import Task, TaskTag, TaskTagging
from generator.db.tags import save_vocabulary
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, Vocabulary
from generator.llm.embedder import FakeEmbedder
from generator.settings import Settings
from generator.steering.lexical import LexicalTagger
from generator.steps.coverage import PoolCoverage
from generator.wiring import coverage_for, ensure_seeded_pool
from tests.support.pools import sqlite_url


def _pool(tmp_path: Path) -> tuple[sessionmaker[Session], int, list[int]]:
    sessions = open_database(sqlite_url(tmp_path))
    with sessions.begin() as session:
        pool = ensure_seeded_pool(session, Settings(database_url=sqlite_url(tmp_path)), "default")
        seeds = list(session.scalars(select(Task.id).where(Task.pool_id == pool.id).order_by(Task.id)))
        return sessions, pool.id, seeds


def _store_tags(session: Session, pool_id: int, tags_by_task: dict[int, list[str]]) -> None:
    for task_id, raws in tags_by_task.items():
        session.add(TaskTagging(pool_id=pool_id, task_id=task_id, tagger_model="m", status="tagged"))
        session.add_all(TaskTag(pool_id=pool_id, task_id=task_id, tagger_model="m", position=n, tag=raw,
                                explanation="") for n, raw in enumerate(raws))


def _vocabulary(session: Session, pool_id: int, mapping: dict[str, str]) -> int:
    counts = dict.fromkeys(mapping.values(), 1)
    vocabulary = Vocabulary(InsTagParams(), (StageCount("raw", len(mapping)),), mapping, counts)
    return save_vocabulary(session, pool_id, vocabulary, "fake", 2)


def test_stored_tags_map_through_the_vocabulary_and_unmapped_ones_count_as_new(tmp_path: Path) -> None:
    sessions, pool_id, seeds = _pool(tmp_path)
    with sessions.begin() as session:
        version = _vocabulary(session, pool_id, {"chess": "board games", "sudoku puzzle": "puzzles"})
        _store_tags(session, pool_id, {seeds[0]: ["chess", "Sudoku puzzles"], seeds[1]: ["Quantum physics!"]})
    coverage = PoolCoverage(embedder=FakeEmbedder)
    with sessions() as session:
        snapshot = coverage.snapshot(session, pool_id)
    assert snapshot.coverage.vocabulary_version == version
    assert dict(snapshot.coverage.task_tags) == {seeds[0]: ("board games", "puzzles"),
                                                 seeds[1]: ("quantum physics",)}
    assert coverage._pools[pool_id].counts.new_tags == {"quantum physics"}


def test_tags_stored_later_are_added_and_a_new_vocabulary_version_recounts_once(tmp_path: Path) -> None:
    sessions, pool_id, seeds = _pool(tmp_path)
    with sessions.begin() as session:
        _store_tags(session, pool_id, {seeds[0]: ["Chess"]})
    coverage = PoolCoverage(embedder=FakeEmbedder)
    with sessions() as session:
        first = coverage.snapshot(session, pool_id).coverage
    assert (first.vocabulary_version, dict(first.counts)) == (None, {"chess": 1})  # no vocabulary: rule form
    with sessions.begin() as session:
        _store_tags(session, pool_id, {seeds[1]: ["chess", "poetry"]})
    with sessions() as session:
        second = coverage.snapshot(session, pool_id).coverage
    assert dict(second.counts) == {"chess": 2, "poetry": 1}
    with sessions.begin() as session:
        version = _vocabulary(session, pool_id, {"Chess": "games", "chess": "games"})
    with sessions() as session:
        third = coverage.snapshot(session, pool_id).coverage
    assert (third.vocabulary_version, dict(third.counts)) == (version, {"games": 2, "poetry": 1})


def test_the_lexical_stand_in_is_only_used_when_the_settings_ask_for_it() -> None:
    assert coverage_for(Settings()).reads_stored_tags
    lexical = coverage_for(Settings(steering_tagger="lexical"))
    assert isinstance(lexical.tagger, LexicalTagger) and not lexical.reads_stored_tags
