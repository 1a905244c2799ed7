"""KNN-k: each item's distance to its k-th nearest other item in an embedding space.

InstructMining (Cao et al., 2023, Table 1) uses KNN-6, "the distance to the 6th-nearest neighbour in
the SentenceBERT embedding space", as its diversity indicator. Here the distance is Euclidean between
L2-normalised embeddings (so it lies in [0, 2] and equals sqrt(2 - 2·cosine)); the computation is exact,
done in row blocks so memory stays at ``block_rows × n`` floats whatever the pool size.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

KNN_K = 6  # InstructMining, Table 1 and the fitted rule of §4: KNN_6.
DEFAULT_BLOCK_ROWS = 512


def normalized(embeddings: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Rows scaled to unit L2 norm (all-zero rows stay zero), as float32 of shape (n, dim)."""
    matrix = np.asarray(embeddings, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D (n, dim) array, got shape {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: npt.NDArray[np.float32] = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return unit


def kth_neighbour_distances(
    embeddings: npt.ArrayLike, k: int = KNN_K, *, block_rows: int = DEFAULT_BLOCK_ROWS
) -> npt.NDArray[np.float64]:
    """Distance from each row to its ``k``-th nearest *other* row (NaN for all rows when n <= k).

    Exact: every pairwise distance is computed, ``block_rows`` rows at a time. A row is never its own
    neighbour; exact duplicates are neighbours at distance 0.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    unit = normalized(embeddings)
    n = unit.shape[0]
    result = np.full(n, np.nan, dtype=np.float64)
    if n <= k:
        return result
    squared_norms = np.einsum("ij,ij->i", unit, unit)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        # |a - b|² = |a|² + |b|² - 2a·b, built in place in the block's one (rows, n) buffer.
        squared = unit[start:stop] @ unit.T
        squared *= -2.0
        squared += squared_norms[None, :]
        squared += squared_norms[start:stop, None]
        rows = np.arange(stop - start)
        squared[rows, rows + start] = np.inf
        squared.partition(k - 1, axis=1)
        # clipped at 0 against rounding
        result[start:stop] = np.sqrt(np.maximum(squared[:, k - 1], 0.0).astype(np.float64))
    return result
