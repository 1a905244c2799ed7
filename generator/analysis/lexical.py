"""Words and lexical diversity (MTLD) of a text.

MTLD, the Measure of Textual Lexical Diversity (McCarthy & Jarvis, 2010, "MTLD, vocd-D, and HD-D",
Behavior Research Methods 42(2)), is one of the InstructMining indicators (Cao et al., 2023, Table 1:
"MTLD of the response"). It walks the text keeping a running type–token ratio (TTR); each time the TTR
falls to the threshold (0.72 in the paper) one *factor* is counted and the running counts restart. The
leftover segment counts as the fraction ``(1 - TTR) / (1 - threshold)`` of a factor. MTLD is the
number of tokens divided by the number of factors, averaged over a forward and a backward pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

MTLD_THRESHOLD = 0.72  # McCarthy & Jarvis (2010), §"MTLD": the default factor size threshold.

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``: runs of letters/digits, inner apostrophes kept ("don't")."""
    return _WORD.findall(text.lower())


def word_count(text: str) -> int:
    """How many words ``text`` has, by :func:`words` (the unit of every length in the report)."""
    return len(words(text))


def _factors(tokens: Iterable[str], threshold: float) -> float:
    """Full plus partial factors of one pass over ``tokens``."""
    factors = 0.0
    types: set[str] = set()
    count = 0
    ttr = 1.0
    for token in tokens:
        types.add(token)
        count += 1
        ttr = len(types) / count
        if ttr <= threshold:
            factors += 1.0
            types.clear()
            count = 0
            ttr = 1.0
    if count:
        factors += (1.0 - ttr) / (1.0 - threshold)
    return factors


def _one_pass(tokens: Sequence[str], threshold: float) -> float:
    factors = _factors(tokens, threshold)
    # A text whose TTR never leaves 1 (all tokens distinct) has no factor at all: it counts as one
    # factor, so its MTLD is its length (the convention of the lexicalrichness package).
    return len(tokens) / factors if factors > 0 else float(len(tokens))


def mtld(tokens: Sequence[str], threshold: float = MTLD_THRESHOLD) -> float | None:
    """Bidirectional MTLD of ``tokens`` (mean of the forward and backward passes); None when empty."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"MTLD threshold must be in (0, 1), got {threshold}")
    if not tokens:
        return None
    forward = _one_pass(tokens, threshold)
    backward = _one_pass(list(reversed(tokens)), threshold)
    return (forward + backward) / 2.0
