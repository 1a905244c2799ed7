"""The tokenized pool behind the novelty index: texts, token ids and sorted element ids.

Items live in flat numpy columns (one int32 per token) addressed by start offset and
length, so a million instructions cost ~8 bytes a token plus the text itself, and many
items can be gathered and compared against one query in a few vectorised steps.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from generator.novelty.postings import Column
from generator.novelty.rouge import f_from_lcs, lcs_with_masks
from generator.novelty.vocabulary import Encoded

Array = npt.NDArray[np.int64]


class Corpus:
    """Append-only store of tokenized items; item ``i`` is the i-th text added."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._lengths = Column(np.int32)
        self._starts = Column(np.int64)
        self._tids = Column(np.int32)  # token ids in text order (for LCS)
        self._elems = Column(np.int32)  # element ids, ascending within each item (for overlap)

    def __len__(self) -> int:
        return len(self.texts)

    def lengths(self) -> npt.NDArray[np.int32]:
        """Token count of every item (a view: do not keep it across ``add``)."""
        return self._lengths.view()

    def add(self, text: str, tids: Sequence[int], sorted_elems: Sequence[int]) -> int:
        """Store one item; returns its index."""
        self._starts.append(len(self._tids))
        self._lengths.append(len(tids))
        self._tids.extend(tids)
        self._elems.extend(sorted_elems)
        self.texts.append(text)
        return len(self.texts) - 1

    def add_bulk(self, texts: Iterable[str], encoded: Encoded) -> None:
        """Store many items at once (``encoded.elems`` is sorted within items in place)."""
        lengths = encoded.lengths
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64) + len(self._tids)
        _sort_within_items(encoded.elems, lengths)
        self.texts.extend(texts)
        self._starts.extend(starts)
        self._lengths.extend(lengths)
        self._tids.extend(encoded.tids)
        self._elems.extend(encoded.elems)

    def arrays(
        self,
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Views of lengths, starts, sorted elements and token ids (valid until the next add)."""
        return self._lengths.view(), self._starts.view(), self._elems.view(), self._tids.view()

    def tokens(self, item: int) -> list[int]:
        """Token ids of one item, in text order."""
        start = int(self._starts.view()[item])
        tokens: list[int] = self._tids.view()[start : start + int(self._lengths.view()[item])].tolist()
        return tokens

    def overlaps(self, items: Array, query_elems: npt.NDArray[np.int32]) -> Array:
        """Shared element count (= multiset token overlap) of each item with the query.

        ``query_elems`` must be sorted and distinct (elements of one text always are).
        """
        if len(items) == 0 or len(query_elems) == 0:
            return np.zeros(len(items), dtype=np.int64)
        lens = self._lengths.view()[items].astype(np.int64)
        ends = np.cumsum(lens)
        gather = np.repeat(self._starts.view()[items] - (ends - lens), lens) + np.arange(ends[-1])
        values = self._elems.view()[gather]
        pos = np.minimum(np.searchsorted(query_elems, values), len(query_elems) - 1)
        hits = np.concatenate(([0], np.cumsum(query_elems[pos] == values)))
        counts: Array = hits[ends] - hits[ends - lens]
        return counts

    def score(self, masks: dict[Hashable, int], n: int, item: int) -> float:
        """Exact ROUGE-L F between the n-token query (as LCS bit masks) and one item."""
        tokens = self.tokens(item)
        return f_from_lcs(lcs_with_masks(masks, n, tokens), n, len(tokens))


def _sort_within_items(elems: npt.NDArray[np.int32], lengths: npt.NDArray[np.int64]) -> None:
    """Sort each item's slice of ``elems`` (all >= 0) in place, a chunk of items at a time."""
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    step = 1 << 16
    for first in range(0, len(lengths), step):
        last = min(first + step, len(lengths))
        lo, hi = int(offsets[first]), int(offsets[last])
        item = np.repeat(np.arange(last - first, dtype=np.int64), lengths[first:last])
        # (item, elem) packed in one int64: a plain sort orders by item, then element.
        packed = np.sort((item << 32) | elems[lo:hi].astype(np.int64))
        elems[lo:hi] = packed & 0xFFFFFFFF


def f_bounds(overlaps: Array, n: int, lengths: Array) -> npt.NDArray[np.float64]:
    """rouge_score's F formula evaluated at LCS = overlap, vectorised: an upper bound on F.

    numpy's float64 division and products round exactly like Python's, and the operation
    order is the same as ``f_from_lcs``, so the bound equals the score when LCS = overlap.
    """
    over = overlaps.astype(np.float64)
    precision = over / lengths
    recall = over / n
    total = precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        f = 2 * precision * recall / total
    return np.where(total > 0, f, 0.0)
