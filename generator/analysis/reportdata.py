"""The typed record a report page is rendered from; built by ``generator.db`` or by hand in tests.

Every field is plain data (no ORM objects, no figures): the page is a pure function of this record.
Sections whose data is absent (no rounds yet, no tags, no indicators) render as a short notice.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.analysis.histograms import Histogram
from generator.analysis.structure import VerbNounSummary


@dataclass(frozen=True, slots=True)
class PoolSummary:
    """Headline numbers of the pool."""

    name: str
    seed_tasks: int
    machine_tasks: int
    instances: int
    classification_tasks: int
    unclassified_tasks: int  # classification not decided yet (or never)
    rounds: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None when no request had a known price
    rejections: int

    @property
    def classification_share(self) -> float | None:
        """Share of classified tasks that are classification tasks; None when none is classified."""
        decided = self.seed_tasks + self.machine_tasks - self.unclassified_tasks
        return self.classification_tasks / decided if decided > 0 else None


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """One step of the acceptance funnel: how many candidates were still in at this point."""

    label: str
    count: int


@dataclass(frozen=True, slots=True)
class RejectionCount:
    """Rejections of one reason at one stage, with a few example texts."""

    stage: str
    reason: str
    count: int
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoundUsage:
    """What one round cost and produced."""

    round_id: int
    status: str
    admitted: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


@dataclass(frozen=True, slots=True)
class TagRound:
    """InsTag diversity (distinct tags) and complexity (mean tags per query) of the pool up to a round."""

    label: str
    tagged_tasks: int
    distinct_tags: int
    mean_tags_per_task: float


@dataclass(frozen=True, slots=True)
class SimilarPair:
    """An admitted instruction and its most similar pool instruction at admission time."""

    instruction: str
    nearest: str
    score: float


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one report page shows."""

    title: str
    generated_at: str
    summary: PoolSummary
    funnel: tuple[FunnelStep, ...]
    rejections: tuple[RejectionCount, ...]
    rounds: tuple[RoundUsage, ...]
    verb_noun: VerbNounSummary | None
    histograms: tuple[Histogram, ...]
    tag_rounds: tuple[TagRound, ...]
    quality: tuple[Histogram, ...]
    quality_note: str
    similar_pairs: tuple[SimilarPair, ...]
    rouge_threshold: float = 0.7
    tag_note: str = "This pool has no InsTag tags yet."  # which tags the tag section counts
