"""Fleet rounds with tagging on (InsTag): real workers, beat, Redis and PostgreSQL, a scripted endpoint.

A round started with ``tag=True`` tags each task once it is complete, on the ``tag`` queue; it is
done only when every complete task has a tagging (tags, or a failure stored with the raw text).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import LLMRequest, Round, TagVocabulary, Task, TaskTag, TaskTagging
from generator.instag.prompts import TAG_MARKERS
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.fleet.invariants import assert_admission_exact, assert_no_duplicate_rows, assert_round_completed
from workers.harness import Fleet, fleet

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(240)]

REFUSAL = " I would rather not say."
STAGES = "generate,admit,classify,instances,control"


class TagResponder:
    """The scripted model; tag prompts get a think time, a gate that holds them while closed, and one
    query in five never gets JSON (so failures are stored). Counts tag prompts in flight."""

    def __init__(self, seed: int, tag_latency_s: float = 0.0) -> None:
        self.inner = SelfInstructResponder(seed=seed, near_duplicate_rate=0.1)
        self.tag_latency_s = tag_latency_s
        self.gate = threading.Event()
        self.gate.set()
        self.inflight = 0
        self._lock = threading.Lock()

    @staticmethod
    def refuses(prompt: str) -> bool:
        query = prompt.rsplit("Query:", 1)[-1]
        return int(hashlib.sha256(query.encode()).hexdigest(), 16) % 5 == 0

    def __call__(self, prompt: str) -> str:
        if not any(marker in prompt for marker in TAG_MARKERS):
            return self.inner(prompt)
        with self._lock:
            self.inflight += 1
        try:
            time.sleep(self.tag_latency_s)
            self.gate.wait(timeout=60)
            return REFUSAL if self.refuses(prompt) else self.inner(prompt)
        finally:
            with self._lock:
                self.inflight -= 1


def assert_tagged_exactly_once(session: Session, round_id: int) -> tuple[int, int]:
    """Every complete task of the round has one tagging; tags only for tagged ones, each written once
    (one request per task's tags); failures keep the raw answer. Returns (tagged, failed)."""
    complete = set(session.scalars(
        select(Task.id).where(Task.round_id == round_id, Task.status == "complete")))
    taggings = session.scalars(select(TaskTagging).join(Task, Task.id == TaskTagging.task_id)
                               .where(Task.round_id == round_id)).all()
    assert sorted(t.task_id for t in taggings) == sorted(complete)
    per_task = dict(session.execute(
        select(TaskTag.task_id, func.count(func.distinct(TaskTag.request_id))).group_by(TaskTag.task_id)
    ).all())
    positions = session.execute(
        select(TaskTag.task_id, TaskTag.position, func.count()).group_by(TaskTag.task_id, TaskTag.position)
        .having(func.count() > 1)
    ).all()
    assert positions == []
    tagged = [t for t in taggings if t.status == "tagged"]
    failed = [t for t in taggings if t.status == "failed"]
    assert all(per_task.get(t.task_id) == 1 for t in tagged), per_task
    assert all(t.task_id not in per_task for t in failed)
    assert all((f.failure_reason, f.raw, f.attempts) == ("not_json", REFUSAL, 2) for f in failed)
    return len(tagged), len(failed)


def test_a_fleet_round_with_tagging_on_is_done_only_once_every_complete_task_is_tagged(
    tmp_path: Path,
) -> None:
    responder = TagResponder(seed=21)
    with ScriptedLLMServer(responder, latency_s=0.02) as server, \
            fleet(tmp_path, server.base_url, llm_prompts_per_request=4) as f:
        f.worker("w1", concurrency=2)
        f.beat()
        f.wait_ready("w1")
        round_id = f.start_round(16, tag=True)
        counts = f.wait_round(round_id, timeout_s=150)
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 16)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
            tagged, failed = assert_tagged_exactly_once(session, round_id)
            rnd = session.get_one(Round, round_id)
            last_tagging = session.scalar(select(func.max(TaskTagging.created_at)))
            tag_requests = session.scalar(select(func.count()).where(
                LLMRequest.stage == "tag", LLMRequest.round_id == round_id))
    assert counts.complete == 16 and rnd.tag
    assert tagged + failed == 16 and failed >= 1 and tagged >= 8, (tagged, failed)
    assert last_tagging is not None and rnd.finished_at is not None and last_tagging <= rnd.finished_at
    # Batched 4 per request; each failure is asked once more.
    assert 4 <= (tag_requests or 0) <= 16 + failed, tag_requests


