"""The fleet's command line: `generate` with a broker, `round start|status|cancel`, `selfinstruct worker`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from workers.harness import Fleet, fleet

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(180)]
SELFINSTRUCT = str(Path(sys.executable).parent / "selfinstruct")


def _cli(f: Fleet, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SELFINSTRUCT, *args], env=f.env, cwd=f.logdir, capture_output=True, text=True,
                          timeout=timeout_s)


def _status(f: Fleet, round_id: int) -> dict[str, object]:
    done = _cli(f, "round", "status", str(round_id), "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_generate_follows_a_fleet_round_and_rounds_are_started_inspected_cancelled(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=71), latency_s=0.05) as server, \
            fleet(tmp_path, server.base_url) as f:
        f.worker("w1", cli=True)  # `selfinstruct worker`
        f.worker("w2")
        f.wait_ready("w1", "w2")

        generated = _cli(f, "generate", "-n", "6")  # no beat: the command ticks the round itself
        assert generated.returncode == 0, generated.stderr
        assert "completed (target)" in generated.stderr and "admitted 6" in generated.stderr

        started = _cli(f, "round", "start", "-n", "400", "--json")
        assert started.returncode == 0, started.stderr
        round_id = int(json.loads(started.stdout)["id"])
        status = _status(f, round_id)
        assert (status["id"], status["status"], status["target"]) == (round_id, "running", 400)
        assert {"admitted", "rejected", "requests", "tokens", "cost_usd", "rate_per_min"} <= set(status)
        # No beat runs here: `round start` warns, and the status says what a stall would need.
        assert "no beat has ever ticked" in started.stderr, started.stderr
        assert {"pending", "oldest_pending_s", "leases", "beat_age_s", "diagnosis"} <= set(status)
        assert status["beat_age_s"] is None and set(status["pending"]) == {  # type: ignore[arg-type]
            "generate", "admit", "classify", "instances"}
        time.sleep(1.0)

        cancelled = _cli(f, "round", "cancel", str(round_id))
        assert cancelled.returncode == 0, cancelled.stderr
        time.sleep(1.5)  # requests already in flight finish (their rows are kept)
        settled = f.counts(round_id).requests
        time.sleep(2.0)
        assert f.counts(round_id).requests == settled  # nothing new is sent for a cancelled round
        assert (_status(f, round_id)["status"], f.counts(round_id).end_reason) == ("cancelled", "cancelled")

        again = _cli(f, "round", "cancel", str(round_id))
        assert again.returncode == 2 and "not running" in again.stderr
        missing = _cli(f, "round", "status", "99999")
        assert missing.returncode == 2 and "no round" in missing.stderr

        late = _cli(f, "round", "start", "-n", "5", "--deadline", "2000-01-01T00:00:00+00:00", "--json")
        late_id = int(json.loads(late.stdout)["id"])
        counts = f.wait_round(late_id, timeout_s=30)
        assert (counts.status, counts.end_reason) == ("completed", "deadline")
        bad = _cli(f, "round", "start", "-n", "5", "--deadline", "tomorrow")
        assert bad.returncode == 2 and "ISO 8601" in bad.stderr
