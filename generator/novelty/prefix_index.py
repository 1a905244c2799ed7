"""Prefix-filtering postings with length and position baked into the sort key.

Every item of m tokens is indexed under its rarest elements (the caller says how many);
the entry for the element at position j is keyed ``(element, m, j)``. With the l-prefix
filter (``slack`` = l - 1), a match of a query of n tokens shares at least ``need(n, m)``
elements, so its l-th shared element sits at position ``i <= n - need + slack`` of the
query and ``j <= m - need + slack`` of the item (PPJoin's positional argument: enough
shared elements must follow it). A query probing its element at position i therefore
only wants lengths m with ``need(n, m) - slack <= n - i``, and of those only entries
with ``j <= m - need(n, m) + slack``. With entries sorted by the key, each wanted
(element, m) slice is one contiguous range, found by binary search: the index never
reads an entry these filters would throw away.

Storage is log-structured: recent items sit in a small dict-of-lists tail; when the
tail fills up it becomes a sorted segment, and segments of similar size are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from generator.novelty.postings import Postings

I64 = npt.NDArray[np.int64]
_EMPTY: I64 = np.zeros(0, dtype=np.int64)
_ELEM_BIAS = 1 << 31  # element ids are int32 (negative for late elements): bias to >= 0
MAX_LEN = (1 << 15) - 1  # key = elem << 31 | m << 16 | j, so m must fit 15 bits
_BULK_ITEMS = 1 << 16  # items per vectorised step of the start-up build
_MERGE_RATIO = 2  # merge the newest segment into the previous one once it is half its size


class _Segment:
    """Sorted (key, item) pairs. Takes ownership of the arrays and sorts them in place."""

    def __init__(self, keys: I64, items: npt.NDArray[np.int32], runs: bool = False) -> None:
        # ``runs``: the keys are a few sorted runs back to back, which a stable sort
        # (timsort) merges in linear time.
        order = np.argsort(keys, kind="stable" if runs else None)
        keys[:] = keys[order]  # in place: the unsorted copy is freed at once
        items[:] = items[order]
        del order
        self.keys, self.items = keys, items

    def __len__(self) -> int:
        return len(self.keys)


def pack(elems: I64, lengths: I64, positions: I64) -> I64:
    """Sort key of entries: element, then item length, then position in the item."""
    return ((elems + _ELEM_BIAS) << 31) | (lengths << 16) | positions


class PrefixIndex:
    """Items' prefix elements, searchable by (element, length, position) ranges."""

    def __init__(self, tail_items: int = 2048) -> None:
        """``tail_items``: items added one by one wait in the tail until this many, then are sorted."""
        self._max_tail = tail_items
        self._segments: list[_Segment] = []
        self._tail = Postings(width=3)  # element -> (item, m, j)
        self._tail_items = 0

    def add(self, item: int, length: int, prefix: list[int]) -> None:
        """Index one item of ``length`` tokens under its prefix elements (rarest first)."""
        for position, elem in enumerate(prefix):
            self._tail.add(elem, (item, length, position))
        self._tail_items += 1
        if self._tail_items >= self._max_tail:
            self._flush()

    def add_bulk(self, elems: npt.NDArray[np.int32], lengths: I64, sizes: npt.NDArray[np.intp]) -> None:
        """Index items 0, 1, ... at once (start-up build) as one sorted segment.

        Item t holds ``elems[sum(lengths[:t]) :][: lengths[t]]``, sorted rarest first; its
        first ``sizes[lengths[t]]`` elements are indexed. Worked through in chunks so that
        temporaries stay small; items too long to pack go to the tail.
        """
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        keys: list[I64] = []
        items: list[npt.NDArray[np.int32]] = []
        for first in range(0, len(lengths), _BULK_ITEMS):
            last = min(first + _BULK_ITEMS, len(lengths))
            lo, hi = int(offsets[first]), int(offsets[last])
            m = np.repeat(lengths[first:last], lengths[first:last])
            item = np.repeat(np.arange(first, last, dtype=np.int32), lengths[first:last])
            position = np.arange(lo, hi, dtype=np.int64) - np.repeat(offsets[first:last], lengths[first:last])
            keep = (position < sizes[m]) & (m <= MAX_LEN)
            keys.append(pack(elems[lo:hi][keep].astype(np.int64), m[keep], position[keep]))
            items.append(item[keep])
        for long_item in np.flatnonzero(lengths > MAX_LEN).tolist():
            start, size = int(offsets[long_item]), int(lengths[long_item])
            self.add(long_item, size, elems[start : start + int(sizes[size])].tolist())
        all_keys, all_items = np.concatenate(keys), np.concatenate(items)
        del keys, items  # free the chunks before the segment sorts
        self._push(_Segment(all_keys, all_items))

    def _flush(self) -> None:
        keys = self._tail.keys()
        rows = [self._tail.get(e) for e in keys]
        self._tail = Postings(width=3)
        self._tail_items = 0
        if not keys:
            return
        elems = np.repeat(np.asarray(keys, dtype=np.int64), [0 if r is None else len(r) for r in rows])
        block = np.concatenate([r for r in rows if r is not None]).astype(np.int64)
        short = block[:, 1] <= MAX_LEN
        for elem, (item, m, j) in zip(elems[~short].tolist(), block[~short].tolist(), strict=True):
            self._tail.add(elem, (item, m, j))  # too long to pack: stays in the tail for good
        keys_short = pack(elems[short], block[short, 1], block[short, 2])
        self._push(_Segment(keys_short, block[short, 0].astype(np.int32)))

    def _push(self, segment: _Segment) -> None:
        if len(segment) == 0:
            return
        self._segments.append(segment)
        while len(self._segments) > 1 and len(self._segments[-1]) * _MERGE_RATIO >= len(self._segments[-2]):
            newer, older = self._segments.pop(), self._segments.pop()
            keys = np.concatenate((older.keys, newer.keys))
            items = np.concatenate((older.items, newer.items))
            del newer, older
            self._segments.append(_Segment(keys, items, runs=True))

    def probe(self, plan: ProbePlan, elems: list[int], needed: npt.NDArray[np.int32]) -> I64:
        """Items with an entry the query must consider, once per such entry (unsorted).

        ``elems``: the query's probed elements, rarest first, at the positions the plan
        was made for; ``needed`` as for :func:`make_plan` (used for the tail).
        """
        elem_keys = (np.asarray(elems, dtype=np.int64) + _ELEM_BIAS) << 31
        out: list[npt.NDArray[np.signedinteger[Any]]] = []
        if self._segments and len(plan.rows):
            per_key = elem_keys[plan.rows]
            lo_keys, hi_keys = per_key + plan.lo_off, per_key + plan.hi_off
            for seg in self._segments:
                starts = np.searchsorted(seg.keys, lo_keys, "left")
                counts = np.searchsorted(seg.keys, hi_keys, "right") - starts
                total = int(counts.sum())
                if total:
                    ends = np.cumsum(counts)
                    out.append(seg.items[np.repeat(starts - (ends - counts), counts) + np.arange(total)])
        tail = self.probe_tail(plan, elems, needed)
        if len(tail):
            out.append(tail)
        if not out:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(out).astype(np.int64) if len(out) > 1 else out[0].astype(np.int64)

    def segments(self) -> tuple[list[I64], list[npt.NDArray[np.int32]]]:
        """Sorted keys and items of every segment (for the native kernel; read-only)."""
        return [s.keys for s in self._segments], [s.items for s in self._segments]

    def probe_tail(self, plan: ProbePlan, elems: list[int], needed: npt.NDArray[np.int32]) -> I64:
        """Like ``probe``, for the unsorted tail only."""
        if self._tail.entries == 0:
            return _EMPTY
        views, pos = [], []
        for i, elem in enumerate(elems):
            view = self._tail.get(elem)
            if view is not None:
                views.append(view)
                pos.append(plan.first + i)
        if not views:
            return _EMPTY
        block = np.concatenate(views).astype(np.int64)
        qpos = np.repeat(np.asarray(pos, dtype=np.int64), [len(v) for v in views])
        m, j = block[:, 1], block[:, 2]
        need = needed[np.minimum(m, len(needed) - 1)].astype(np.int64) - plan.slack
        found: I64 = block[(need <= plan.n - qpos) & (need <= m - j), 0]
        return found


