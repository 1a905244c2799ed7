"""The Redis broker transport, with one kombu race closed.

When Redis goes away, kombu closes the consumer's channel while pool processes are still
finishing tasks; acknowledging one of them (``acks_late``) then reaches a channel whose
connection is gone, and kombu fails with ``AttributeError: 'NoneType' object has no attribute
'hostname'`` (celery/kombu#582 and relatives) instead of a connection error. Celery only
shrugs off connection errors on ack, so the worker's consumer could die there and never
reconnect. This channel raises ``redis.ConnectionError`` in that case: the ack is logged as
lost, the message (unacknowledged) is redelivered after the visibility timeout if Redis kept
it, and the steps being idempotent, nothing is done twice.

Used when the broker URL is ``redis://`` or ``rediss://`` (:func:`workers.app.celery_config`).
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):  # type: ignore[misc]
    """kombu's Redis channel; connection parameters of a closed channel are a connection error."""

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("the broker connection of this channel is closed")
        params: dict[str, Any] = super()._connparams(asynchronous)  # type: ignore[no-untyped-call]
        return params


class Transport(kombu_redis.Transport):  # type: ignore[misc]
    """kombu's Redis transport with :class:`Channel`."""

    Channel = Channel
