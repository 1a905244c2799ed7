"""Instruction filters (§2.2 "Filtering and Postprocessing"), applied before the novelty check.

One pure function, :func:`filter_instruction`, returns the first failed check as a
:class:`~generator.records.Rejection` (``stage=Stage.FILTER``) or ``None`` to keep the
instruction. Checks run in a fixed order so a candidate always gets the same reason:

1. ``TOO_SHORT``  -- at most ``params.min_words_exclusive`` words (empty text included);
2. ``TOO_LONG``   -- more than ``params.max_words`` words (words = whitespace split);
3. ``BLACKLISTED`` -- a ``params.blacklist`` entry as a whole word or phrase, any case
   ("Graph" matches "graph", "graphics" does not; "go to" matches "Go  to" but not
   "ago to" or "go tomorrow"); ``detail`` names the entry;
4. ``WRITE_A_PROGRAM`` -- starts with "Write a program" (any case);
5. ``PUNCTUATION_START`` -- first character in :data:`string.punctuation`;
6. ``NON_ASCII_START`` -- first character outside ASCII ("Écrire ...");
7. ``CONTROL_CHARACTERS`` -- a NUL or other control character (newline and tab are fine), or
   the U+FFFD the database stores in place of one: not in the paper, but no training set wants
   them and PostgreSQL cannot store a NUL.

Leading and trailing whitespace is ignored by every check.
"""

from __future__ import annotations

import re
import string
from functools import cache

from generator import characters
from generator.records import Reason, Rejection, Stage
from generator.selfinstruct.params import GenerationParams

__all__ = ["blacklist_match", "filter_instruction"]

# The paper's filter targets program-writing prompts; "\b" keeps "Write a programmer's
# bio" (a text task) from being caught by a bare prefix test.
_WRITE_A_PROGRAM = re.compile(r"write\s+a\s+program\b", re.IGNORECASE)


@cache
def _blacklist_patterns(blacklist: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Compile each entry once per blacklist: words joined by any whitespace, word-bounded."""
    patterns = []
    for entry in blacklist:
        words = entry.split()
        if not words:
            continue
        body = r"\s+".join(re.escape(word) for word in words)
        patterns.append((entry, re.compile(rf"\b{body}\b", re.IGNORECASE)))
    return tuple(patterns)


def blacklist_match(text: str, blacklist: tuple[str, ...]) -> str | None:
    """Return the first ``blacklist`` entry found in ``text`` as a whole word/phrase, else ``None``."""
    for entry, pattern in _blacklist_patterns(blacklist):
        if pattern.search(text):
            return entry
    return None


def _reject(reason: Reason, text: str, detail: str) -> Rejection:
    return Rejection(stage=Stage.FILTER, reason=reason, text=text, detail=detail)


def filter_instruction(text: str, params: GenerationParams) -> Rejection | None:
    """Return the rejection for the first failed filter (order in the module docstring), or ``None``."""
    stripped = text.strip()
    n_words = len(stripped.split())
    if n_words == 0 or n_words <= params.min_words_exclusive:
        detail = f"{n_words} words, need more than {params.min_words_exclusive}"
        return _reject(Reason.TOO_SHORT, text, detail)
    if n_words > params.max_words:
        return _reject(Reason.TOO_LONG, text, f"{n_words} words, at most {params.max_words} allowed")
    entry = blacklist_match(stripped, params.blacklist)
    if entry is not None:
        return _reject(Reason.BLACKLISTED, text, f"contains blacklisted {entry!r}")
    if _WRITE_A_PROGRAM.match(stripped):
        return _reject(Reason.WRITE_A_PROGRAM, text, "starts with 'Write a program'")
    first = stripped[0]
    if first in string.punctuation:
        return _reject(Reason.PUNCTUATION_START, text, f"starts with punctuation {first!r}")
    if not first.isascii():
        return _reject(Reason.NON_ASCII_START, text, f"starts with non-ASCII {first!r}")
    unwanted = characters.unwanted_characters(stripped)
    if unwanted:
        return _reject(Reason.CONTROL_CHARACTERS, characters.clean(text), characters.describe(unwanted))
    if characters.REPLACEMENT in stripped:  # what the database stored in place of one
        return _reject(Reason.CONTROL_CHARACTERS, text, "contains U+FFFD (a replaced control character)")
    return None
