"""Report reads: tag diversity and complexity over rounds, from stored InsTag tags."""

from __future__ import annotations

from pathlib import Path

from generator.analysis.reportdata import TagRound
from generator.db.analysis import tag_rounds
from generator.db.engine import open_database
from generator.db.models import Pool, Round, Task, TaskTag


def test_tag_rounds_accumulate_distinct_tags_and_tags_per_task(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'pool.db'}")
    with sessions.begin() as session:
        pool = Pool(name="p")
        session.add(pool)
        session.flush()
        assert tag_rounds(session, pool.id) == ()
        rnd = Round(pool_id=pool.id, target=1)
        session.add(rnd)
        session.flush()
        seed = Task(pool_id=pool.id, instruction="a", instruction_hash="a", origin="seed", status="complete")
        made = Task(
            pool_id=pool.id,
            round_id=rnd.id,
            instruction="b",
            instruction_hash="b",
            origin="machine",
            status="complete",
        )
        session.add_all([seed, made])
        session.flush()
        for task, tags in ((seed, ["Poetry", "writing"]), (made, ["poetry", "math", "logic", "logic "])):
            session.add_all(
                TaskTag(pool_id=pool.id, task_id=task.id, tagger_model="m", position=i, tag=t)
                for i, t in enumerate(tags)
            )
        session.flush()
        assert tag_rounds(session, pool.id) == (
            TagRound("seeds", 1, 2, 2.0),
            TagRound(f"round {rnd.id}", 2, 4, 2.5),
        )
