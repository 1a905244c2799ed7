"""SQLAlchemy 2.0 typed models of the task pool, one module per domain; this package is the aggregate.

``from generator.db.models import Task`` (and ``Base.metadata`` holding every table, as Alembic
needs) keeps working: importing the package imports every model module.

Unique keys make every stage idempotent: re-running a stage on the same round hits the
same keys and writes nothing twice (see the ``uq_*`` constraints).
"""

from generator.db.models.base import NAMING_CONVENTION, Base, CleanText, utcnow
from generator.db.models.pool import Candidate, Instance, Pool, Rejection, Round, Task
from generator.db.models.quality import TaskQuality
from generator.db.models.requests import LLMRequest
from generator.db.models.tags import TagMapping, TagMetric, TagVocabulary, TaskTag, TaskTagging

__all__ = [
    "NAMING_CONVENTION", "Base", "Candidate", "CleanText", "Instance", "LLMRequest", "Pool", "Rejection",
    "Round", "TagMapping", "TagMetric", "TagVocabulary", "Task", "TaskQuality", "TaskTag", "TaskTagging",
    "utcnow",
]
