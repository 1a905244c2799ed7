from __future__ import annotations

import pytest

from generator.analysis.lexical import mtld, word_count, words


def test_words_are_lowercased_letter_runs_keeping_inner_apostrophes() -> None:
    assert words("Don't STOP, 2 friends_here!") == ["don't", "stop", "2", "friends", "here"]
    assert word_count("  ") == 0


def test_mtld_matches_a_worked_example_with_whole_factors() -> None:
    # forward  a b a | b a b | c  -> TTR hits 2/3 twice: 2 factors, remainder TTR 1 -> 7 / 2 = 3.5
    # backward c b a b a | b a    -> TTR 3/5 = 0.6 once: 1 factor, remainder TTR 1 -> 7 / 1 = 7
    assert mtld(["a", "b", "a", "b", "a", "b", "c"]) == pytest.approx((3.5 + 7.0) / 2)


def test_mtld_counts_the_leftover_segment_as_a_partial_factor() -> None:
    # forward  x y x | z      -> 1 factor + (1 - 1)/(0.28) -> 4 / 1 = 4
    # backward z x y x        -> TTR 3/4 = 0.75 never reaches 0.72: partial (1 - 0.75) / 0.28 = 25/28
    #                            -> 4 / (25/28) = 4.48
    assert mtld(["x", "y", "x", "z"]) == pytest.approx((4.0 + 4.48) / 2)


def test_mtld_of_all_distinct_tokens_is_their_count_and_of_nothing_is_none() -> None:
    assert mtld(["one", "two", "three"]) == 3.0
    assert mtld([]) is None


def test_mtld_rejects_a_threshold_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="threshold"):
        mtld(["a"], threshold=1.0)


def test_mtld_agrees_with_the_lexicalrichness_package_when_it_is_installed() -> None:
    lexicalrichness = pytest.importorskip("lexicalrichness", reason="lexicalrichness is optional")
    texts = [
        "the cat sat on the mat and the dog sat on the log while the bird sang in the tree",
        "apples and pears and plums and apples again with pears and more plums today",
        "one two three four five six seven eight nine ten",
    ]
    for text in texts:
        expected = lexicalrichness.LexicalRichness(text).mtld(threshold=0.72)
        assert mtld(words(text)) == pytest.approx(expected)
