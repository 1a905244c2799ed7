"""Report reads: tag diversity and complexity over rounds, from stored InsTag tags and vocabularies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from generator.analysis.reportdata import TagRound
from generator.analysis.tagrounds import NO_TAGS, NOT_NORMALIZED
from generator.db import tags
from generator.db.analysis import tag_section
from generator.db.engine import open_database
from generator.db.models import Pool, Round, Task, TaskTag
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, Vocabulary


def _tagged_pool(session: Session) -> tuple[int, int]:
    pool = Pool(name="p")
    session.add(pool)
    session.flush()
    assert tag_section(session, pool.id).rounds == ()
    assert tag_section(session, pool.id).note == NO_TAGS
    rnd = Round(pool_id=pool.id, target=1)
    session.add(rnd)
    session.flush()
    seed = Task(pool_id=pool.id, instruction="a", instruction_hash="a", origin="seed", status="complete")
    made = Task(
        pool_id=pool.id, round_id=rnd.id, instruction="b", instruction_hash="b", origin="machine",
        status="complete",
    )
    session.add_all([seed, made])
    session.flush()
    for task, raw in ((seed, ["Poetry", "writing"]), (made, ["poetry", "math", "logic", "logic "])):
        session.add_all(
            TaskTag(pool_id=pool.id, task_id=task.id, tagger_model="m", position=i, tag=t)
            for i, t in enumerate(raw)
        )
    session.flush()
    return pool.id, rnd.id


def test_without_a_vocabulary_raw_tags_are_counted_under_a_not_normalized_note(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'pool.db'}")
    with sessions.begin() as session:
        pool_id, round_id = _tagged_pool(session)
        section = tag_section(session, pool_id)
    assert section.note == NOT_NORMALIZED
    assert section.rounds == (TagRound("seeds", 1, 2, 2.0), TagRound(f"round {round_id}", 2, 4, 2.5))


def test_the_latest_vocabulary_maps_raw_tags_and_is_named_in_the_note(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'pool.db'}")
    with sessions.begin() as session:
        pool_id, round_id = _tagged_pool(session)
        old = Vocabulary(InsTagParams(), (StageCount("raw", 1),), {"math": "math"}, {"math": 1})
        tags.save_vocabulary(session, pool_id, old, "fake", 2)
        # "writing" was dropped as too rare; "math" and "logic" merged into "reasoning"
        mapping = {"Poetry": "poetry", "poetry": "poetry", "math": "reasoning", "logic": "reasoning",
                   "logic ": "reasoning"}
        latest = Vocabulary(InsTagParams(), (StageCount("raw", 5),), mapping, {"poetry": 2, "reasoning": 1})
        latest_id = tags.save_vocabulary(session, pool_id, latest, "fake", 2)
        section = tag_section(session, pool_id)
    assert f"version {latest_id}" in section.note and "(2 tags)" in section.note
    assert section.rounds == (TagRound("seeds", 1, 1, 1.0), TagRound(f"round {round_id}", 2, 2, 1.5))
