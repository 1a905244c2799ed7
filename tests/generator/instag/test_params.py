"""The paper's thresholds and their scaling to small pools."""

from __future__ import annotations

from generator.instag.params import InsTagParams, scaled_params


def test_the_defaults_are_the_papers_values() -> None:
    params = InsTagParams()
    figures = (params.alpha, params.eps, params.min_samples, params.support, params.confidence)
    assert figures == (20, 0.05, 1, 40, 0.99)


def test_thresholds_scale_linearly_with_the_pool_and_keep_their_floors() -> None:
    assert (scaled_params(300_000).alpha, scaled_params(300_000).support) == (20, 40)
    assert (scaled_params(50_000).alpha, scaled_params(50_000).support) == (3, 7)
    assert (scaled_params(200).alpha, scaled_params(200).support) == (1, 2)


def test_params_round_trip_through_a_dict_ignoring_unknown_keys() -> None:
    params = scaled_params(50_000)
    assert InsTagParams.from_dict({**params.to_dict(), "later": 1}) == params
