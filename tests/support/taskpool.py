"""A small hand-built pool (no LLM): tasks of every origin/status with requests, candidates and instances."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from generator.db.models import Candidate, Instance, LLMRequest, Pool, Rejection, Round, Task

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)

# (instruction, origin, status, is_classification, nearest_score, number of instances)
TASKS: list[tuple[str, str, str, bool | None, float | None, int]] = [
    ("Write a haiku about autumn.", "seed", "complete", False, None, 1),
    ("Is this review positive or negative?", "seed", "complete", True, None, 2),
    ("Compute 50% of the given number.", "machine", "complete", False, 0.31, 2),
    ("Rename the variable my_var to snake_case.", "machine", "complete", False, 0.42, 1),
    ("Explain what 100 percent means.", "machine", "no_instances", False, 0.12, 0),
    ("Robert'); DROP TABLE tasks;-- classify it", "machine", "pending_instances", True, 0.65, 0),
    ("Translate the sentence into French.", "machine", "pending_classification", None, 0.05, 0),
    ("List three uses of a paperclip.", "machine", "complete", False, 0.5, 3),
]


def build_pool(session: Session, name: str = "default") -> dict[str, int]:
    """Insert one pool with a round, a generation request, candidates and :data:`TASKS`; return ids."""
    pool = Pool(name=name, params={})
    session.add(pool)
    session.flush()
    rnd = Round(pool_id=pool.id, target=6, status="running", created_at=BASE_TIME)
    session.add(rnd)
    session.flush()
    machine = [t for t in TASKS if t[1] == "machine"]
    prompts = ["Tasks:\n1. Write a haiku about autumn.\n2. Is this review positive or negative?\n3."]
    response = "\n".join(f"{i}. {t[0]}" for i, t in enumerate(machine, 3))
    request = LLMRequest(
        pool_id=pool.id,
        round_id=rnd.id,
        stage="generate",
        model="tiny-model",
        api="completions",
        prompt=prompts[0],
        response=response,
        created_at=BASE_TIME,
    )
    session.add(request)
    session.flush()
    ids: dict[str, int] = {"pool": pool.id, "round": rnd.id, "request": request.id}
    for position, (text, origin, status, cls, near, n) in enumerate(TASKS):
        candidate_id = None
        if origin == "machine":
            candidate = Candidate(
                pool_id=pool.id,
                round_id=rnd.id,
                request_id=request.id,
                position=position,
                text=text,
                status="admitted",
            )
            session.add(candidate)
            session.flush()
            candidate_id = candidate.id
        task = Task(
            pool_id=pool.id,
            round_id=rnd.id if origin == "machine" else None,
            candidate_id=candidate_id,
            instruction=text,
            instruction_hash=f"{name}-{position}",
            origin=origin,
            status=status,
            is_classification=cls,
            nearest_score=near,
            created_at=BASE_TIME + timedelta(days=position),
        )
        session.add(task)
        session.flush()
        ids[text] = task.id
        for k in range(n):
            session.add(
                Instance(task_id=task.id, position=k, input="" if k == 0 else f"in {k}", output=f"out {k}")
            )
    return ids


def add_lineage(session: Session, ids: dict[str, int], text: str) -> None:
    """Store a classification and an instances request about the task, and one rejected instance."""
    task_id, pool_id, round_id = ids[text], ids["pool"], ids["round"]
    session.add(
        LLMRequest(
            pool_id=pool_id,
            round_id=round_id,
            stage="classify",
            model="tiny-model",
            api="completions",
            task_ids=[999, task_id],
            prompt=json.dumps(["other?", "this?"]),
            response=json.dumps([" Yes", " No"]),
            prompt_count=2,
        )
    )
    session.add(
        LLMRequest(
            pool_id=pool_id,
            round_id=round_id,
            stage="instances",
            model="tiny-model",
            api="completions",
            task_id=task_id,
            task_ids=[task_id],
            prompt="Give examples",
            response="Input: 3\nOutput: 1.5",
        )
    )
    session.add(
        Rejection(
            pool_id=pool_id,
            round_id=round_id,
            task_id=task_id,
            stage="instances",
            reason="instance_duplicate",
            text="Input: 3\nOutput: 1.5",
            detail="same as #1",
        )
    )
