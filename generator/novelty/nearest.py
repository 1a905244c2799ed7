"""Exact top-k ROUGE-L neighbours without scoring the whole pool (threshold ladder).

The query's known token occurrences are probed rarest first against a full inverted
index. After probing p of its K known occurrences, an item not seen yet shares at most
``rem = K - p`` occurrences with the query, so its F is at most ``F(rem, n, rem)``
(LCS = overlap = length = rem is the best case). Items already seen are bounded by
``min(hits + rem, m)`` and then by their exact overlap, and only those whose bound can
still enter the top k get an exact LCS. Probing goes down a ladder of F levels and stops
as soon as the k-th best exact score beats every unseen item's bound.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable

import numpy as np
import numpy.typing as npt

from generator.novelty.corpus import Corpus, f_bounds
from generator.novelty.inverted import InvertedIndex
from generator.novelty.rouge import f_from_lcs, match_masks

# F levels the probe goes down; 0.0 probes every known occurrence.
_LADDER = (0.7, 0.5, 0.35, 0.2, 0.1, 0.0)


def top_k(
    corpus: Corpus, full: InvertedIndex, tids: list[int], elems: list[int], k: int
) -> list[tuple[float, int]]:
    """(score, index) of the k best items for a query, best first, ties by lower index.

    ``tids`` are the query's token ids (-1 for unknown tokens) and ``elems`` its known
    element ids, sorted ascending (rarest first).
    """
    k = min(k, len(corpus))
    if k <= 0:
        return []
    n = len(tids)
    heap: list[tuple[float, int]] = []  # (score, -index): heap[0] is the current k-th best
    if n and elems:
        _search(corpus, full, tids, elems, k, heap)
    ranked = sorted(((s, -neg) for s, neg in heap), key=lambda e: (-e[0], e[1]))
    return fill_zeros(ranked, k)


def fill_zeros(ranked: list[tuple[float, int]], k: int) -> list[tuple[float, int]]:
    """Complete a ranking of every item with F > 0 up to k with zero-score items.

    Only valid when ``ranked`` is short of k because fewer than k items share a token
    with the query: the rest all score 0 and follow in index order.
    """
    if len(ranked) < k:
        taken = {i for _, i in ranked}
        ranked = ranked + [(0.0, i) for i in _first_missing(taken, k - len(ranked))]
    return ranked


def _first_missing(taken: set[int], count: int) -> list[int]:
    out: list[int] = []
    i = 0
    while len(out) < count:
        if i not in taken:
            out.append(i)
        i += 1
    return out


def _search(
    corpus: Corpus,
    full: InvertedIndex,
    tids: list[int],
    elems: list[int],
    k: int,
    heap: list[tuple[float, int]],
) -> None:
    n, known = len(tids), len(elems)
    masks = match_masks(tids)
    query = np.array(elems, dtype=np.int32)
    lengths_all = corpus.lengths()
    scored: set[int] = set()
    parts: list[npt.NDArray[np.int32]] = []
    probed = 0
    for level in _LADDER:
        target = probed
        while target < known and (level == 0.0 or f_from_lcs(known - target, n, known - target) >= level):
            target += 1
        if target == probed:
            continue
        for elem in elems[probed:target]:
            view = full.get(elem)
            if view is not None:
                parts.append(view)
        probed = target
        rem = known - probed
        if parts:
            _score_seen(corpus, np.concatenate(parts), lengths_all, query, masks, n, rem, k, heap, scored)
        unseen_bound = f_from_lcs(rem, n, rem) if rem else 0.0
        if len(heap) == k and heap[0][0] > unseen_bound:
            return


def _push_exact(
    corpus: Corpus,
    masks: dict[Hashable, int],
    n: int,
    k: int,
    chunk_items: npt.NDArray[np.int64],
    bounds: npt.NDArray[np.float64],
    heap: list[tuple[float, int]],
    scored: set[int],
) -> None:
    """Score a batch exactly, best bound first, into the top-k ``heap``; stop at the first bound below it."""
    for j in np.lexsort((chunk_items, -bounds)).tolist():
        item = int(chunk_items[j])
        if len(heap) == k and float(bounds[j]) < heap[0][0]:
            break
        scored.add(item)
        entry = (corpus.score(masks, n, item), -item)
        if len(heap) < k:
            heapq.heappush(heap, entry)
        elif entry > heap[0]:
            heapq.heapreplace(heap, entry)


def _score_seen(
    corpus: Corpus,
    hits_flat: npt.NDArray[np.int32],
    lengths_all: npt.NDArray[np.int32],
    query: npt.NDArray[np.int32],
    masks: dict[Hashable, int],
    n: int,
    rem: int,
    k: int,
    heap: list[tuple[float, int]],
    scored: set[int],
) -> None:
    """Exact scores for seen items whose bound can still enter the top k.

    Items go in growing batches of the best cheap bounds (``hits + rem``), so the k-th
    best score rises early and prunes most items before their exact overlap is counted.
    """
    if len(hits_flat) * 8 > len(lengths_all):
        counts = np.bincount(hits_flat, minlength=len(lengths_all))  # dense: no sort
        items = np.flatnonzero(counts)
        hits = counts[items]
    else:
        items, hits = np.unique(hits_flat, return_counts=True)
    if scored:
        fresh = ~np.isin(items, np.fromiter(scored, np.int64, len(scored)))
        items, hits = items[fresh], hits[fresh]
    lengths = lengths_all[items].astype(np.int64)
    cheap = f_bounds(np.minimum(hits + rem, lengths), n, lengths)
    batch = 32
    while len(items):
        kth = heap[0][0] if len(heap) == k else -1.0
        if kth >= 0:
            alive = cheap >= kth
            items, lengths, cheap = items[alive], lengths[alive], cheap[alive]
        if len(items) > batch:
            chosen = np.argpartition(-cheap, batch - 1)[:batch]
            rest = np.ones(len(items), dtype=bool)
            rest[chosen] = False
        else:
            chosen, rest = np.arange(len(items)), np.zeros(len(items), dtype=bool)
        chunk_items = items[chosen].astype(np.int64)
        bounds = f_bounds(corpus.overlaps(chunk_items, query), n, lengths[chosen])
        _push_exact(corpus, masks, n, k, chunk_items, bounds, heap, scored)
        items, lengths, cheap = items[rest], lengths[rest], cheap[rest]
        batch *= 2
