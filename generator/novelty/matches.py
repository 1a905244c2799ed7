"""What a novelty query answers: a pool item with its exact ROUGE-L F, and the verdict of a check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Match:
    """A pool item and its exact ROUGE-L F with the queried text."""

    index: int
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of a novelty check.

    ``novel`` is False iff some pool item scores >= threshold; ``nearest`` is then the
    highest-scoring item (lowest index on ties) with its exact score, else None.
    """

    novel: bool
    nearest: Match | None
