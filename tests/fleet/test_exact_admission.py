"""Exact admission under concurrency: 4 workers, admit messages racing, near-duplicates on purpose.

Mechanism under test (workers/control.py): each admission runs in one PostgreSQL transaction
that takes the pool's advisory lock, refreshes the process's index with tasks committed since,
then judges the pending candidates. Two rounds run at once on one pool, so admitters work on
disjoint candidates (the unique keys cannot serialize them; only the lock can). Every answer of
the scripted model ends with one member of each of two "hot" families whose members are pairwise
ROUGE-L ~0.92: whatever the interleaving, sequential admission admits exactly one member per
family, so any race would show up as two. (Without the lock this test fails: checked by hand.)
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from generator.db.models import Rejection, Task
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.fleet.invariants import assert_admission_exact, assert_no_duplicate_rows, assert_round_completed
from workers.harness import fleet

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(180)]

TOPICS = ("river", "harbor", "garden", "market", "castle", "desert", "forest", "valley", "comet", "violin",
          "bakery", "glacier", "orchard", "theater", "museum", "library", "island", "canyon", "tunnel",
          "bridge")
FAMILIES = (
    "Summarize the main ideas of the {} chapter for a busy student in plain words.",
    "Suggest three practical ways to keep the {} clean during a crowded summer weekend.",
)


class CollidingResponder(SelfInstructResponder):
    """Replaces the last two items of every instruction list with members of the two hot families."""

    def _continue_list(self, prompt: str) -> str:
        lines = super()._continue_list(prompt).split("\n")
        for back, family in enumerate(FAMILIES, start=1):
            if back >= len(lines):
                break  # keep the first line: it continues the prompt's own number
            number = lines[-back].split(".", 1)[0]
            lines[-back] = f"{number}. {family.format(self._rng.choice(TOPICS))}"
        return "\n".join(lines)


def _family(instruction: str) -> int | None:
    for number, family in enumerate(FAMILIES):
        head, tail = family.split("{}")
        if instruction.startswith(head) and instruction.endswith(tail):
            return number
    return None


def test_four_workers_admit_exactly_what_a_sequential_order_would(tmp_path: Path) -> None:
    responder = CollidingResponder(seed=21, items_per_answer=6)
    with ScriptedLLMServer(responder, latency_s=0.02) as server, \
            fleet(tmp_path, server.base_url, fleet_inflight=8, llm_prompts_per_request=4) as f:
        for name in ("w1", "w2", "w3", "w4"):
            f.worker(name, concurrency=2)
        f.wait_ready("w1", "w2", "w3", "w4")
        rounds = [f.start_round(15), f.start_round(15)]
        stop, waiting = threading.Event(), [0]

        def race_admissions() -> None:
            """Extra admit messages (past the claims), so several admitters run at once; watch them queue."""
            with f.wc.sessions() as session:
                while not stop.is_set():
                    for round_id in rounds * 2:
                        f.wc.app.send_task("selfinstruct.admit", args=[round_id])
                    blocked = session.scalar(text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
                    session.rollback()
                    waiting[0] = max(waiting[0], int(blocked or 0))
                    time.sleep(0.03)

        racer = threading.Thread(target=race_admissions, daemon=True)
        racer.start()
        try:
            for round_id in rounds:
                f.wait_round(round_id, timeout_s=120)
        finally:
            stop.set()
            racer.join(timeout=10)
        with f.wc.sessions() as session:
            for round_id in rounds:
                assert_round_completed(session, round_id, 15)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
            machine = session.scalars(select(Task.instruction).where(Task.origin == "machine")).all()
            per_family = [sum(1 for t in machine if _family(t) == n) for n in range(len(FAMILIES))]
            turned_away = [r for r, t in session.execute(select(Rejection.reason, Rejection.text)).all()
                           if _family(t) is not None]
    assert per_family == [1, 1], per_family  # sequential admission keeps exactly the first of each family
    # The race was real: many family members reached admission, all turned away as too similar.
    assert len(turned_away) >= 8 and set(turned_away) == {"too_similar"}, turned_away
    assert waiting[0] >= 1, "no two admissions ever contended for the pool lock"
