"""Full inverted index (element -> every item holding it), for exact top-k queries.

A compressed-sparse-row block covers the items present when it was built; items added
later go to a small dict-of-lists tail, and the block is rebuilt from the corpus once
the tail holds a quarter as many entries (amortised O(1) per added element). Built
lazily, on the first ``nearest`` call: novelty checks never need it.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import numpy.typing as npt

from generator.novelty.corpus import Corpus
from generator.novelty.postings import Postings

I32 = npt.NDArray[np.int32]


class InvertedIndex:
    """Element -> items, over every element of every item of a corpus."""

    def __init__(self, corpus: Corpus, native: ModuleType | None, min_tail: int = 1 << 16) -> None:
        """``min_tail``: tail entries always allowed before a rebuild (else a quarter of the index)."""
        self._corpus = corpus
        self._min_tail = min_tail
        self._native = native
        self._tail = Postings(width=1)
        self._rebuild()

    def _rebuild(self) -> None:
        lengths, _, elems, _ = self._corpus.arrays()
        self._base = int(elems.min()) if len(elems) else 0
        rows = (int(elems.max()) - self._base + 1) if len(elems) else 0
        counts = np.bincount(elems.astype(np.int64) - self._base, minlength=rows)
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        if self._native is not None:
            self.items = np.empty(len(elems), dtype=np.int32)
            cursor = self.offsets[:-1].copy()
            self._native.fill_inverted(elems, lengths, self._base, cursor, self.items)
        else:
            order = np.argsort(elems, kind="stable")  # keeps items ascending within a row
            self.items = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)[order]
        self._tail = Postings(width=1)

    @property
    def base(self) -> int:
        """Element id of the block's first row (row = element - base)."""
        return self._base

    def add(self, item: int, elems: list[int]) -> None:
        """Index a newly added item (its elements, any order)."""
        for elem in elems:
            self._tail.add(elem, (item,))
        if self._tail.entries > max(self._min_tail, len(self.items) // 4):
            self._rebuild()

    def get(self, elem: int) -> I32 | None:
        """Items holding ``elem`` (block ones ascending, then the tail's), or None."""
        row = elem - self._base
        block = None
        if 0 <= row < len(self.offsets) - 1 and self.offsets[row] < self.offsets[row + 1]:
            block = self.items[self.offsets[row] : self.offsets[row + 1]]
        tail = self._tail.get(elem)
        if tail is None:
            return block
        return tail[:, 0] if block is None else np.concatenate((block, tail[:, 0]))

    def tail_items(self, elems: list[int]) -> npt.NDArray[np.int64]:
        """The tail's items for each of ``elems``, concatenated (one entry per posting)."""
        views = [v[:, 0] for v in map(self._tail.get, elems) if v is not None]
        if not views:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(views).astype(np.int64)
