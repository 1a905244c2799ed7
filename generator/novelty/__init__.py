"""The exact ROUGE-L novelty index, pure: :class:`NoveltyIndex` says whether a text is novel against the pool.

:mod:`generator.novelty.index` holds the index; the other modules are its internals (tokenizer and
float formula of rouge-score, vocabulary, columnar corpus, postings, prefix filter, bounds, top-k
search) and the optional C kernel ``_native.c``. Its knobs are one :class:`IndexConfig`.

The index itself (and numpy) is imported on first use, so that code that only passes an
:class:`IndexConfig` along (the composition root, the step context) does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from generator.novelty.config import IndexConfig

if TYPE_CHECKING:
    from generator.novelty.index import HAS_NATIVE, NoveltyIndex
    from generator.novelty.matches import Match, Verdict

__all__ = ["HAS_NATIVE", "IndexConfig", "Match", "NoveltyIndex", "Verdict"]

_LAZY = {"HAS_NATIVE": "index", "NoveltyIndex": "index", "Match": "matches", "Verdict": "matches"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"generator.novelty.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