@dataclass(frozen=True)
class ProbePlan:
    """Which (probe element, item length, position range) slices a query shape reads.

    Depends only on the query length n, the position ``first`` of its first probed
    element, how many it probes and the threshold, so it is computed once per shape.
    """

    n: int
    first: int
    slack: int
    rows: I64  # probed element (0-based) of each wanted slice
    lo_off: I64  # key offset of the slice start: m << 16
    hi_off: I64  # key offset of the slice end: m << 16 | (m - need + slack)


def make_plan(
    n: int, first: int, count: int, needed: npt.NDArray[np.int32], lo: int, slack: int
) -> ProbePlan:
    """Plan for a query of n tokens probing ``count`` elements from position ``first``.

    ``needed[m]``: least LCS for F >= threshold against length m, for m in ``lo`` to
    ``len(needed) - 2``. With the l-prefix filter (l = slack + 1), the l-th shared element
    sits at a position i <= n - need + slack in the query and j <= m - need + slack in the
    item, so only those (i, m) pairs and j ranges are read.
    """
    hi = min(len(needed) - 2, MAX_LEN)
    lengths = np.arange(lo, hi + 1, dtype=np.int64)
    need = needed[lo : hi + 1].astype(np.int64) - slack
    qpos = first + np.arange(count, dtype=np.int64)
    rows, cols = np.nonzero(need[None, :] <= (n - qpos)[:, None])
    return ProbePlan(
        n=n, first=first, slack=slack, rows=rows.astype(np.int64),
        lo_off=lengths[cols] << 16, hi_off=(lengths[cols] << 16) | (lengths[cols] - need[cols]),
    )
