"""Typed records of the InsTag stages: parsed tags, parse failures, tagged tasks and vocabulary versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from generator.instag.params import InsTagParams


class TagFailureReason(StrEnum):
    """Why a tagging answer yielded no tags; stored with the raw text, never counted as zero tags."""

    NOT_JSON = "not_json"          # no JSON list or object could be read from the answer
    NO_TAGS = "no_tags"            # JSON was read but held no usable tag
    LLM_ERROR = "llm_error"        # the request failed after all retries
    MISSING = "missing"            # the batched answer had no choice for this query


@dataclass(frozen=True, slots=True)
class Tag:
    """One intention tag with the model's explanation ("" when it gave none)."""

    tag: str
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class ParsedTags:
    """The tags read from one answer (at least one), plus how many items were dropped and why."""

    tags: tuple[Tag, ...]
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TagFailure:
    """An answer that yielded no tags: the reason, a detail and the raw text as the model sent it."""

    reason: TagFailureReason
    detail: str
    raw: str


TagOutcome = ParsedTags | TagFailure


@dataclass(frozen=True, slots=True)
class TaskTags:
    """The raw tags of one task (as parsed), with the groups its metrics are reported under."""

    task_id: int
    tags: tuple[str, ...]
    round: int | None = None
    origin: str = "machine"        # "seed" or "machine"


@dataclass(frozen=True, slots=True)
class StageCount:
    """How many distinct tags are left after one normalization stage."""

    stage: str
    count: int


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One normalization run: its knobs, the count after each stage and the raw -> normalized mapping.

    Raw tags dropped by the frequency filter are absent from ``mapping``; ``representatives`` lists the
    distinct normalized tags with the number of tasks carrying each.
    """

    params: InsTagParams
    counts: tuple[StageCount, ...]
    mapping: Mapping[str, str] = field(hash=False)
    representatives: Mapping[str, int] = field(hash=False)

    @property
    def size(self) -> int:
        """The number of distinct normalized tags."""
        return len(self.representatives)

    def normalize(self, raw_tags: tuple[str, ...] | list[str]) -> frozenset[str]:
        """The normalized tag set of one task's raw tags (dropped tags vanish)."""
        return frozenset(self.mapping[t] for t in raw_tags if t in self.mapping)
