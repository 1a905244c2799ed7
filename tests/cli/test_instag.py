"""generate -> tag -> normalize -> diversity -> select, as users run it, through the scripted endpoint."""

from __future__ import annotations

import json
import math
from pathlib import Path

from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder

from .test_commands import cli_env, count, run


def test_a_generated_pool_is_tagged_normalized_scored_and_selected(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=4)) as server:
        env = {**cli_env(tmp_path, server), "SELFINSTRUCT_LLM_PROMPTS_PER_REQUEST": "5"}
        assert run(["generate", "-n", "6"], env, tmp_path).returncode == 0
        tagged = run(["tag"], env, tmp_path)
        assert tagged.returncode == 0, tagged.stderr
        again = run(["tag"], env, tmp_path)
        assert "nothing to tag" in again.stderr
    db = tmp_path / "pool.db"
    complete = count(db, "SELECT count(*) FROM tasks WHERE status='complete'")
    assert count(db, "SELECT count(*) FROM task_taggings WHERE status='tagged'") == complete
    assert count(db, "SELECT count(*) FROM task_tags") >= complete
    # seeds are tagged too; 5 queries per completions request
    assert count(db, "SELECT count(*) FROM task_taggings t JOIN tasks k ON k.id = t.task_id "
                     "WHERE k.origin = 'seed'") == 175
    assert count(db, "SELECT count(*) FROM llm_requests WHERE stage='tag'") == math.ceil(complete / 5)

    normalized = run(["tags", "normalize"], env, tmp_path)
    assert normalized.returncode == 0, normalized.stderr
    assert "vocabulary 1: raw" in normalized.stderr and "association" in normalized.stderr
    stages = json.loads(_scalar(db, "SELECT stage_counts FROM tag_vocabularies"))
    assert [s for s, _ in stages] == ["raw", "frequency", "rule", "semantic", "association"]
    assert stages[2][1] < stages[1][1]  # the responder's "Word"/"words" forms merge by rule

    top = json.loads(run(["tags", "list", "--top", "5", "--json"], env, tmp_path).stdout)
    assert top["vocabulary"] == 1 and len(top["tags"]) == 5
    page = tmp_path / "report.html"  # the report's tag section counts this vocabulary, and names it
    assert run(["report", "--output", str(page)], env, tmp_path).returncode == 0
    assert "Normalized tags of the vocabulary version 1" in page.read_text(encoding="utf-8")
    assert top["tags"][0]["tasks"] >= top["tags"][-1]["tasks"]

    scored = json.loads(run(["diversity", "--json"], env, tmp_path).stdout)
    groups = {(g["round"], g["origin"]): g for g in scored["groups"]}
    assert set(groups) == {(None, "seed"), (1, "machine")}
    assert groups[(None, "seed")]["tasks"] == 175
    assert groups[(1, "machine")]["baseline"]["tasks"] == groups[(1, "machine")]["tasks"]
    assert count(db, "SELECT count(*) FROM tag_metrics WHERE vocabulary_id = 1") == 2

    out = tmp_path / "subset.jsonl"
    chosen = run(["select", "--n", "20", "--strategy", "instag", "--output", str(out)], env, tmp_path)
    assert chosen.returncode == 0, chosen.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 20 and all(r["instances"] and r["tags"] for r in rows)
    assert len(rows[0]["tags"]) >= len(rows[-1]["tags"])  # complexity first
    random_out = tmp_path / "random.jsonl"
    assert run(["select", "--n", "20", "--strategy", "random", "--output", str(random_out)],
               env, tmp_path).returncode == 0
    assert len(random_out.read_text().splitlines()) == 20


def _scalar(db: Path, sql: str) -> str:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return str(conn.execute(sql).fetchone()[0])


def test_an_in_process_round_with_tag_ends_with_every_complete_task_tagged(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=6)) as server:
        env = cli_env(tmp_path, server)
        done = run(["generate", "-n", "4", "--tag"], env, tmp_path)
        assert done.returncode == 0, done.stderr
    db = tmp_path / "pool.db"
    complete = count(db, "SELECT count(*) FROM tasks WHERE status='complete' AND origin='machine'")
    assert complete >= 4
    assert count(db, "SELECT tag FROM rounds WHERE id = 1") == 1
    settled = ("SELECT count(*) FROM task_taggings t JOIN tasks k ON k.id = t.task_id "
               "WHERE k.origin = 'machine'")
    assert count(db, settled) == complete  # each complete task tagged (or its failure stored), once
    assert count(db, "SELECT count(*) FROM llm_requests WHERE stage='tag'") >= 1
    assert count(db, "SELECT count(*) FROM task_taggings t JOIN tasks k ON k.id = t.task_id "
                     "WHERE k.origin = 'seed'") == 0  # the round tags its own tasks, not the seeds


def test_a_round_without_tag_tags_nothing(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=6)) as server:
        assert run(["generate", "-n", "2"], cli_env(tmp_path, server), tmp_path).returncode == 0
    assert count(tmp_path / "pool.db", "SELECT count(*) FROM llm_requests WHERE stage='tag'") == 0
