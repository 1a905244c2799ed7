"""NoveltyIndex decides exactly as scoring every pool item with rouge_score would."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

import generator.novelty as novelty_mod
import generator.novelty.prefix_index as prefix_mod
from generator.novelty import IndexConfig, Match, NoveltyIndex, Verdict

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
THRESHOLDS = [0.7, 0.5, 0.3, 0.9, 1.0, 2 / 3, 0.15]
# Few distinct words so that random texts overlap a lot and land near every threshold.
WORDS = ["a", "b", "c", "d", "e", "A", "b.", "c,", "x1", "İ", "\u212a", "--", "!!", "naïve", ""]

text_st = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)


def score(a: str, b: str) -> float:
    return float(SCORER.score(a, b)["rougeL"].fmeasure)


def brute_verdict(pool: list[str], text: str, threshold: float) -> Verdict:
    """The definition: the best-scoring item (lowest index on ties) if it reaches the threshold."""
    scores = [score(p, text) for p in pool]
    if not scores or max(scores) < threshold:
        return Verdict(novel=True, nearest=None)
    best = max(scores)
    i = scores.index(best)
    return Verdict(novel=False, nearest=Match(i, pool[i], best))


def brute_nearest(pool: list[str], text: str, k: int) -> list[Match]:
    scores = [score(p, text) for p in pool]
    order = sorted(range(len(pool)), key=lambda i: (-scores[i], i))[:k]
    return [Match(i, pool[i], scores[i]) for i in order]


def brute_sequential(pool: list[str], candidates: list[str], threshold: float) -> list[Verdict]:
    pool = list(pool)
    out = []
    for text in candidates:
        verdict = brute_verdict(pool, text, threshold)
        if verdict.novel:
            pool.append(text)
        out.append(verdict)
    return out


@contextmanager
def storage(mode: str) -> Iterator[IndexConfig]:
    """The index config (and representation limit) of one test configuration.

    ``numpy``: without the optional C kernel. ``tiny``: a 3-item tail and a 6-token
    packing limit, so flushes, segment merges and unpackable long items all happen.
    """
    native = "numpy" not in mode and novelty_mod.HAS_NATIVE
    if "tiny" not in mode:
        yield IndexConfig(native=native)
        return
    with patch.object(prefix_mod, "MAX_LEN", 6):  # a representation limit, not a knob
        yield IndexConfig(native=native, tail_items=3, inverted_min_tail=4)


MODES = pytest.mark.parametrize("mode", ["native", "numpy", "native-tiny", "numpy-tiny"])


def build(pool: list[str], threshold: float, config: IndexConfig) -> NoveltyIndex:
    """Half bulk-built at start-up, half added one by one."""
    half = len(pool) // 2
    index = NoveltyIndex(threshold, pool[:half], config)
    for text in pool[half:]:
        index.add(text)
    return index


@MODES
@settings(max_examples=40, deadline=None)
@given(st.lists(text_st, max_size=30), st.lists(text_st, min_size=1, max_size=6), st.sampled_from(THRESHOLDS))
def test_check_matches_brute_force(mode: str, pool: list[str], cands: list[str], threshold: float) -> None:
    with storage(mode) as config:
        index = build(pool, threshold, config)
        for text in cands:
            assert index.check(text) == brute_verdict(pool, text, threshold)
        assert len(index) == len(pool)


@MODES
@settings(max_examples=30, deadline=None)
@given(st.lists(text_st, max_size=30), text_st, st.integers(1, 8), st.sampled_from(THRESHOLDS))
def test_nearest_is_exact_top_k(mode: str, pool: list[str], text: str, k: int, threshold: float) -> None:
    with storage(mode) as config:
        assert build(pool, threshold, config).nearest(text, k) == brute_nearest(pool, text, k)


@MODES
@settings(max_examples=30, deadline=None)
@given(st.lists(text_st, max_size=15), st.lists(text_st, max_size=25), st.sampled_from(THRESHOLDS))
def test_sequential_admission_matches_brute_force_loop(
    mode: str, pool: list[str], cands: list[str], threshold: float
) -> None:
    with storage(mode) as config:
        index = build(pool, threshold, config)
        assert [index.admit(c) for c in cands] == brute_sequential(pool, cands, threshold)


def instruction_like(rng: random.Random, vocab: list[str]) -> str:
    words = [rng.choice(["Write", "List", "Explain", "Give"])]
    for _ in range(rng.randint(4, 20)):
        common = rng.random() < 0.4
        words.append(rng.choice(vocab[:30]) if common else vocab[int(rng.paretovariate(0.9)) % len(vocab)])
    return " ".join(words) + "."


def near_duplicate(rng: random.Random, text: str, vocab: list[str]) -> str:
    words = text.rstrip(".").split()
    for _ in range(rng.randint(0, 5)):
        pos = rng.randrange(len(words))
        op = rng.randrange(3)
        if op == 0:
            words[pos] = rng.choice(vocab)
        elif op == 1 and len(words) > 2:
            del words[pos]
        else:
            words.insert(pos, rng.choice(vocab))
    return " ".join(words).upper() + "?"


@MODES
@pytest.mark.parametrize("threshold", [0.7, 0.5])
def test_instruction_like_pool_matches_brute_force(mode: str, threshold: float) -> None:
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(400)]
    pool = [instruction_like(rng, vocab) for _ in range(400)]
    cands = [near_duplicate(rng, rng.choice(pool), vocab) for _ in range(40)]
    cands += [instruction_like(rng, vocab) for _ in range(20)]
    with storage(mode) as config:
        index = build(pool, threshold, config)
        for text in cands:
            assert index.check(text) == brute_verdict(pool, text, threshold)
        assert [index.admit(c) for c in cands] == brute_sequential(pool, cands, threshold)


@pytest.mark.parametrize(
    ("lcs", "n", "m", "novel"),
    [(7, 10, 10, False), (7, 9, 11, False), (21, 23, 37, True), (21, 37, 23, True), (6, 10, 10, True)],
)
def test_exact_threshold_ties(lcs: int, n: int, m: int, novel: bool) -> None:
    item = " ".join(f"t{i}" for i in range(n))
    cand = " ".join([f"t{i}" for i in range(lcs)] + [f"p{i}" for i in range(m - lcs)])
    index = NoveltyIndex(0.7, ["unrelated words here", item])
    verdict = index.check(cand)
    assert verdict == brute_verdict(["unrelated words here", item], cand, 0.7)
    assert verdict.novel is novel


def test_repeated_tokens_and_degenerate_texts() -> None:
    pool = ["the the the the the", "", "!!! ...", "the cat the cat the cat", "cat"]
    index = NoveltyIndex(0.7, pool)
    for text in ["the the the", "", "???", "cat the cat the", "the " * 40, "CAT", "the cat"]:
        assert index.check(text) == brute_verdict(pool, text, 0.7)
        assert index.nearest(text, 3) == brute_nearest(pool, text, 3)


@MODES
def test_long_texts_and_many_repeats(mode: str) -> None:
    """Multi-word bit vectors (> 64 tokens) and long runs of repeated tokens."""
    rng = random.Random(3)
    pool = [" ".join(rng.choice("abcdef") for _ in range(rng.randint(50, 300))) for _ in range(24)]
    with storage(mode) as config:
        index = NoveltyIndex(0.7, pool[:12], config)
        for text in pool[12:]:
            index.add(text)
        for base in pool[:8]:
            words = base.split()
            words[rng.randrange(len(words))] = "zz"
            text = " ".join(words[: rng.randint(40, len(words))])
            assert index.check(text) == brute_verdict(pool, text, 0.7)
            assert index.nearest(text, 2) == brute_nearest(pool, text, 2)


def test_basic_api() -> None:
    index = NoveltyIndex()
    assert len(index) == 0
    assert index.check("anything at all") == Verdict(True, None)
    assert index.nearest("anything") == []
    assert index.add("Write a poem about the sea.") == 0
    same = Verdict(False, Match(0, "Write a poem about the sea.", 1.0))
    assert index.admit("Write a poem about the sea!") == same
    assert len(index) == 1
    assert index.admit("List three colors.").novel
    assert len(index) == 2 and index.text(1) == "List three colors."
    assert index.check("Please list three colors.").novel is False
    assert len(index) == 2  # check never adds
    assert [m.index for m in index.nearest("zzz", k=5)] == [0, 1]  # zero scores fill in index order
    with pytest.raises(ValueError):
        NoveltyIndex(threshold=0.0)


@MODES
def test_nearest_and_check_after_adds(mode: str) -> None:
    """The inverted index built by nearest() follows later adds (tail, then rebuilds)."""
    rng = random.Random(11)
    vocab = [f"v{i}" for i in range(60)]
    pool = [instruction_like(rng, vocab) for _ in range(40)]
    with storage(mode) as config:
        index = NoveltyIndex(0.6, pool[:20], config)
        probes = [near_duplicate(rng, rng.choice(pool), vocab) for _ in range(5)]
        for step, text in enumerate(pool[20:], start=20):
            index.add(text)
            if step % 5 == 0:
                for probe in probes:
                    assert index.nearest(probe, 3) == brute_nearest(pool[: step + 1], probe, 3)
                    assert index.check(probe) == brute_verdict(pool[: step + 1], probe, 0.6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=12), st.text(max_size=30))
def test_bulk_build_tokenizes_like_rouge(pool: list[str], text: str) -> None:
    """Start-up build (one regex pass over joined texts) equals adding texts one by one."""
    bulk = NoveltyIndex(0.5, pool)
    one_by_one = NoveltyIndex(0.5)
    for item in pool:
        one_by_one.add(item)
    assert bulk.check(text) == one_by_one.check(text) == brute_verdict(pool, text, 0.5)
    assert bulk.nearest(text, 2) == brute_nearest(pool, text, 2)
