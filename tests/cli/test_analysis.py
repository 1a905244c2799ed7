"""`selfinstruct quality`, `select --strategy quality` and `report` on a pool generated through the
scripted endpoint."""

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


LENGTH_REWARD = """
class LengthReward:
    name = "length-reward"

    def score(self, instruction, input, output):
        return float(len(output.split()))


def factory():
    return LengthReward()
"""


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_select_by_quality_refuses_without_scores_ranks_with_a_scorer_and_keeps_the_random_baseline(
    tmp_path: Path,
) -> None:
    out = tmp_path / "subset.jsonl"
    with ScriptedLLMServer(PlainCompletions(seed=6)) as server:
        env = cli_env(tmp_path, server)
        env["SELFINSTRUCT_INSTAG_EMBEDDER"] = "fake"  # the one Embedder seam, also for KNN-6
        assert run(["generate", "--instructions", "2"], env, tmp_path).returncode == 0
        assert run(["select", "--strategy", "quality", "--n", "5", "--output", str(out)], env,
                   tmp_path).returncode == 2  # nothing stored yet
        assert run(["quality", "--no-perplexity"], env, tmp_path).returncode == 0
        refused = run(["select", "--strategy", "quality", "--n", "5", "--output", str(out)], env, tmp_path)
        assert refused.returncode == 2 and "SELFINSTRUCT_REWARD_SCORER" in refused.stderr
        assert not out.exists()
        baseline = run(["select", "--n", "5", "--strategy", "random", "--seed", "3", "--output", str(out)],
                       env, tmp_path)
        assert baseline.returncode == 0, baseline.stderr
        rows = _jsonl(out)
        assert len(rows) == 5 and all(r["instances"] and r["tags"] == [] for r in rows)  # not tagged

        (tmp_path / "length_reward.py").write_text(LENGTH_REWARD, encoding="utf-8")
        env["SELFINSTRUCT_REWARD_SCORER"] = "length_reward:factory"
        assert run(["quality", "--no-perplexity"], env, tmp_path).returncode == 0
        ranked = run(["select", "--strategy", "quality", "--n", "5", "--output", str(out)], env, tmp_path)
        assert ranked.returncode == 0, ranked.stderr
    with sqlite3.connect(tmp_path / "pool.db") as conn:
        ranked_sql = "SELECT task_id FROM task_quality ORDER BY rule_score, task_id LIMIT 5"
        best = [i for (i,) in conn.execute(ranked_sql)]
        stamps = set(conn.execute("SELECT embedder, scorer FROM task_quality"))
    assert [r["id"] for r in _jsonl(out)] == best
    assert stamps == {("fake:256", "length-reward")}


def test_report_with_benepar_requested_but_not_configured_names_the_setting(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert run(["seeds", "load"], env, tmp_path).returncode == 0
    refused = run(["report", "--parser", "benepar", "--output", str(tmp_path / "r.html")], env, tmp_path)
    assert refused.returncode == 2 and "SELFINSTRUCT_BENEPAR_MODEL" in refused.stderr
    assert not (tmp_path / "r.html").exists()


def test_quality_with_an_unreachable_endpoint_stores_null_perplexity_with_the_reason(tmp_path: Path) -> None:
    with ScriptedLLMServer(PlainCompletions(seed=7)) as server:
        env = cli_env(tmp_path, server)
        assert run(["generate", "--instructions", "2"], env, tmp_path).returncode == 0
    env.update(SELFINSTRUCT_LLM_BASE_URL="http://127.0.0.1:9/v1", SELFINSTRUCT_INSTAG_EMBEDDER="fake")
    scored = run(["quality"], env, tmp_path)  # the endpoint is gone: asked once, then skipped
    assert scored.returncode == 0, scored.stderr
    with sqlite3.connect(tmp_path / "pool.db") as conn:
        rows = conn.execute("SELECT perplexity, perplexity_reason, knn6 FROM task_quality").fetchall()
    assert len(rows) >= 175 and all(ppl is None and knn is not None for ppl, _, knn in rows)
    assert {reason for _, reason, _ in rows} == {rows[0][1]} and "APIConnectionError" in rows[0][1]
