"""A table embedder for tests: each tag gets the vector written for it (unknown tags: a fresh axis)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt


def at_angle(degrees: float) -> tuple[float, float, float]:
    """A unit vector in the first plane, ``degrees`` from the first axis."""
    return (math.cos(math.radians(degrees)), math.sin(math.radians(degrees)), 0.0)


class TableEmbedder:
    def __init__(self, table: Mapping[str, Sequence[float]]) -> None:
        self.table = dict(table)
        self.calls: list[list[str]] = []

    @property
    def dim(self) -> int:
        return 3

    @property
    def name(self) -> str:
        return "table"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(list(texts))
        rows = [self.table.get(t, (0.0, 0.0, 1.0)) for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(-1, 3)
