"""The Celery configuration, routes and schedule, without running a broker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery.schedules import crontab
from kombu import Connection
from sqlalchemy.exc import OperationalError

from generator.errors import ConfigError, TransientError
from generator.settings import load_settings
from generator.testing.services import REDIS_URL
from workers import tasks
from workers.app import QUEUES, TASK_ROUTES, celery_config, make_app
from workers.broker import Transport
from workers.queues import DEFAULT_WORKER_QUEUES
from workers.schedule import beat_schedule, read_schedule


def test_delivery_is_at_least_once_with_one_message_per_process() -> None:
    settings = load_settings(broker_url="redis://h:6379/0", visibility_timeout_s=42, task_time_limit_s=300)
    conf = celery_config(settings)
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    assert (conf["task_serializer"], conf["accept_content"]) == ("json", ["json"])
    assert conf["broker_transport_options"]["visibility_timeout"] == 42
    assert conf["task_time_limit"] == 300 and conf["task_soft_time_limit"] == 270
    assert conf["broker_connection_max_retries"] is None and conf["broker_connection_retry_on_startup"]
    assert conf["task_ignore_result"] is True  # results live in the database


def test_every_stage_has_its_own_queue_and_tagging_and_normalization_go_to_the_tag_queue() -> None:
    app = make_app(load_settings(broker_url="redis://h:6379/0"))
    app.loader.import_default_modules()
    queues = {name: route["queue"] for name, route in TASK_ROUTES.items()}
    assert queues["selfinstruct.generate"] == "generate" and queues["selfinstruct.admit"] == "admit"
    assert queues["selfinstruct.classify"] == "classify" and queues["selfinstruct.instances"] == "instances"
    assert set(queues.values()) == set(QUEUES) and set(DEFAULT_WORKER_QUEUES) == set(QUEUES)
    for name in ("selfinstruct.tag", "selfinstruct.normalize_tags"):
        assert app.amqp.router.route({}, name)["queue"].name == "tag", name
        assert name in tasks.app.tasks, name


def test_stage_tasks_retry_transient_errors_only() -> None:
    for name in ("generate", "admit", "classify", "instances", "tag", "normalize_tags"):
        task = tasks.app.tasks[f"selfinstruct.{name}"]
        assert task.autoretry_for == (TransientError, OperationalError), name
        assert task.retry_backoff and task.retry_jitter and task.max_retries == 8


def test_schedule_file_rounds_and_tick(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(
        "tick_s: 5\n"
        "rounds:\n"
        "  - {pool: main, every_minutes: 30, instructions: 200, until_pool_size: 50000}\n"
        "  - {cron: '0 3 * * 1', instructions: 50, budget_tokens: 100000, deadline_minutes: 45, tag: true}\n"
        "normalize:\n"
        "  - {pool: main, every_minutes: 360}\n"
        "  - {cron: '0 4 * * *'}\n"
    )
    entries = beat_schedule(load_settings(), path)
    tick = entries["selfinstruct-tick"]
    assert tick["schedule"] == 5 and tick["task"] == "selfinstruct.tick_all"
    every = entries["selfinstruct-round-0-main"]
    assert every["schedule"] == timedelta(minutes=30)
    assert every["kwargs"] == {"pool": "main", "instructions": 200, "until_pool_size": 50000,
                               "budget_tokens": None, "deadline_minutes": None, "steer": "none", "tag": False}
    weekly = entries["selfinstruct-round-1-default"]
    assert isinstance(weekly["schedule"], crontab) and weekly["schedule"].hour == {3}
    assert weekly["schedule"].day_of_week == {1} and weekly["kwargs"]["tag"] is True
    assert entries["selfinstruct-normalize-0-main"] == {
        "task": "selfinstruct.normalize_tags", "schedule": timedelta(minutes=360), "kwargs": {"pool": "main"}}
    nightly = entries["selfinstruct-normalize-1-default"]
    assert nightly["kwargs"] == {"pool": "default"} and nightly["schedule"].hour == {4}
    assert list(beat_schedule(load_settings(fleet_tick_s=7))) == ["selfinstruct-tick"]


@pytest.mark.parametrize(("body", "message"), [
    ("rounds:\n  - {every_minutes: 5}\n", "rounds.0.instructions"),
    ("rounds:\n  - {instructions: 5}\n", "exactly one of every_minutes or cron"),
    ("rounds:\n  - {instructions: 5, cron: '* *'}\n", "cron needs 5 fields"),
    ("normalize:\n  - {pool: main}\n", "exactly one of every_minutes or cron"),
    ("normalize:\n  - {every_minutes: 5, instructions: 3}\n", "normalize.0.instructions"),
    ("rounds:\n  - {instructions: 5, every_minutes: 5, tag: maybe}\n", "rounds.0.tag"),
    ("tick: 3\n", "tick"),
    ("rounds: [\n", "not YAML"),
])
def test_a_bad_schedule_file_names_the_problem(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message) as info:
        read_schedule(path)
    assert str(path) in str(info.value)


def test_a_redis_broker_uses_the_transport_whose_closed_channels_fail_as_connection_errors() -> None:
    assert celery_config(load_settings(broker_url="redis://h:6379/0"))["broker_transport"] == \
        "workers.broker:Transport"
    assert celery_config(load_settings(broker_url="amqp://h:5672//"))["broker_transport"] is None


@pytest.mark.services
def test_acknowledging_on_a_channel_whose_connection_closed_is_a_connection_error() -> None:
    """What a pool process finishing a task while Redis restarts runs into (see workers/broker.py)."""
    with Connection(f"{REDIS_URL}/0", transport=Transport) as connection:
        channel = connection.channel()
        assert channel._connparams()["host"]  # an open channel connects as kombu's would
        connection.transport.client = None  # what closing the broker connection leaves behind
        with pytest.raises(redis.ConnectionError):
            channel._connparams()
        with pytest.raises(connection.connection_errors):
            channel.basic_ack("a-delivery-tag")
