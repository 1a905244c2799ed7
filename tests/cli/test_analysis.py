"""`selfinstruct quality`, `quality select` and `report` on a pool generated through the scripted endpoint."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from generator.analysis.perplexity import NO_LOGPROBS
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.cli.test_commands import cli_env, run

pytestmark = pytest.mark.slow


class PlainCompletions(SelfInstructResponder):
    """The pipeline's responder; any other prompt (the perplexity probe) gets a plain completion."""

    def __call__(self, prompt: str) -> str:
        try:
            return super().__call__(prompt)
        except ValueError:
            return " fine."


def test_quality_stores_indicators_and_report_renders_every_section(tmp_path: Path) -> None:
    with ScriptedLLMServer(PlainCompletions(seed=5, near_duplicate_rate=0.3)) as server:
        env = cli_env(tmp_path, server)
        generated = run(["generate", "--instructions", "6"], env, tmp_path)
        assert generated.returncode == 0, generated.stderr
        quality = run(["quality"], env, tmp_path)
        assert quality.returncode == 0, quality.stderr

    with sqlite3.connect(tmp_path / "pool.db") as conn:
        rows = conn.execute(
            "SELECT q.knn6, q.mtld, q.perplexity, q.perplexity_reason, q.reward, q.rule_score, "
            "q.output_length "
            "FROM task_quality q JOIN tasks t ON t.id = q.task_id"
        ).fetchall()
        with_instances = conn.execute("SELECT count(DISTINCT task_id) FROM instances").fetchone()[0]
    assert len(rows) == with_instances >= 175 + 6
    assert all(knn is not None and knn >= 0 for knn, *_ in rows)
    assert all(
        ppl is None and reason == NO_LOGPROBS for _, _, ppl, reason, *_ in rows
    )  # the double gives none
    assert all(reward is None and rule is None for *_, reward, rule, _ in rows)  # no reward scorer: null
    assert any(mtld is not None for _, mtld, *_ in rows)

    page_path = tmp_path / "out" / "report.html"
    reported = run(["report", "--output", str(page_path)], env, tmp_path)
    assert reported.returncode == 0, reported.stderr
    page = page_path.read_text(encoding="utf-8")
    for section in ("summary", "funnel", "rounds", "structure", "lengths", "tags", "quality", "similar"):
        assert f'<section id="{section}">' in page
    for figure in ("fig-funnel", "fig-rounds", "fig-sunburst", "fig-hist-0", "fig-quality-0"):
        assert f'id="{figure}"' in page
    assert "This pool has no InsTag tags yet." in page
    assert "SELFINSTRUCT_BENEPAR_MODEL" in page  # the parse says benepar is off, and how to turn it on
    assert "no reward scorer configured" in page


def test_quality_select_refuses_without_scores_and_gives_the_random_baseline(tmp_path: Path) -> None:
    with ScriptedLLMServer(PlainCompletions(seed=6)) as server:
        env = cli_env(tmp_path, server)
        assert run(["generate", "--instructions", "2"], env, tmp_path).returncode == 0
        assert run(["quality", "--no-perplexity"], env, tmp_path).returncode == 0
    refused = run(["quality", "select", "--n", "5"], env, tmp_path)
    assert refused.returncode == 2 and "SELFINSTRUCT_REWARD_SCORER" in refused.stderr
    baseline = run(["quality", "select", "--n", "5", "--strategy", "random", "--seed", "3"], env, tmp_path)
    assert baseline.returncode == 0, baseline.stderr
    chosen = json.loads(baseline.stdout)
    assert chosen["strategy"] == "random" and len(chosen["task_ids"]) == 5


def test_report_with_benepar_requested_but_not_configured_names_the_setting(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert run(["seeds", "load"], env, tmp_path).returncode == 0
    refused = run(["report", "--parser", "benepar", "--output", str(tmp_path / "r.html")], env, tmp_path)
    assert refused.returncode == 2 and "SELFINSTRUCT_BENEPAR_MODEL" in refused.stderr
    assert not (tmp_path / "r.html").exists()
