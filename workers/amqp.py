"""Celery settings for a RabbitMQ broker (``SELFINSTRUCT_BROKER_URL=amqp://...``).

What RabbitMQ gives the fleet: a consumer's unacknowledged messages go back to the queue the
moment its connection drops (a worker killed with ``kill -9``, OOM-killed, its host rebooted
once heartbeats stop), so another worker takes them within a second; on Redis they wait for the
visibility timeout (the fleet's leases re-send the work after ``lease_s`` either way).

Choices (see the README's "Brokers"):

* Messages are persistent and the stage queues **classic durable** queues (Celery's default):
  they survive a broker restart on one node. Quorum queues replicate across a cluster, but
  Celery's countdowns (our retries) need its native delayed delivery on them; on a cluster,
  declare the queues as quorum queues with a policy and keep ``task_acks_late``.
* ``task_acks_late`` and prefetch 1 (set for every broker): a message is acknowledged when its
  task ended, and a process holds one message at a time.
* Publisher confirms: ``send_task`` returns once the broker has the message.
* Heartbeats every 30 s: a host that vanishes without closing its sockets is noticed within
  about a minute (a killed process closes them at once).
* RabbitMQ's ``consumer_timeout`` (default 30 min) must exceed the task time limit (default
  900 s) plus the longest retry countdown (120 s), or the broker closes the channel of a worker
  running a long task; raise it in rabbitmq.conf when raising ``SELFINSTRUCT_TASK_TIME_LIMIT_S``.
"""

from __future__ import annotations

import logging
from typing import Any

from generator.settings import Settings

log = logging.getLogger(__name__)
RABBITMQ_DEFAULT_CONSUMER_TIMEOUT_S = 1800.0
HEARTBEAT_S = 30


def is_amqp(url: str | None) -> bool:
    """True for a RabbitMQ (AMQP 0-9-1) broker URL."""
    return bool(url) and str(url).startswith(("amqp://", "amqps://", "pyamqp://"))


def amqp_options(settings: Settings) -> dict[str, Any]:
    """The Celery settings added for a RabbitMQ broker (see the module docstring)."""
    if settings.task_time_limit_s + 120 >= RABBITMQ_DEFAULT_CONSUMER_TIMEOUT_S:
        log.warning("SELFINSTRUCT_TASK_TIME_LIMIT_S=%s: make RabbitMQ's consumer_timeout longer than it "
                    "(the default is %d s)", settings.task_time_limit_s, RABBITMQ_DEFAULT_CONSUMER_TIMEOUT_S)
    return {
        "broker_heartbeat": HEARTBEAT_S,
        "broker_transport_options": {
            "confirm_publish": True,
            # Read by the retry backoff cap (tasks.RETRYING); RabbitMQ itself has no visibility timeout.
            "visibility_timeout": settings.visibility_timeout_s,
        },
        "task_default_delivery_mode": "persistent",
        "task_default_queue_type": "classic",
    }
