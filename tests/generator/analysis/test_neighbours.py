from __future__ import annotations

import numpy as np
import pytest

from generator.analysis.neighbours import kth_neighbour_distances, normalized


def brute_force(embeddings: np.ndarray, k: int) -> np.ndarray:
    unit = normalized(embeddings).astype(np.float64)
    out = []
    for i in range(len(unit)):
        distances = sorted(float(np.linalg.norm(unit[i] - unit[j])) for j in range(len(unit)) if j != i)
        out.append(distances[k - 1])
    return np.array(out)


@pytest.mark.parametrize("block_rows", [1, 7, 64, 1000])
def test_blocked_knn6_equals_brute_force_whatever_the_block_size(block_rows: int) -> None:
    rng = np.random.default_rng(3)
    embeddings = rng.normal(size=(90, 12)).astype(np.float32)
    embeddings[10] = embeddings[11]  # an exact duplicate is a neighbour at distance 0
    got = kth_neighbour_distances(embeddings, 6, block_rows=block_rows)
    np.testing.assert_allclose(got, brute_force(embeddings, 6), atol=1e-5)


def test_all_zero_rows_sit_at_distance_one_from_every_unit_row() -> None:
    # A zero row (an empty text) keeps norm 0, so rows are not all unit: the ranking must use |b|².
    rng = np.random.default_rng(4)
    embeddings = rng.normal(size=(40, 8)).astype(np.float32)
    embeddings[[3, 17, 30]] = 0.0
    got = kth_neighbour_distances(embeddings, 6, block_rows=16)
    np.testing.assert_allclose(got, brute_force(embeddings, 6), atol=1e-5)
    np.testing.assert_allclose(got[[3, 17, 30]], 1.0, atol=1e-6)  # two zero neighbours, then unit rows


def test_knn_on_points_of_a_circle_has_a_known_answer() -> None:
    angles = np.arange(12) * (2 * np.pi / 12)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    # neighbours of any point: two at 30°, two at 60°, two at 90°; the 6th is at 90°: chord sqrt(2).
    np.testing.assert_allclose(kth_neighbour_distances(circle, 6), np.full(12, np.sqrt(2)), atol=1e-6)
    np.testing.assert_allclose(
        kth_neighbour_distances(circle, 1), np.full(12, 2 * np.sin(np.pi / 12)), atol=1e-6
    )


def test_a_pool_of_k_or_fewer_items_has_no_kth_neighbour() -> None:
    assert np.isnan(kth_neighbour_distances(np.eye(6), 6)).all()
    assert not np.isnan(kth_neighbour_distances(np.eye(7), 6)).any()


def test_embeddings_must_be_a_matrix() -> None:
    with pytest.raises(ValueError, match="2-D"):
        kth_neighbour_distances(np.zeros(5))
