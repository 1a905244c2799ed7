"""DBSCAN over tag embeddings (cosine distance) that scales to tens of thousands of tags.

With ``min_samples == 1`` every point is a core point, so DBSCAN's clusters are exactly the connected
components of the graph whose edges join points at cosine distance <= eps. We find those edges block by
block (normalized embeddings, one bounded matrix product per block of rows against the rows after it, so
peak memory is about ``block_bytes`` whatever the number of tags) and take connected components with
scipy. Distances are computed as scikit-learn's ``cosine_distances`` does (1 - dot of L2-normalized
rows, in the input's dtype), so the partition equals ``DBSCAN(metric="cosine", eps, min_samples=1)``.
For ``min_samples > 1`` (not the paper's setting) scikit-learn's DBSCAN itself is used.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024


def cluster_labels(
    vectors: npt.NDArray[np.floating], eps: float, min_samples: int = 1,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> npt.NDArray[np.int64]:
    """One cluster label per row (DBSCAN semantics; noise points get their own label)."""
    n = int(vectors.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if min_samples > 1:
        return _sklearn_labels(vectors, eps, min_samples)
    return _components(_normalized(vectors), eps, block_bytes)


def _normalized(vectors: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    from sklearn.preprocessing import normalize

    array = np.asarray(vectors)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    result: npt.NDArray[np.floating] = normalize(array)
    return result


def _components(unit: npt.NDArray[np.floating], eps: float, block_bytes: int) -> npt.NDArray[np.int64]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = unit.shape[0]
    rows_per_block = max(1, block_bytes // (unit.itemsize * n))
    sources: list[npt.NDArray[np.int64]] = []
    targets: list[npt.NDArray[np.int64]] = []
    for start in range(0, n, rows_per_block):
        stop = min(n, start + rows_per_block)
        distances = unit[start:stop] @ unit[start:].T
        distances *= -1
        distances += 1
        row, col = np.nonzero(distances <= eps)
        keep = col > row  # the block's diagonal block: each pair once, no self loops
        sources.append(row[keep].astype(np.int64) + start)
        targets.append(col[keep].astype(np.int64) + start)
        del distances
    src = np.concatenate(sources)
    dst = np.concatenate(targets)
    graph = coo_matrix((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def _sklearn_labels(vectors: npt.NDArray[np.floating], eps: float, min_samples: int) -> npt.NDArray[np.int64]:
    from sklearn.cluster import DBSCAN

    labels = np.asarray(DBSCAN(eps=eps, min_samples=min_samples, metric="cosine").fit(vectors).labels_)
    noise = labels < 0
    labels = labels.astype(np.int64)
    labels[noise] = labels.max(initial=-1) + 1 + np.arange(int(noise.sum()))
    return labels
