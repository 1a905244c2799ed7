"""Claims, leases and tickets against a real Redis: who may send, who works, whose records are touched."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from generator.db.pending import PendingWork, StagePending
from generator.errors import ConfigError
from generator.settings import load_settings
from generator.testing.services import REDIS_URL
from workers.heartbeat import Heartbeat, Held, leased, ticket_leased
from workers.leases import LeaseStore, require_redis
from workers.stall import LeaseCounts, diagnosis, lease_counts

pytestmark = pytest.mark.services


@pytest.fixture
def store() -> Iterator[LeaseStore]:
    client = redis.Redis.from_url(f"{REDIS_URL}/0")
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running")
    leases = LeaseStore(client, lease_s=1.0, queue_wait_s=2.0)
    yield leases
    client.close()


def _round() -> int:
    return int(uuid.uuid4().int % 10**9) + 10**9  # task and round ids no other test uses


def test_only_one_sender_claims_an_item_and_its_queued_claim_expires_after_the_queue_wait(
        store: LeaseStore) -> None:
    round_id = _round()
    assert store.claim(round_id, "classify", [round_id, round_id + 1], "a") == [True, True]
    assert store.claim(round_id, "classify", [round_id], "b") == [False]
    time.sleep(2.1)
    assert store.claim(round_id, "classify", [round_id], "b") == [True]


def test_a_started_message_turns_its_claims_into_leases_and_skips_items_another_runner_leases(
        store: LeaseStore) -> None:
    round_id = _round()
    store.claim(round_id, "classify", [round_id, round_id + 1], "a")
    got = store.acquire(round_id, "classify", [round_id, round_id + 1], "a")
    assert got.ids == [round_id, round_id + 1] and got.queue_wait_s is not None and got.queue_wait_s < 1
    assert store.acquire(round_id, "classify", [round_id], "dup").ids == []  # leased by a live runner
    assert store.acquire(round_id, "classify", [round_id], "a").ids == [round_id]  # a redelivery of "a"
    assert store.claim(round_id, "classify", [round_id], "tick") == [False]  # no re-send while leased


def test_a_lease_that_is_not_renewed_expires_and_the_work_may_be_sent_again(store: LeaseStore) -> None:
    round_id = _round()
    store.acquire(round_id, "instances", [round_id], "slow")
    assert lease_counts(store, round_id).held == 1
    time.sleep(1.1)
    counts = lease_counts(store, round_id)
    assert (counts.held, counts.expired) == (0, 1) and (counts.oldest_expired_s or 0) > 0
    assert store.claim(round_id, "instances", [round_id], "tick") == [True]  # replaces the expired lease
    assert lease_counts(store, round_id).expired == 0
    assert store.acquire(round_id, "instances", [round_id], "resent").ids == [round_id]
    # The slow runner is back: it can neither renew nor release the re-sent message's lease.
    assert store.renew(round_id, "instances", [round_id], "slow") == []
    assert store.release(round_id, "instances", [round_id], "slow") == [round_id]  # not its own any more
    assert store.redis.get(store.claim_key("instances", round_id)) == b"l:resent"


def test_the_heartbeat_keeps_a_lease_alive_and_reports_one_taken_over(store: LeaseStore) -> None:
    round_id = _round()
    beat = Heartbeat(store)
    with leased(store, round_id, "classify", [round_id, round_id + 1], "me") as ids:
        assert ids == [round_id, round_id + 1]
        for _ in range(4):  # 2 s of work on a 1 s lease, renewed every 1/3 s
            time.sleep(0.5)
        assert store.renew(round_id, "classify", ids, "me") == ids  # the process heartbeat kept both
        store.redis.set(store.claim_key("classify", round_id + 1), "l:other", px=5000)
        with beat.holding(held := _held(round_id, ids)):
            beat.beat()
        assert held.lost == [round_id + 1] and held.ids == [round_id]
    assert store.redis.get(store.claim_key("classify", round_id)) is None  # released on success
    assert store.redis.get(store.claim_key("classify", round_id + 1)) == b"l:other"


def _held(round_id: int, ids: list[int]) -> Held:
    return Held(round_id, "classify", list(ids), "me")


def test_a_failed_message_leaves_its_items_claimed_for_its_retry(store: LeaseStore) -> None:
    round_id = _round()
    with pytest.raises(RuntimeError), leased(store, round_id, "classify", [round_id], "retrying"):
        raise RuntimeError("endpoint down")
    assert store.claim(round_id, "classify", [round_id], "tick") == [False]
    assert store.acquire(round_id, "classify", [round_id], "retrying").ids == [round_id]  # the retry


def test_a_generate_message_whose_ticket_expired_is_skipped(store: LeaseStore) -> None:
    round_id = _round()
    first, second = store.take_tickets(round_id, 2)
    assert store.take_tickets(round_id, 2) == [] and store.inflight(round_id) == 2
    with ticket_leased(store, round_id, first, "g1") as live:
        assert live
    time.sleep(2.1)  # the second waited in its queue longer than queue_wait_s: replaced
    assert len(store.take_tickets(round_id, 2)) == 2
    with ticket_leased(store, round_id, second, "g2") as live:
        assert not live


def test_a_rabbitmq_broker_without_redis_names_the_missing_setting() -> None:
    with pytest.raises(ConfigError, match="SELFINSTRUCT_REDIS_URL"):
        require_redis(load_settings(broker_url="amqp://guest:guest@127.0.0.1:5672//"))
    assert require_redis(load_settings(broker_url="amqp://h//", redis_url="redis://r:1/0")) == "redis://r:1/0"


def test_the_diagnosis_tells_a_stalled_round_from_a_slow_one() -> None:
    waiting = PendingWork([StagePending("classify", 3, 400.0)], last_request_s=300.0)
    idle, working = LeaseCounts(0, 0, None, 0), LeaseCounts(2, 0, None, 1)
    assert diagnosis("running", waiting, idle, None, None, 10).startswith("stalled: no tick has run and no")
    assert "no worker consumes the control queue" in diagnosis("running", waiting, idle, 2.0, 100.0, 10)
    dead = LeaseCounts(0, 2, 45.0, 0)
    assert "2 leases expired 45 s ago" in diagnosis("running", waiting, dead, 2.0, 5.0, 10)
    assert diagnosis("running", waiting, working, 2.0, 5.0, 10).startswith("working: 2 leases")
    assert diagnosis("running", waiting, idle, 2.0, 5.0, 10).startswith("waiting")
    assert diagnosis("completed", waiting, idle, None, None, 10) == "ended (completed)"
