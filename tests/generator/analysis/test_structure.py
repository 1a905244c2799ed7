from __future__ import annotations

from generator.analysis.structure import PairCount, summarize
from generator.analysis.verbnoun import NO_PAIR, VerbNoun


def test_top_verbs_keep_their_top_nouns_and_coverage_counts_only_shown_pairs() -> None:
    pairs = (
        [VerbNoun("write", "poem")] * 5
        + [VerbNoun("write", "story")] * 3
        + [VerbNoun("write", "essay")] * 1
        + [VerbNoun("list", "fruit")] * 4
        + [VerbNoun("sort", "number")] * 2
        + [VerbNoun("explain", None)] * 2
        + [NO_PAIR] * 3
    )
    summary = summarize(pairs, backend="spacy", top_verbs=2, top_nouns=2)
    assert summary.total == 20 and summary.with_pair == 15 and summary.without_pair == 5
    assert summary.verb_counts == (("write", 9), ("list", 4))
    assert summary.pairs == (
        PairCount("write", "poem", 5),
        PairCount("write", "story", 3),
        PairCount("list", "fruit", 4),
    )
    assert summary.covered == 12
    assert summary.coverage == 12 / 20


def test_an_empty_pool_has_zero_coverage() -> None:
    summary = summarize([], backend="spacy")
    assert summary.coverage == 0.0 and summary.pairs == ()


def test_ties_are_broken_alphabetically() -> None:
    summary = summarize([VerbNoun("b", "x"), VerbNoun("a", "y")], backend="spacy", top_verbs=1)
    assert summary.verb_counts == (("a", 1),)
