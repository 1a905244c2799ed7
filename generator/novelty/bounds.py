"""Exact pruning arithmetic for ROUGE-L F >= threshold, in rouge_score's floating point.

For token counts n and m, the F of a pair is ``f_from_lcs(lcs, n, m)``; it is symmetric in
n and m and strictly increasing in lcs (consecutive LCS values are 2/(n+m) apart in exact
arithmetic, far more than the few ulps of rounding). Every bound here is therefore decided
by evaluating that very float formula, never by a closed form, so a pair whose F lands
exactly on the threshold (lcs 7 of 10 and 10 -> 0.7) is never pruned.

* ``lcs_needed(n, m)``: the least LCS whose F reaches the threshold (``None``: impossible,
  the shorter text is too short).
* ``length_range(n)``: the item lengths m for which some LCS can reach the threshold.
* ``min_overlap(n)``: the least ``lcs_needed(n, m)`` over all m; since LCS <= multiset
  overlap, two texts can only match if they share that many tokens, which is what prefix
  filtering needs (prefix size = n - min_overlap(n) + 1).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from generator.novelty.rouge import f_from_lcs

# Larger than any LCS: marks lengths that can never reach the threshold.
UNREACHABLE = np.iinfo(np.int32).max


class Bounds:
    """Threshold-specific pruning tables, computed lazily and cached per token count."""

    def __init__(self, threshold: float) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold
        # Per-instance caches (functools caches on methods would keep instances alive).
        self.lcs_needed = lru_cache(maxsize=1 << 16)(self._lcs_needed)
        self.length_range = lru_cache(maxsize=4096)(self._length_range)
        self.min_overlap = lru_cache(maxsize=4096)(self._min_overlap)
        self.needed_table = lru_cache(maxsize=4096)(self._needed_table)

    def reaches(self, lcs: int, n: int, m: int) -> bool:
        """Whether an LCS of ``lcs`` between texts of n and m tokens scores >= threshold."""
        return f_from_lcs(lcs, n, m) >= self.threshold

    def _lcs_needed(self, n: int, m: int) -> int | None:
        if n == 0 or m == 0:
            return None
        top = min(n, m)
        # Start 2 below the exact real-valued answer: F there is >= 4/(n+m) below the
        # threshold, so no smaller LCS can pass even with rounding.
        lcs = max(1, math.floor(self.threshold * (n + m) / 2) - 2)
        while lcs <= top:
            if self.reaches(lcs, n, m):
                return lcs
            lcs += 1
        return None

    def _length_range(self, n: int) -> tuple[int, int]:
        """Inclusive [lo, hi] of lengths m with ``lcs_needed(n, m)`` defined (n >= 1).

        Feasibility means F(min(n, m), n, m) >= t, which rises with m up to n (F = 1 at
        m = n) and falls after it, so the feasible lengths form one interval around n.
        """
        t = self.threshold
        lo = max(1, math.floor(t * n / (2 - t)) - 2)
        while self.lcs_needed(n, lo) is None:
            lo += 1
        hi = math.ceil(n * (2 - t) / t) + 2
        while self.lcs_needed(n, hi) is None:
            hi -= 1
        return lo, hi

    def _min_overlap(self, n: int) -> int:
        """Least LCS any text can share with an n-token text and still reach the threshold.

        ``lcs_needed(n, m)`` never decreases as m grows (F falls with m for a fixed LCS), so
        the minimum sits at the shortest feasible length.
        """
        lo, _ = self.length_range(n)
        needed = self.lcs_needed(n, lo)
        assert needed is not None
        return needed

    def prefix_size(self, n: int) -> int:
        """How many of a text's rarest tokens must be indexed or probed (prefix filtering)."""
        return n - self.min_overlap(n) + 1

    def _needed_table(self, n: int) -> npt.NDArray[np.int32]:
        """``table[min(m, hi + 1)] = lcs_needed(n, m)``, UNREACHABLE where impossible.

        Index it with lengths clipped to ``len(table) - 1``: the last entry stands for every
        length above the feasible range.
        """
        lo, hi = self.length_range(n)
        table = np.full(hi + 2, UNREACHABLE, dtype=np.int32)
        for m in range(lo, hi + 1):
            needed = self.lcs_needed(n, m)
            table[m] = UNREACHABLE if needed is None else needed
        return table
