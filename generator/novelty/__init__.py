"""The exact ROUGE-L novelty index, pure: :class:`NoveltyIndex` says whether a text is novel against the pool.

:mod:`generator.novelty.index` holds the index; the other modules are its internals (tokenizer and
float formula of rouge-score, vocabulary, columnar corpus, postings, prefix filter, bounds, top-k
search) and the optional C kernel ``_native.c``.
"""

from generator.novelty.index import HAS_NATIVE, NoveltyIndex
from generator.novelty.matches import Match, Verdict

__all__ = ["HAS_NATIVE", "Match", "NoveltyIndex", "Verdict"]
