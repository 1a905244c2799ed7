"""The novelty index's knobs, in one frozen record passed in by whoever builds an index.

The ROUGE-L threshold is not here: it is the pool's (``GenerationParams.rouge_threshold``, 0.7 after
Wang et al. 2022 §2.3) and is given to each index with its texts. These knobs change how the exact
answer is found, never the answer: every combination decides exactly as brute-force rouge_score does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IndexConfig"]


@dataclass(frozen=True)
class IndexConfig:
    """How the exact ROUGE-L index searches (defaults are the measured best on instruction text)."""

    # l - 1 for the l-prefix filter (Wang, Li & Feng 2012, "Can we beat the prefix filtering?" §3). With
    # l = 2 probing reads ~3x more entries but candidates drop ~20x on instruction-like text, and
    # counting entries is far cheaper than verifying items.
    prefix_extra: int = 1  # >= 1 (l >= 2)
    # Use the optional C kernel (generator/novelty/_native.c) when it was built; False takes the numpy
    # path (same answers). Set from SELFINSTRUCT_NATIVE=0 by the composition root (generator/wiring.py).
    native: bool = True
    # Items added one by one wait in an unsorted tail of the prefix index until this many, then are
    # sorted into a segment (small: each probe scans the tail linearly).
    tail_items: int = 2048
    # Postings added to the full inverted index (nearest()) since its last rebuild before it is
    # rebuilt: at least this many, or a quarter of the index.
    inverted_min_tail: int = 1 << 16

    def __post_init__(self) -> None:
        if self.prefix_extra < 1 or self.tail_items < 1 or self.inverted_min_tail < 1:
            raise ValueError(f"invalid novelty index config: {self}")
