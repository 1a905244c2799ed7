"""Every status and origin the database stores, as StrEnums (they compare equal to their text)."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    """A pool task's place in the pipeline; seeds are ``complete`` from the start."""

    PENDING_CLASSIFICATION = "pending_classification"
    PENDING_INSTANCES = "pending_instances"
    COMPLETE = "complete"
    NO_INSTANCES = "no_instances"


class RoundStatus(StrEnum):
    """A round runs until it is completed (target, budget, deadline), failed or cancelled."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RoundMode(StrEnum):
    """Which executor drives a round."""

    INPROCESS = "inprocess"
    FLEET = "fleet"


class CandidateStatus(StrEnum):
    """A parsed instruction waiting for admission, judged, or generated past the round's end."""

    PENDING = "pending"
    ADMITTED = "admitted"
    REJECTED = "rejected"
    SURPLUS = "surplus"


class TaggingStatus(StrEnum):
    """A task's InsTag tagging: tags stored, or failed for good with the raw answer (never zero tags)."""

    TAGGED = "tagged"
    FAILED = "failed"


class Origin(StrEnum):
    """Where a pool task came from."""

    SEED = "seed"
    MACHINE = "machine"


LIVE_STATUSES = (TaskStatus.PENDING_CLASSIFICATION, TaskStatus.PENDING_INSTANCES, TaskStatus.COMPLETE)
OPEN_STATUSES = (TaskStatus.PENDING_CLASSIFICATION, TaskStatus.PENDING_INSTANCES)
