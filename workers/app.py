"""The Celery app of the fleet, configured from the same ``SELFINSTRUCT_*`` settings as the CLI.

``celery -A workers.app worker`` and ``selfinstruct worker`` both start workers on this app.
Delivery is at-least-once: tasks are acknowledged late and rejected back to the queue when their
worker process dies; RabbitMQ requeues a dead consumer's unacknowledged messages as soon as its
connection drops, the Redis broker only after ``visibility_timeout_s`` (the leases of
:mod:`workers.leases` let a tick re-send such work after ``lease_s`` instead). Tasks are
idempotent (database keys and status guards), so a second delivery writes nothing twice.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init

from generator.errors import ConfigError
from generator.settings import Settings, load_settings
from workers.amqp import amqp_options, is_amqp
from workers.leases import require_redis
from workers.queues import CONTROL, DEFAULT_WORKER_QUEUES, QUEUES, TASK_ROUTES

__all__ = ["DEFAULT_WORKER_QUEUES", "QUEUES", "TASK_ROUTES", "celery_config", "make_app"]


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration derived from ``settings`` (see the module docstring for the why)."""
    visibility = settings.visibility_timeout_s
    return {
        "broker_url": settings.broker_url,
        # kombu's Redis transport with a reconnection race closed (see workers/broker.py).
        "broker_transport": "workers.broker:Transport"
        if (settings.broker_url or "").startswith(("redis://", "rediss://")) else None,
        "result_backend": settings.result_backend,
        # Results live in the database; a backend is optional and only for monitoring.
        "task_ignore_result": settings.result_backend is None,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One message per process at a time: an LLM task holds its slot for a whole request.
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings.task_time_limit_s,
        "task_soft_time_limit": max(settings.task_time_limit_s * 0.9, settings.task_time_limit_s - 30),
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # ride out a broker restart, however long
        "broker_channel_error_retry": True,
        "broker_transport_options": {
            "visibility_timeout": visibility,
            # Sweep for abandoned (unacknowledged) messages often enough for a small timeout.
            "unacked_restore_interval": max(1, min(10, int(visibility / 5))),
            "unacked_restore_throttle": 1,
        },
        # Queues are declared on first use from the routes (the tag queue only once InsTag sends to it).
        "task_default_queue": CONTROL,
        "beat_scheduler": "workers.schedule:Scheduler",  # writes beat's heartbeat (workers.stall)
        "task_routes": TASK_ROUTES,
        # A broker restart must not abort running tasks: they finish and commit (the database is
        # the truth); their acks are lost with the broker, and the next tick re-derives the rest.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_send_task_events": False,  # Flower turns events on remotely when it connects
        "task_send_sent_event": False,
        **(amqp_options(settings) if is_amqp(settings.broker_url) else {}),
    }


def make_app(settings: Settings) -> Celery:
    """A Celery app for ``settings``; the tasks of :mod:`workers.tasks` are registered by name."""
    from workers.schedule import beat_schedule

    app = Celery("selfinstruct", include=["workers.tasks"])
    app.conf.update(celery_config(settings), beat_schedule=beat_schedule(settings))
    return app


def _require_broker(**_: object) -> None:
    settings = load_settings()
    if settings.broker_url is None:
        raise ConfigError("SELFINSTRUCT_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    require_redis(settings)  # claims, leases and rate limits live there whatever the broker


worker_init.connect(_require_broker, weak=False)
beat_init.connect(_require_broker, weak=False)

app = make_app(load_settings())