def test_a_tagging_worker_killed_mid_round_loses_nothing_and_tags_nothing_twice(tmp_path: Path) -> None:
    responder = TagResponder(seed=23, tag_latency_s=0.2)
    with ScriptedLLMServer(responder, latency_s=0.02) as server, \
            fleet(tmp_path, server.base_url, llm_prompts_per_request=2, lease_s=3) as f:
        f.worker("w1", concurrency=2, queues=STAGES)
        f.worker("t1", concurrency=2, queues="tag")
        f.beat()
        f.wait_ready("w1", "t1")
        round_id = f.start_round(14, tag=True)
        deadline = time.monotonic() + 90
        while _taggings(f, round_id) < 2:
            assert time.monotonic() < deadline, f.logs_tail()
            time.sleep(0.1)
        responder.gate.clear()  # hold tag answers until both of t1's processes wait inside a request...
        while responder.inflight < 2:
            assert time.monotonic() < deadline, f"t1 never had two tag requests in flight\n{f.logs_tail()}"
            time.sleep(0.01)
        f.kill("t1")  # ...so t1 dies mid-request
        responder.gate.set()
        killed_at = _taggings(f, round_id)
        f.worker("t2", concurrency=1, queues="tag")
        counts = f.wait_round(round_id, timeout_s=150)
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 14)
            assert_no_duplicate_rows(session)
            tagged, failed = assert_tagged_exactly_once(session, round_id)
    assert killed_at < 14 and counts.complete == 14 and tagged + failed == 14
    assert "Task selfinstruct.tag" in f.log("t2"), f.logs_tail()


def test_a_scheduled_normalization_makes_a_new_vocabulary_version_only_when_tasks_were_tagged(
    tmp_path: Path,
) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("normalize:\n  - {pool: default, every_minutes: 0.02}\n")
    with ScriptedLLMServer(TagResponder(seed=25), latency_s=0.02) as server, \
            fleet(tmp_path, server.base_url, schedule_file=schedule, instag_embedder="fake") as f:
        f.worker("w1", concurrency=2)
        f.beat()
        f.wait_ready("w1")
        round_id = f.start_round(8, tag=True)
        f.wait_round(round_id, timeout_s=120)
        with f.wc.sessions() as session:
            tagged = session.scalar(select(func.count()).where(TaskTagging.status == "tagged"))
        deadline = time.monotonic() + 60
        while ((versions := _versions(f)) and versions[-1] < (tagged or 0)) or not versions:
            assert time.monotonic() < deadline, f"no vocabulary of all {tagged} tagged tasks\n{f.logs_tail()}"
            time.sleep(0.2)
        time.sleep(3)  # a few more scheduled runs: nothing new was tagged, so nothing is stored
        final = _versions(f)
    assert final == sorted(set(final)) and final[-1] == tagged, (final, tagged)
    assert "no task tagged since the latest vocabulary" in f.log("w1"), f.logs_tail()


def _taggings(f: Fleet, round_id: int) -> int:
    with f.wc.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(TaskTagging).join(
            Task, Task.id == TaskTagging.task_id).where(Task.round_id == round_id)) or 0)


def _versions(f: Fleet) -> list[int]:
    """The tagged-task count of each stored vocabulary version, oldest first."""
    with f.wc.sessions() as session:
        return list(session.scalars(select(TagVocabulary.tasks).order_by(TagVocabulary.id)))


def test_round_start_with_tag_stores_the_flag_and_round_status_lists_tagging_as_a_stage(
    tmp_path: Path,
) -> None:
    selfinstruct = str(Path(sys.executable).parent / "selfinstruct")
    with ScriptedLLMServer(TagResponder(seed=27)) as server, fleet(tmp_path, server.base_url) as f:
        commands = (["round", "start", "-n", "3", "--json"],
                    ["round", "start", "-n", "3", "--tag", "--json", "--pool", "b"])
        runs = [subprocess.run([selfinstruct, *args], env=f.env, cwd=f.logdir, capture_output=True, text=True,
                               timeout=120) for args in commands]
        assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
        plain, tagging = (int(json.loads(r.stdout)["id"]) for r in runs)
        status = subprocess.run([selfinstruct, "round", "status", str(tagging), "--json"], env=f.env,
                                capture_output=True, text=True, timeout=120)
        with f.wc.sessions() as session:
            flags = {r.id: r.tag for r in session.scalars(select(Round))}
    assert flags == {plain: False, tagging: True}
    assert status.returncode == 0 and json.loads(status.stdout)["pending"]["tag"] == 0, status.stderr
