"""Types of the optional C kernel built from ``_native.c`` (arguments are numpy arrays)."""

from typing import Any

import numpy.typing as npt

def best_match(
    rows: npt.NDArray[Any], lo_off: npt.NDArray[Any], hi_off: npt.NDArray[Any], probe: npt.NDArray[Any],
    seg_keys: list[npt.NDArray[Any]], seg_items: list[npt.NDArray[Any]], extra: npt.NDArray[Any],
    min_hits: int, counts: npt.NDArray[Any], lengths: npt.NDArray[Any], starts: npt.NDArray[Any],
    elems: npt.NDArray[Any], tids: npt.NDArray[Any], needed: npt.NDArray[Any],
    query_elems: npt.NDArray[Any], query_tids: npt.NDArray[Any], threshold: float, /,
) -> tuple[float, int] | None: ...
def fill_inverted(
    elems: npt.NDArray[Any], lengths: npt.NDArray[Any], base: int, cursor: npt.NDArray[Any],
    out: npt.NDArray[Any], /,
) -> None: ...
def nearest(
    query_elems: npt.NDArray[Any], query_tids: npt.NDArray[Any], use: int, unseen_bound: float, base: int,
    offsets: npt.NDArray[Any], items: npt.NDArray[Any], extra: npt.NDArray[Any], counts: npt.NDArray[Any],
    lengths: npt.NDArray[Any], starts: npt.NDArray[Any], elems: npt.NDArray[Any], tids: npt.NDArray[Any],
    k: int, /,
) -> tuple[list[tuple[float, int]], bool]: ...
