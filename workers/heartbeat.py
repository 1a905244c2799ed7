"""The heartbeat of a worker process: one thread renewing the leases of the tasks it runs.

The thread runs beside the tasks (an LLM call in flight does not stop it) and renews every
held lease each ``lease_s / 3``, so a lease outlives two missed beats; when the process dies
(``kill -9``, OOM, a lost machine) or stops (``SIGSTOP``), renewals stop and its leases expire.
A lease found taken over by another message (this process was too slow) is logged and dropped:
this task's writes may still land, and the status guards then decide whose count.
:func:`leased` and :func:`ticket_leased` are what the stage tasks use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import redis

from workers.leases import PREFIX, LeaseStore

log = logging.getLogger(__name__)
# A failed task's items stay claimed for its retry's countdown (tasks.RETRYING caps it at 120 s).
RETRY_GRACE_S = 150.0
TAKEN_OVER = "%s leases of %s taken over meanwhile (this worker was too slow): %s"


@dataclass(eq=False)
class Held:
    """Leases one running message holds: ``ids`` of ``kind`` (``generate``: ``ids`` = [ticket])."""

    round_id: int
    kind: str
    ids: list[int]
    token: str
    lost: list[int] = field(default_factory=list)


class Heartbeat:
    """The renewing thread of one process; started on first use, again after a fork."""

    def __init__(self, store: LeaseStore) -> None:
        self.store = store
        self._held: set[Held] = set()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._stop = threading.Event()

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():  # threads do not survive a fork (prefork pool children)
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="lease-heartbeat", daemon=True).start()

    @contextlib.contextmanager
    def holding(self, held: Held) -> Iterator[Held]:
        """Renew ``held`` until the block ends."""
        with self._lock:
            self._ensure_thread()
            self._held.add(held)
        try:
            yield held
        finally:
            with self._lock:
                self._held.discard(held)

    def beat(self) -> None:
        """Renew every held lease once (the thread calls this every ``lease_s / 3``)."""
        with self._lock:
            held = list(self._held)
        for item in held:
            try:
                if item.kind == "generate":
                    kept = item.ids if self.store.hold_ticket(item.round_id, item.ids[0]) else []
                else:
                    kept = self.store.renew(item.round_id, item.kind, item.ids, item.token)
            except redis.RedisError as exc:
                log.warning("lease renewal failed (retried next beat): %s", exc)
                continue
            lost = [i for i in item.ids if i not in kept]
            if lost:
                log.warning(TAKEN_OVER, item.kind, item.token, lost)
                item.lost.extend(lost)
                item.ids = kept

    def _run(self) -> None:
        while not self._stop.wait(self.store.renew_every_s):
            self.beat()


_beats: dict[int, Heartbeat] = {}
_guard = threading.Lock()


def heartbeat(store: LeaseStore) -> Heartbeat:
    """The process's heartbeat for ``store`` (one per store object)."""
    with _guard:
        return _beats.setdefault(id(store), Heartbeat(store))


@contextlib.contextmanager
def leased(store: LeaseStore, round_id: int, kind: str, ids: list[int], token: str) -> Iterator[list[int]]:
    """Lease ``ids`` for message ``token`` while the block runs; yields the ids won (skip the rest).

    On success the leases are dropped; on an exception they turn back into queued claims for
    ``RETRY_GRACE_S`` (the retry keeps the token; a failure for good releases them, see tasks).
    Without Redis the block runs on all ids, unleased: the status guards keep that safe.
    """
    try:
        got = store.acquire(round_id, kind, ids, token)
    except redis.RedisError as exc:
        log.warning("no leases for %s %s (Redis: %s): working unleased", kind, ids, exc)
        yield ids
        return
    if got.queue_wait_s is not None:
        note_queue_wait(store, kind, got.queue_wait_s)
    if len(got.ids) < len(ids):
        log.info("%s %s: leased by another message, skipped", kind, sorted(set(ids) - set(got.ids)))
    try:
        with heartbeat(store).holding(Held(round_id, kind, got.ids, token)) as held:
            yield held.ids
    except BaseException:
        with contextlib.suppress(redis.RedisError):
            store.release(round_id, kind, got.ids, token, requeue_s=RETRY_GRACE_S)
        raise
    with contextlib.suppress(redis.RedisError):
        if lost := sorted(set(store.release(round_id, kind, got.ids, token)) - set(held.lost)):
            log.warning(TAKEN_OVER, kind, token, lost)


@contextlib.contextmanager
def ticket_leased(store: LeaseStore, round_id: int, ticket: int | None, token: str) -> Iterator[bool]:
    """Lease a generate ticket while the block runs; yields False if the ticket expired meanwhile
    (a tick has sent a replacement: the caller skips the request). The caller releases the ticket."""
    if ticket is None:  # a message from an older sender
        yield True
        return
    try:
        live = store.hold_ticket(round_id, ticket)
    except redis.RedisError as exc:
        log.warning("no lease for generate ticket %s (Redis: %s): working unleased", ticket, exc)
        yield True
        return
    if not live:
        yield False
        return
    with heartbeat(store).holding(Held(round_id, "generate", [ticket], token)):
        yield True


def note_queue_wait(store: LeaseStore, kind: str, wait_s: float) -> None:
    """Remember how long the latest message of ``kind`` waited in its queue (for ``round status``)."""
    with contextlib.suppress(redis.RedisError):
        store.redis.set(f"{PREFIX}queue-wait:{kind}", f"{wait_s:.3f}", ex=86400)
