"""The blocked connected-components clustering gives exactly scikit-learn's DBSCAN partitions."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.cluster import DBSCAN

from generator.instag.clustering import cluster_labels


def partition(labels: npt.NDArray[np.int64]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for index, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(index)
    return {frozenset(members) for members in groups.values()}


def clustered_points(seed: int, n: int = 400, dim: int = 6, centers: int = 40) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    middle = rng.normal(size=(centers, dim))
    return (middle[rng.integers(0, centers, n)] + rng.normal(scale=0.25, size=(n, dim))).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("block_bytes", [1024, 64 * 1024 * 1024])
def test_clusters_equal_sklearn_dbscan_cosine_with_min_samples_1(seed: int, block_bytes: int) -> None:
    points = clustered_points(seed)
    expected = DBSCAN(eps=0.05, min_samples=1, metric="cosine").fit(points).labels_
    ours = cluster_labels(points, eps=0.05, min_samples=1, block_bytes=block_bytes)
    assert partition(ours) == partition(np.asarray(expected))
    assert 1 < len(partition(ours)) < len(points)  # the data really has merged and separate points


def test_min_samples_above_1_gives_noise_points_their_own_label() -> None:
    points = np.asarray([[1, 0], [0.999, 0.01], [0, 1]], dtype=np.float32)
    assert partition(cluster_labels(points, eps=0.05, min_samples=2)) == {frozenset({0, 1}), frozenset({2})}


def test_no_points_give_no_labels() -> None:
    assert cluster_labels(np.zeros((0, 4), dtype=np.float32), eps=0.05).shape == (0,)
