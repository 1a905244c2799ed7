"""The fleet's queues and task routes: the one definition, importable without Celery, kombu or Redis.

The CLI reads :data:`DEFAULT_WORKER_QUEUES` for ``selfinstruct worker --queues``; :mod:`workers.app`
configures Celery's routing from :data:`TASK_ROUTES`.
"""

from __future__ import annotations

# One queue per stage, so each can get its own workers (--queues) and be watched on its own.
GENERATE, ADMIT, CLASSIFY, INSTANCES = "generate", "admit", "classify", "instances"
TAG, CONTROL = "tag", "control"
QUEUES = (GENERATE, ADMIT, CLASSIFY, INSTANCES, TAG, CONTROL)
# What a worker consumes by default: every queue.
DEFAULT_WORKER_QUEUES = QUEUES
TASK_ROUTES: dict[str, dict[str, str]] = {
    "selfinstruct.generate": {"queue": GENERATE},
    "selfinstruct.admit": {"queue": ADMIT},
    "selfinstruct.classify": {"queue": CLASSIFY},
    "selfinstruct.instances": {"queue": INSTANCES},
    "selfinstruct.tag": {"queue": TAG},               # InsTag tagging of a round's complete tasks
    "selfinstruct.normalize_tags": {"queue": TAG},    # scheduled re-normalization (CPU: embeddings)
    "selfinstruct.tick*": {"queue": CONTROL},
    "selfinstruct.start_scheduled_round": {"queue": CONTROL},
}
