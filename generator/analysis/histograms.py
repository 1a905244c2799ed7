"""Histogram data: binned counts of lengths, novelty scores, instances per task, indicators.

The report draws bars from these records rather than shipping every raw value to the browser, so a
50K-task page stays small. Bins are computed here (numpy), deterministically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_BINS = 30


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts per bin: bin ``i`` covers ``[edges[i], edges[i+1])`` (the last bin is closed)."""

    title: str
    unit: str
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    missing: int = 0  # values that were null (e.g. perplexity the endpoint could not give)
    missing_reason: str = ""
    marker: float | None = None  # a line to draw, e.g. the 0.7 ROUGE-L threshold

    @property
    def total(self) -> int:
        """How many non-null values were binned."""
        return sum(self.counts)


def histogram(
    title: str,
    values: Sequence[float | None],
    *,
    unit: str = "",
    bins: int = DEFAULT_BINS,
    value_range: tuple[float, float] | None = None,
    integer: bool = False,
    missing_reason: str = "",
    marker: float | None = None,
) -> Histogram:
    """Bin the non-null, finite values; ``integer`` gives unit-wide bins when the range is small."""
    present = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    missing = len(values) - int(present.size)
    if present.size == 0:
        return Histogram(title, unit, (), (), missing, missing_reason if missing else "", marker)
    low, high = value_range if value_range is not None else (float(present.min()), float(present.max()))
    if integer:
        low, high = math.floor(low), math.floor(high) + 1
        step = max(1, math.ceil((high - low) / bins))
        edges = np.arange(low, high + step, step, dtype=np.float64)
    else:
        if high <= low:
            high = low + 1.0
        edges = np.linspace(low, high, bins + 1)
    counts, edges = np.histogram(present, bins=edges)
    return Histogram(
        title,
        unit,
        tuple(float(e) for e in edges),
        tuple(int(c) for c in counts),
        missing,
        missing_reason if missing else "",
        marker,
    )
