"""Exact ROUGE-L novelty index: is any pool item within ROUGE-L F >= threshold of a text?

Decisions are identical to scoring the candidate against every pool item with
rouge_score (default tokenizer, no stemming; see :mod:`generator.novelty.rouge`), but almost no
pair is scored. For a candidate of n tokens, in order:

1. length filter: only items whose length m lets some LCS reach the threshold;
2. prefix filtering (set-similarity joins: Chaudhuri et al. 2006, Bayardo et al. 2007),
   in its l-prefix form (Wang, Li & Feng 2012) with l = 2: LCS <= multiset overlap, so a
   match shares ``need(n, m)`` token occurrences with the candidate, hence 2 of the
   candidate's rarest ``n - need + 2`` and of the item's rarest ``m - need + 2``. Items
   are indexed under their rarest ``prefix_size(m) + 1`` occurrences only;
3. positional filter (PPJoin, Xiao et al. 2008): the 2nd shared occurrence sits at
   position i <= n - need + 1 of the candidate and j <= m - need + 1 of the item (in
   rarity order), else too few shared occurrences follow it; the index is sorted so that
   only entries passing this are ever read (:mod:`generator.novelty.prefix_index`);
4. bag-of-words bound: the exact multiset overlap of the survivors must reach ``need``;
5. exact LCS (bit-parallel) for what is left, best bound first, stopping once no
   remaining bound can beat the best score found.

Every bound is evaluated with rouge_score's own float formula (:mod:`generator.novelty.bounds`),
so nothing that could score >= threshold is ever skipped. Steps 2-5 run in one call of
the optional C kernel (``generator/novelty/_native.c``) when it is built, else in numpy; both
give the same answers (the tests run both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from generator.novelty.bounds import Bounds
from generator.novelty.config import IndexConfig
from generator.novelty.corpus import Corpus, f_bounds
from generator.novelty.inverted import InvertedIndex
from generator.novelty.matches import Match, Verdict
from generator.novelty.nearest import fill_zeros, top_k
from generator.novelty.prefix_index import PrefixIndex, ProbePlan, make_plan
from generator.novelty.rouge import match_masks, tokenize
from generator.novelty.vocabulary import Vocabulary

try:  # optional C kernel (built from generator/novelty/_native.c); the numpy path gives the same answers
    from generator.novelty import _native
except ImportError:  # pragma: no cover - depends on the build
    _native = None  # type: ignore[assignment]

__all__ = ["HAS_NATIVE", "IndexConfig", "Match", "NoveltyIndex", "Verdict"]

HAS_NATIVE = _native is not None  # whether the C kernel was built and imports (IndexConfig.native opts out)


class NoveltyIndex:
    """Incremental index over tokenized texts answering ROUGE-L near-duplicate queries.

    Not thread-safe: one caller at a time (the admit queue's single consumer). Memory:
    the texts plus ~25 bytes a token (token and element ids, prefix postings), plus
    ~4 bytes a token once ``nearest`` has built the full inverted index.
    """

    def __init__(
        self, threshold: float = 0.7, texts: Iterable[str] = (), config: IndexConfig = IndexConfig()
    ) -> None:
        """Index ``texts`` (indices 0, 1, ... in iteration order) for ``threshold``, searching as ``config``
        says (the C kernel only when ``config.native`` and it was built)."""
        self.threshold = threshold
        self.config = config
        self._native = _native if config.native else None
        self._extra = config.prefix_extra  # l - 1 of the l-prefix filter
        self._bounds = Bounds(threshold)
        self._vocab = Vocabulary()
        self._corpus = Corpus()
        self._prefix = PrefixIndex(config.tail_items)
        self._plans: dict[tuple[int, int, int], ProbePlan] = {}
        self._hit_counts = np.zeros(0, dtype=np.uint16)  # native kernel scratch, zero between calls
        self._full: InvertedIndex | None = None  # element -> items, built on first nearest()
        self._build(list(texts))

    def _build(self, texts: list[str]) -> None:
        if not texts:
            return
        encoded = self._vocab.intern_texts(texts)
        self._corpus.add_bulk(texts, encoded)  # also sorts encoded.elems within items
        sizes = np.array([self._prefix_size(m) for m in range(int(encoded.lengths.max(initial=0)) + 1)])
        self._prefix.add_bulk(encoded.elems, encoded.lengths, sizes)

    def _prefix_size(self, m: int) -> int:
        return min(m, self._bounds.prefix_size(m) + self._extra) if m else 0

    def __len__(self) -> int:
        return len(self._corpus)

    def text(self, index: int) -> str:
        """The text of item ``index``."""
        return self._corpus.texts[index]

    def add(self, text: str) -> int:
        """Index ``text`` unconditionally; returns its index (0-based insertion order)."""
        return self._add_tokens(text, tokenize(text))

    def _add_tokens(self, text: str, tokens: Sequence[str]) -> int:
        tids, elems = self._vocab.intern(tokens)
        elems.sort()
        item = self._corpus.add(text, tids, elems)
        self._prefix.add(item, len(elems), elems[: self._prefix_size(len(elems))])
        if self._full is not None:
            self._full.add(item, elems)
        return item

    def check(self, text: str) -> Verdict:
        """Whether ``text`` is novel against the index (nothing is added)."""
        return self._verdict(self._best(tokenize(text)))

    def admit(self, text: str) -> Verdict:
        """Check ``text`` and, if novel, add it: one step of sequential admission."""
        tokens = tokenize(text)
        best = self._best(tokens)
        if best is None:
            self._add_tokens(text, tokens)
        return self._verdict(best)

    def nearest(self, text: str, k: int = 1) -> list[Match]:
        """The k items with the highest ROUGE-L F (ties: lower index first), exactly.

        Fewer than k only when the index holds fewer items. Items sharing no token with
        ``text`` score 0.0 and fill the tail in index order.
        """
        tids, elems = self._vocab.lookup(tokenize(text))
        elems.sort()
        if self._full is None:
            self._full = InvertedIndex(self._corpus, self._native, self.config.inverted_min_tail)
        k = min(k, len(self._corpus))
        if self._native is not None and elems and k > 0:
            ranked = fill_zeros(self._nearest_native(tids, elems, k), k)
        else:
            ranked = top_k(self._corpus, self._full, tids, elems, k)
        return [Match(i, self._corpus.texts[i], s) for s, i in ranked]

    def _nearest_native(self, tids: list[int], elems: list[int], k: int) -> list[tuple[float, int]]:
        """Top-k with the C kernel: exact overlap of every item sharing an element, by
        counting all postings of the query's elements, then LCS best bound first."""
        assert self._native is not None and self._full is not None
        lengths, starts, flat_elems, flat_tids = self._corpus.arrays()
        full = self._full
        # Counting every element (use = all) makes the ranking exact on its own; counting
        # only the rarer ones was measured slower: the merges it needs cost more.
        ranked: list[tuple[float, int]] = self._native.nearest(
            np.array(elems, dtype=np.int32), np.array(tids, dtype=np.int32), len(elems), 0.0, full.base,
            full.offsets, full.items, full.tail_items(elems), self._scratch(len(lengths)), lengths, starts,
            flat_elems, flat_tids, k,
        )[0]
        return ranked

    def _scratch(self, size: int) -> npt.NDArray[np.uint16]:
        """Per-item counters for the native kernels (all zero between calls)."""
        if len(self._hit_counts) < size:
            self._hit_counts = np.zeros(size + size // 4 + 1024, dtype=np.uint16)
        return self._hit_counts

    def _verdict(self, best: tuple[float, int] | None) -> Verdict:
        if best is None:
            return Verdict(novel=True, nearest=None)
        score, item = best
        return Verdict(novel=False, nearest=Match(item, self._corpus.texts[item], score))

    def _best(self, tokens: Sequence[str]) -> tuple[float, int] | None:
        """(score, index) of the best item scoring >= threshold, or None if there is none."""
        n = len(tokens)
        if n == 0 or len(self._corpus) == 0:
            return None
        tids, elems = self._vocab.lookup(tokens)
        unknown = n - len(elems)
        needed_overlap = self._bounds.min_overlap(n)
        if len(elems) < needed_overlap:
            return None
        elems.sort()
        # Unknown occurrences come first in rarity order (no item holds them), which
        # shortens the probe: only known occurrences within the prefix are looked up.
        extra = self._extra
        probe = elems[: n - needed_overlap + 1 + extra - unknown]
        table = self._bounds.needed_table(n)
        shape = (n, unknown, len(probe))
        plan = self._plans.get(shape)
        if plan is None:
            lo, _ = self._bounds.length_range(n)
            plan = self._plans[shape] = make_plan(n, unknown, len(probe), table, lo, extra)
        if self._native is not None and needed_overlap > extra:
            return self._best_native(plan, probe, table, elems, tids)
        found = np.sort(self._prefix.probe(plan, probe, table))
        if len(found) == 0:
            return None
        # l-prefix filter: a match has extra + 1 entries among those read (one per
        # shared element), unless it needs fewer shared elements than that in total.
        if needed_overlap > extra:
            items = found[extra:][found[extra:] == found[:-extra]]
            if len(items) > 1:  # an item with 3+ entries shows up more than once
                first = np.ones(len(items), dtype=bool)
                np.not_equal(items[1:], items[:-1], out=first[1:])
                items = items[first]
        else:
            items, hits = np.unique(found, return_counts=True)
            needed = table[np.minimum(self._corpus.lengths()[items], len(table) - 1)]
            items = items[hits >= np.minimum(needed, extra + 1)]
        if len(items) == 0:
            return None
        lengths = self._corpus.lengths()[items].astype(np.int64)
        needed = table[np.minimum(lengths, len(table) - 1)]
        overlaps = self._corpus.overlaps(items, np.array(elems, dtype=np.int32))
        keep = overlaps >= needed
        if not keep.any():
            return None
        items, lengths, overlaps = items[keep], lengths[keep], overlaps[keep]
        return self._verify(tids, items, f_bounds(overlaps, n, lengths))

    def _best_native(
        self,
        plan: ProbePlan,
        probe: list[int],
        table: npt.NDArray[np.int32],
        elems: list[int],
        tids: list[int],
    ) -> tuple[float, int] | None:
        """Same result as the numpy path of ``_best`` (steps 2-5), in one C call."""
        assert self._native is not None
        seg_keys, seg_items = self._prefix.segments()
        extra = self._prefix.probe_tail(plan, probe, table)
        lengths, starts, flat_elems, flat_tids = self._corpus.arrays()
        found: tuple[float, int] | None = self._native.best_match(
            plan.rows, plan.lo_off, plan.hi_off, np.array(probe, dtype=np.int64), seg_keys, seg_items, extra,
            self._extra + 1, self._scratch(len(lengths)), lengths, starts, flat_elems, flat_tids, table,
            np.array(elems, dtype=np.int32), np.array(tids, dtype=np.int32), self.threshold,
        )
        return found

    def _verify(
        self, tids: list[int], items: npt.NDArray[np.int64], bounds: npt.NDArray[np.float64]
    ) -> tuple[float, int] | None:
        """Exact LCS in decreasing-bound order; stops when no bound can beat the best."""
        masks = match_masks(tids)
        n = len(tids)
        best: tuple[float, int] | None = None
        for j in np.lexsort((items, -bounds)).tolist():
            bound, item = float(bounds[j]), int(items[j])
            if best is not None and bound < best[0]:
                break
            score = self._corpus.score(masks, n, item)
            if score >= self.threshold and (best is None or (score, -item) > (best[0], -best[1])):
                best = (score, item)
        return best
