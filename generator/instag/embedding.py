"""The embedder seam as the pure stages see it: texts in, one float32 row each out.

Implementations (wordllama, sentence-transformers, OpenAI ``/v1/embeddings``, a fake) live in
``generator.llm.embedder``, which re-exports this Protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt


class Embedder(Protocol):
    """Turns texts into one float32 row each, ``dim`` wide; ``name`` is stored with a vocabulary."""

    @property
    def dim(self) -> int: ...

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...
