"""The Celery configuration for a RabbitMQ broker, without running one."""

from __future__ import annotations

from generator.settings import load_settings
from workers.app import celery_config

AMQP = "amqp://guest:guest@127.0.0.1:5672//"


def test_a_rabbitmq_broker_gets_confirms_heartbeats_and_durable_classic_queues_with_late_acks() -> None:
    conf = celery_config(load_settings(broker_url=AMQP, redis_url="redis://r:6379/0"))
    assert conf["broker_transport"] is None  # kombu's own amqp transport, not the patched Redis one
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["broker_transport_options"]["confirm_publish"] is True
    assert "unacked_restore_interval" not in conf["broker_transport_options"]  # a Redis-only option
    assert conf["broker_heartbeat"] == 30
    assert (conf["task_default_queue_type"], conf["task_default_delivery_mode"]) == ("classic", "persistent")


def test_beat_runs_the_scheduler_that_writes_its_heartbeat_on_either_broker() -> None:
    for url in ("redis://h:6379/0", AMQP):
        conf = celery_config(load_settings(broker_url=url, redis_url="redis://r:6379/0"))
        assert conf["beat_scheduler"] == "workers.schedule:Scheduler"
    assert "broker_heartbeat" not in celery_config(load_settings(broker_url="redis://h:6379/0"))
