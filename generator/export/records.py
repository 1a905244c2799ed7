"""Typed records the export builders read: a task with its instances and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportInstance:
    """One input/output example of a task (``input`` is "" when the task takes none)."""

    input: str
    output: str


@dataclass(frozen=True)
class ExportTask:
    """A pool task as exported: instruction, classification, instances, provenance.

    ``model`` is the model of the generation request that produced it (None for seeds);
    ``nearest_score`` the ROUGE-L F1 against its nearest pool instruction at admission.
    ``tags`` and ``quality`` stay empty until the tagging and quality stages fill them.
    """

    id: int
    instruction: str
    origin: str
    is_classification: bool | None
    instances: tuple[ExportInstance, ...]
    round_id: int | None = None
    model: str | None = None
    nearest_score: float | None = None
    tags: tuple[str, ...] = field(default=())
    quality: float | None = None

    def provenance(self, every_column: bool = False) -> dict[str, object]:
        """The provenance fields ``--provenance`` adds.

        Tags and quality appear only when present, unless ``every_column`` (columnar formats
        need one schema for all rows).
        """
        out: dict[str, object] = {
            "task_id": self.id,
            "origin": self.origin,
            "round": self.round_id,
            "model": self.model,
            "nearest_score": self.nearest_score,
        }
        if self.tags or every_column:
            out["tags"] = list(self.tags)
        if self.quality is not None or every_column:
            out["quality"] = self.quality
        return out
