"""Reading tags out of a model's answer: robust to fences, prose, one object and truncation.

Contract: ``parse_tags(raw)`` returns ``ParsedTags`` with at least one tag, or a ``TagFailure`` carrying
the raw text. It never returns zero tags and never raises on model output.

What is accepted, in order:
1. a fenced block (```json ... ```) is unwrapped; prose before the first ``[`` or ``{`` and after the JSON
   value is ignored;
2. a JSON list of objects ``{"tag", "explanation"}`` or of plain strings; a single object; an object
   holding a ``"tags"`` list;
3. if the value cannot be decoded (e.g. a base model's list cut by ``max_tokens``), every complete
   ``{...}`` object in the text is salvaged.
Each tag is whitespace-collapsed and stripped of surrounding quotes and punctuation. Dropped (and listed in
``ParsedTags.dropped``): empty tags, tags over ``max_chars`` characters or ``max_words`` words (a sentence
is not a tag; truncating it would invent a tag the model never wrote), and case-insensitive duplicates
(the first one wins).
"""

from __future__ import annotations

import json
import re
from typing import Any

from generator.instag.records import ParsedTags, Tag, TagFailure, TagFailureReason, TagOutcome

MAX_TAG_CHARS = 60
MAX_TAG_WORDS = 8

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)(?:```|$)", re.DOTALL)
_SPACE = re.compile(r"\s+")
_EDGE = " \t\"'`.,;:!?*-#"
_DECODER = json.JSONDecoder()


def parse_tags(raw: str, max_chars: int = MAX_TAG_CHARS, max_words: int = MAX_TAG_WORDS) -> TagOutcome:
    """The tags in one answer, or a failure with the raw text (see the module docstring)."""
    text = _unfence(raw)
    items = _decode(text)
    if items is None:
        items = _salvage_objects(text)
        if not items:
            return TagFailure(TagFailureReason.NOT_JSON, "no JSON list or object in the answer", raw)
    tags, dropped = _clean(items, max_chars, max_words)
    if not tags:
        detail = "no usable tag" + (f" (dropped: {'; '.join(dropped)})" if dropped else "")
        return TagFailure(TagFailureReason.NO_TAGS, detail, raw)
    return ParsedTags(tuple(tags), tuple(dropped))


def _unfence(raw: str) -> str:
    match = _FENCE.search(raw)
    return match.group(1) if match else raw


def _decode(text: str) -> list[Any] | None:
    """The first JSON list/object in ``text`` as a list of items, or None when none decodes."""
    for start, char in enumerate(text):
        if char not in "[{":
            continue
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            return None
        if isinstance(value, dict):
            inner = value.get("tags")
            return list(inner) if isinstance(inner, list) else [value]
        return list(value)
    return None


def _salvage_objects(text: str) -> list[Any]:
    """Every complete JSON object in ``text`` (used when the enclosing list does not decode)."""
    found: list[Any] = []
    position = text.find("{")
    while position != -1:
        try:
            value, end = _DECODER.raw_decode(text, position)
        except json.JSONDecodeError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        position = text.find("{", end)
    return found


def _clean(items: list[Any], max_chars: int, max_words: int) -> tuple[list[Tag], list[str]]:
    tags: list[Tag] = []
    dropped: list[str] = []
    seen: set[str] = set()
    for item in items:
        tag, explanation = _fields(item)
        tag = _SPACE.sub(" ", tag).strip(_EDGE)
        if not tag:
            dropped.append("empty tag")
        elif len(tag) > max_chars or len(tag.split()) > max_words:
            dropped.append(f"overlong tag: {tag[:max_chars]}...")
        elif tag.casefold() in seen:
            dropped.append(f"duplicate tag: {tag}")
        else:
            seen.add(tag.casefold())
            tags.append(Tag(tag, _SPACE.sub(" ", explanation).strip()))
    return tags, dropped


def _fields(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        return item, ""
    if isinstance(item, dict):
        tag = item.get("tag", item.get("name", ""))
        explanation = item.get("explanation", item.get("reason", ""))
        return (tag if isinstance(tag, str) else ""), (explanation if isinstance(explanation, str) else "")
    return "", ""
