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
    # |a - b|² = |a|² + |b|² - 2a·b, and |a|² is the same along a row: ranking a row's neighbours needs
    # only s = a·b - |b|²/2 (largest first), so each block is one matmul, plus one subtraction when some
    # rows are all-zero (norm 0, not 1). Then d² = |a|² - 2s of the k-th largest s.
    offsets = squared_norms / 2.0
    uniform = bool(np.all(offsets == offsets[0]))
    shift = float(offsets[0]) if uniform else 0.0  # subtracted once per row instead of per entry
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        score = unit[start:stop] @ unit.T
        if not uniform:
            score -= offsets[None, :]
        rows = np.arange(stop - start)
        score[rows, rows + start] = -np.inf
        score.partition(n - k, axis=1)  # in place: column n - k holds the k-th largest score
        kth = score[:, n - k].astype(np.float64) - shift
        # clipped at 0 against rounding
        result[start:stop] = np.sqrt(np.maximum(squared_norms[start:stop] - 2.0 * kth, 0.0))
    return result
