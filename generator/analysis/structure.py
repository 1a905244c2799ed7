"""Summaries of verb–noun pairs: the top verbs × top nouns shown in the sunburst, and their coverage.

Self-Instruct Figure 3 shows "the top 20 most common root verbs and their top 4 direct noun objects".
The coverage is the share of *all* instructions whose pair is one of those shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from generator.analysis.verbnoun import VerbNoun

TOP_VERBS = 20  # Self-Instruct, Figure 3.
TOP_NOUNS = 4  # Self-Instruct, Figure 3.


@dataclass(frozen=True, slots=True)
class PairCount:
    """How many instructions have this verb with this noun."""

    verb: str
    noun: str
    count: int


@dataclass(frozen=True, slots=True)
class VerbNounSummary:
    """What the sunburst shows and how much of the pool it covers."""

    backend: str
    note: str  # how the structure was parsed (e.g. why benepar was not used)
    total: int
    with_pair: int
    without_pair: int  # no verb, or a verb with no noun object
    verb_counts: tuple[tuple[str, int], ...]  # shown verbs with all their pairs, most common first
    pairs: tuple[PairCount, ...]  # top nouns of each shown verb
    covered: int  # instructions whose pair is in ``pairs``

    @property
    def coverage(self) -> float:
        """Share of all instructions covered by the shown pairs (0 for an empty pool)."""
        return self.covered / self.total if self.total else 0.0


def _ranked(counter: Counter[str], n: int) -> list[tuple[str, int]]:
    # most_common breaks ties by insertion order; sort by (-count, word) so results are stable.
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def summarize(
    pairs: Sequence[VerbNoun],
    *,
    backend: str,
    note: str = "",
    top_verbs: int = TOP_VERBS,
    top_nouns: int = TOP_NOUNS,
) -> VerbNounSummary:
    """The top ``top_verbs`` verbs (by pairs with a noun) and each one's top ``top_nouns`` nouns."""
    complete = [p for p in pairs if p.verb is not None and p.noun is not None]
    by_verb: dict[str, Counter[str]] = {}
    for pair in complete:
        assert pair.verb is not None and pair.noun is not None
        by_verb.setdefault(pair.verb, Counter())[pair.noun] += 1
    verb_totals = Counter({verb: sum(nouns.values()) for verb, nouns in by_verb.items()})
    shown_verbs = _ranked(verb_totals, top_verbs)
    shown = [
        PairCount(verb, noun, count)
        for verb, _ in shown_verbs
        for noun, count in _ranked(by_verb[verb], top_nouns)
    ]
    return VerbNounSummary(
        backend=backend,
        note=note,
        total=len(pairs),
        with_pair=len(complete),
        without_pair=len(pairs) - len(complete),
        verb_counts=tuple(shown_verbs),
        pairs=tuple(shown),
        covered=sum(p.count for p in shown),
    )
