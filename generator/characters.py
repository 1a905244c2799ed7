"""Characters text may not carry into the database: NUL, other control characters, lone surrogates.

PostgreSQL refuses NUL in text (a DataError that would lose the row), a lone surrogate cannot be
encoded as UTF-8 by either database, and control characters in an instruction are noise no
training set wants. Newlines and tabs are text; ``\\r\\n`` counts as a newline.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# C0 controls but \t and \n, DEL, C1 controls, and UTF-16 surrogates (only lone ones reach a str).
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def unwanted_characters(text: str) -> list[str]:
    """The unwanted characters in ``text`` (after turning ``\\r\\n`` into ``\\n``), in order."""
    return _UNWANTED.findall(text.replace("\r\n", "\n"))


def describe(characters: list[str]) -> str:
    """A short human description such as ``2 control characters (U+0000, U+001B)``."""
    codes = sorted({f"U+{ord(c):04X}" for c in characters})
    noun = "character" if len(characters) == 1 else "characters"
    return f"{len(characters)} control {noun} ({', '.join(codes[:5])}{', ...' if len(codes) > 5 else ''})"


def clean(text: str) -> str:
    """``text`` with ``\\r\\n`` as ``\\n`` and every unwanted character replaced by U+FFFD (visibly)."""
    if not _UNWANTED.search(text):
        return text
    return _UNWANTED.sub(REPLACEMENT, text.replace("\r\n", "\n"))
