"""A lexical stand-in tagger: tags from an instruction's own words, no model needed.

InsTag tags are *intentions* written by an LLM; this tagger only approximates them with the
instruction's lead verb and its content words, lower-cased and unstemmed (a tag-hints prompt
names tags to the model, so they must read as words, not stems). It exists so steering and
``bench/steering.py`` run where no tagging model is at hand (the embedded 270M model tags
poorly and slowly); it is deterministic, so every arm of a bench is scored by exactly the
same tagger. Its tags count words, not intentions: figures
obtained with it say so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

__all__ = ["LexicalTagger", "Tagger"]

_WORD = re.compile(r"[a-z]+")
# Function words and task boilerplate that say nothing about what is asked.
_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further given
had has have having he her here hers him his how i if in into is it its itself just me more most
my no nor not now of off on once only or other our out over own same she should so some such than
that the their them then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours following below
write create make give provide use using based one two three list please task text sentence
"""
_STOP = frozenset(_STOP_TEXT.split())


class Tagger(Protocol):
    """Tags instructions: one tuple of raw tags per instruction, in order."""

    @property
    def name(self) -> str:
        """What tagged (stored with the figures it produced)."""
        ...

    def tag(self, instructions: Sequence[str]) -> list[tuple[str, ...]]:
        """The raw tags of each instruction."""
        ...


class LexicalTagger:
    """The lead word (the task's verb, as in "summarize") plus up to ``max_words`` content words."""

    def __init__(self, max_words: int = 4, min_chars: int = 4) -> None:
        self.max_words = max_words
        self.min_chars = min_chars
        self.name = f"lexical(max_words={max_words})"

    def tag(self, instructions: Sequence[str]) -> list[tuple[str, ...]]:
        """Tags of each instruction, deterministic; an instruction with no words gets none."""
        return [self._tag_one(text) for text in instructions]

    def _tag_one(self, text: str) -> tuple[str, ...]:
        words = _WORD.findall(text.lower())
        if not words:
            return ()
        tags = [words[0]]
        for word in words[1:]:
            if word in _STOP or len(word) < self.min_chars:
                continue
            tags.append(word)
            if len(dict.fromkeys(tags)) > self.max_words:
                break
        return tuple(dict.fromkeys(tags))[: self.max_words + 1]
