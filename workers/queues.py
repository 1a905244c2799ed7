"""The fleet's queues and task routes: the one definition, importable without Celery, kombu or Redis.

The CLI reads :data:`DEFAULT_WORKER_QUEUES` for ``selfinstruct worker --queues``; :mod:`workers.app`
configures Celery's routing from :data:`TASK_ROUTES`.
"""

from __future__ import annotations

# One queue per stage, so each can get its own workers (--queues) and be watched on its own.
GENERATE, ADMIT, CLASSIFY, INSTANCES = "generate", "admit", "classify", "instances"
TAG, CONTROL = "tag", "control"
QUEUES = (GENERATE, ADMIT, CLASSIFY, INSTANCES, TAG, CONTROL)
# What a worker consumes by default: every queue that has tasks today (``tag`` is reserved for InsTag).
DEFAULT_WORKER_QUEUES = (GENERATE, ADMIT, CLASSIFY, INSTANCES, CONTROL)
TASK_ROUTES: dict[str, dict[str, str]] = {
    "selfinstruct.generate": {"queue": GENERATE},
    "selfinstruct.admit": {"queue": ADMIT},
    "selfinstruct.classify": {"queue": CLASSIFY},
    "selfinstruct.instances": {"queue": INSTANCES},
    "selfinstruct.tag*": {"queue": TAG},  # the InsTag issue's tasks land here; no task is defined yet
    "selfinstruct.tick*": {"queue": CONTROL},
    "selfinstruct.start_scheduled_round": {"queue": CONTROL},
}
