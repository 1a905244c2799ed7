"""Compact append-only storage for the novelty index: numpy columns and posting lists.

Both keep integers in contiguous machine arrays (4 bytes an entry) rather than Python
lists of int objects (~36 bytes an entry): at a million instructions that is the
difference between ~100 MB and ~1 GB.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt


class Column:
    """An append-only numpy array with amortised O(1) growth (capacity doubling)."""

    def __init__(self, dtype: npt.DTypeLike, capacity: int = 1024) -> None:
        self._data: npt.NDArray[Any] = np.zeros(max(capacity, 16), dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _reserve(self, extra: int) -> None:
        needed = self._size + extra
        if needed > len(self._data):
            # 1.25x growth: amortised O(1) appends without doubling a 100 MB column.
            capacity = max(needed, len(self._data) + len(self._data) // 4 + 1024)
            grown = np.zeros(capacity, dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown

    def append(self, value: int) -> None:
        """Append one value."""
        self._reserve(1)
        self._data[self._size] = value
        self._size += 1

    def extend(self, values: npt.ArrayLike) -> None:
        """Append every value of a sequence or array (an empty column adopts a numpy array)."""
        chunk = np.asarray(values, dtype=self._data.dtype)
        if self._size == 0 and chunk.ndim == 1 and len(chunk) > len(self._data):
            self._data = chunk
            self._size = len(chunk)
            return
        self._reserve(len(chunk))
        self._data[self._size : self._size + len(chunk)] = chunk
        self._size += len(chunk)

    def view(self) -> npt.NDArray[Any]:
        """The filled part, as a view; do not keep it across appends (they may reallocate)."""
        return self._data[: self._size]


class Postings:
    """Inverted lists: key -> records of ``width`` int32 values, stored interleaved.

    ``get`` returns a zero-copy numpy view; callers must drop it before the next ``add``
    to the same key (an array that exports its buffer cannot grow).
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self._lists: dict[int, array[int]] = {}
        self.entries = 0

    def add(self, key: int, record: Iterable[int]) -> None:
        """Append one record (``width`` values) to the list of ``key``."""
        lst = self._lists.get(key)
        if lst is None:
            lst = self._lists[key] = array("i")
        lst.extend(record)
        self.entries += 1

    def get(self, key: int) -> npt.NDArray[np.int32] | None:
        """The records of ``key`` as a (k, width) int32 view, or None when it has none."""
        lst = self._lists.get(key)
        if lst is None:
            return None
        return np.frombuffer(lst, dtype=np.int32).reshape(-1, self.width)

    def keys(self) -> list[int]:
        """Every key that has a list, in first-added order."""
        return list(self._lists)
