"""generator.novelty.rouge and generator.novelty.bounds agree bit for bit with rouge_score 0.1.2."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from generator.novelty.bounds import UNREACHABLE, Bounds
from generator.novelty.rouge import f_from_lcs, lcs_length, rouge_l, rouge_l_f, tokenize

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)

# Words that stress the tokenizer: case, digits, Unicode that lower-cases to ASCII
# (Kelvin sign, dotted capital I), non-ASCII letters, punctuation glued to words.
WORDS = [
    "a", "b", "the", "The", "THE", "x1", "42", "İstanbul", "\u212a", "naïve", "straße",
    "日本", "—", "...", "can't", "e-mail", "\t", "\n", "ﬁne", "Ⅳ", "①", "b2b", "",
]
text_st = st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join) | st.text(max_size=40)
tokens_st = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=16)


def reference(target: str, prediction: str) -> float:
    return float(SCORER.score(target, prediction)["rougeL"].fmeasure)


@settings(max_examples=400, deadline=None)
@given(text_st)
def test_tokenize_matches_rouge_score(text: str) -> None:
    assert tokenize(text) == SCORER._tokenizer.tokenize(text)


@settings(max_examples=400, deadline=None)
@given(text_st, text_st)
def test_rouge_l_matches_rouge_score(a: str, b: str) -> None:
    assert rouge_l(a, b) == reference(a, b)
    assert rouge_l(b, a) == reference(a, b)  # symmetric even in floating point


@settings(max_examples=400, deadline=None)
@given(tokens_st, tokens_st)
def test_token_level_matches_score_lcs(a: list[str], b: list[str]) -> None:
    expected = rouge_scorer._score_lcs(a, b)
    assert rouge_l_f(a, b) == expected.fmeasure
    assert lcs_length(a, b) == (rouge_scorer._lcs_table(a, b)[-1][-1] if a and b else 0)


def test_long_sequences_use_wide_bit_vectors() -> None:
    a = [f"w{i % 97}" for i in range(300)]
    b = [f"w{i % 89}" for i in range(250)]
    assert lcs_length(a, b) == rouge_scorer._lcs_table(a, b)[-1][-1]


@pytest.mark.parametrize(
    ("lcs", "n", "m", "at_or_above"),
    [
        (7, 10, 10, True),  # F is exactly 0.7
        (7, 9, 11, True),  # exact 0.7, rounds to 0.7000000000000001
        (21, 23, 37, False),  # exact 0.7, rounds to 0.6999999999999998: below
        (35, 41, 59, False),
        (6, 10, 10, False),
    ],
)
def test_threshold_ties_follow_float_formula(lcs: int, n: int, m: int, at_or_above: bool) -> None:
    target = [f"t{i}" for i in range(n)]
    prediction = target[:lcs] + [f"p{i}" for i in range(m - lcs)]
    assert Fraction(2 * lcs, n + m) == Fraction(7, 10) or lcs == 6
    f = rouge_l_f(target, prediction)
    assert f == rouge_scorer._score_lcs(target, prediction).fmeasure
    assert (f >= 0.7) is at_or_above
    assert Bounds(0.7).reaches(lcs, n, m) is at_or_above


@pytest.mark.parametrize("threshold", [0.7, 0.5, 0.3, 0.9, 1.0, 0.05, 0.4, 2 / 3])
def test_bounds_tables_match_brute_force(threshold: float) -> None:
    bounds = Bounds(threshold)
    for n in range(1, 45 if threshold >= 0.3 else 12):
        feasible = []
        for m in range(1, int(n * (2 - threshold) / threshold) + 5):
            least = next((lcs for lcs in range(1, min(n, m) + 1) if f_from_lcs(lcs, n, m) >= threshold), None)
            assert bounds.lcs_needed(n, m) == least
            if least is not None:
                feasible.append((m, least))
        lo, hi = bounds.length_range(n)
        assert [m for m, _ in feasible] == list(range(lo, hi + 1))
        assert bounds.min_overlap(n) == min(least for _, least in feasible)
        table = bounds.needed_table(n)
        assert len(table) == hi + 2 and table[-1] == UNREACHABLE
        assert all(table[m] == least for m, least in feasible)


def test_bounds_reject_bad_thresholds() -> None:
    for bad in (0.0, -0.1, 1.01):
        with pytest.raises(ValueError):
            Bounds(bad)
