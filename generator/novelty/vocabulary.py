"""Token and element ids for the novelty index.

An *element* is a token together with its occurrence number in a text: the k-th "the"
of a text is the element ("the", k). Two texts then share exactly as many elements as
their token multisets intersect, which bounds their LCS from above, and multisets become
plain sets for prefix filtering.

Element ids double as the global order prefix filtering needs: a lower id means a rarer
element. Ids given by the bulk build rank elements by document frequency (0 = rarest);
elements first seen later get negative ids, counting down, so they sort before every
older element (they are rare when they appear). An id never changes once given, which
keeps every indexed prefix valid as the pool grows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import numpy.typing as npt

_TOKEN_OR_BREAK = re.compile(r"[a-z0-9]+|\n")  # rouge tokens (see generator.novelty.rouge) and text breaks
_BREAK = -2  # id of the break between two texts of a chunk
_OCC_SHIFT = 32  # element key = token id | occurrence << 32 (token ids stay below 2**31)
_CHUNK_ITEMS = 1 << 16  # texts per vectorised step of the bulk build (bounds peak memory)
_TEXT_CHUNK = 1 << 14  # texts tokenized per regex pass (their token strings live that long)


@dataclass(frozen=True)
class Encoded:
    """Flat encoding of many texts, one after the other.

    ``tids``: token ids in text order; ``elems``: element ids at the same offsets, grouped
    by text but in no particular order within a text; ``lengths``: tokens per text.
    """

    tids: npt.NDArray[np.int32]
    elems: npt.NDArray[np.int32]
    lengths: npt.NDArray[np.int64]


class Vocabulary:
    """Maps token strings to token ids and (token, occurrence) pairs to element ids."""

    def __init__(self) -> None:
        self._tokens: dict[str, int] = {}
        self._elements: dict[int, int] = {}
        self._next_new = -1

    @property
    def element_count(self) -> int:
        """How many distinct elements have an id."""
        return len(self._elements)

    def lookup(self, tokens: Sequence[str]) -> tuple[list[int], list[int]]:
        """Token ids (-1 for unknown tokens) and the ids of the *known* elements of a text.

        Unknown tokens and elements cannot occur in any indexed text, so queries skip them.
        """
        tget = self._tokens.get
        eget = self._elements.get
        tids = [tget(t, -1) for t in tokens]
        if len(set(tids)) == len(tids):
            # Common case, no repeated token: every element is a first occurrence, whose
            # key is the token id itself (-1, unknown, is never a key).
            return tids, [e for e in map(eget, tids) if e is not None]
        seen: dict[int, int] = {}
        elems: list[int] = []
        for tid in tids:
            if tid < 0:
                continue
            occ = seen.get(tid, 0)
            seen[tid] = occ + 1
            elem = eget(tid | (occ << _OCC_SHIFT))
            if elem is not None:
                elems.append(elem)
        return tids, elems

    def intern(self, tokens: Sequence[str]) -> tuple[list[int], list[int]]:
        """Token ids and element ids of a text, giving new ids to anything unseen."""
        vocab = self._tokens
        tids = [vocab.setdefault(t, len(vocab)) for t in tokens]
        seen: dict[int, int] = {}
        elems: list[int] = []
        for tid in tids:
            occ = seen.get(tid, 0)
            seen[tid] = occ + 1
            key = tid | (occ << _OCC_SHIFT)
            elem = self._elements.get(key)
            if elem is None:
                elem = self._elements[key] = self._next_new
                self._next_new -= 1
            elems.append(elem)
        return tids, elems

    def intern_texts(self, texts: Sequence[str]) -> Encoded:
        """Tokenize and encode many texts at once, ranking elements by document frequency.

        Only valid on an empty vocabulary (the index's start-up build). Tokens are the
        same as :func:`generator.novelty.rouge.tokenize` gives text by text, found here by one
        regex pass over a chunk of texts joined by newlines (a newline never occurs in a
        token, and lower-casing is per character for everything that can become [a-z0-9]).
        Token strings are dropped chunk by chunk, so memory stays ~8 bytes a token.
        """
        if self._tokens:
            raise RuntimeError("intern_texts needs an empty vocabulary")
        vocab = self._tokens
        tid_parts: list[npt.NDArray[np.int32]] = []
        len_parts: list[npt.NDArray[np.int64]] = []
        for first in range(0, len(texts), _TEXT_CHUNK):
            chunk = texts[first : first + _TEXT_CHUNK]
            joined = "\n".join(t.replace("\n", " ") if "\n" in t else t for t in chunk).lower()
            tokens = _TOKEN_OR_BREAK.findall(joined)
            del joined
            ids = np.fromiter(map(vocab.get, tokens, repeat(-1)), np.int64, len(tokens))
            missing = np.flatnonzero(ids == -1)
            if len(missing):
                unseen = [tokens[k] for k in missing.tolist()]
                for token in dict.fromkeys(unseen):
                    if token != "\n":
                        vocab[token] = len(vocab)
                ids[missing] = [vocab.get(t, _BREAK) for t in unseen]
            breaks = np.flatnonzero(ids == _BREAK)
            len_parts.append(np.diff(np.concatenate(([-1], breaks, [len(ids)]))) - 1)
            tid_parts.append(np.delete(ids, breaks).astype(np.int32))
        tids = np.concatenate(tid_parts) if tid_parts else np.zeros(0, dtype=np.int32)
        lengths = np.concatenate(len_parts) if len_parts else np.zeros(0, dtype=np.int64)
        del tid_parts, len_parts
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        keys: dict[int, int] = {}  # element key -> provisional id, in first-seen order
        elems = np.empty(len(tids), dtype=np.int32)
        for first in range(0, len(lengths), _CHUNK_ITEMS):
            last = min(first + _CHUNK_ITEMS, len(lengths))
            lo, hi = int(offsets[first]), int(offsets[last])
            uniq, inverse = np.unique(_element_keys(tids[lo:hi], lengths[first:last]), return_inverse=True)
            ids = np.fromiter((keys.setdefault(k, len(keys)) for k in uniq.tolist()), np.int32, len(uniq))
            elems[lo:hi] = ids[inverse.ravel()]
        # A key occurs at most once per text, so its count is its document frequency.
        order = np.argsort(np.bincount(elems, minlength=len(keys)), kind="stable")
        rank = np.empty(len(keys), dtype=np.int32)
        rank[order] = np.arange(len(keys), dtype=np.int32)
        self._elements = dict(zip(keys, rank.tolist(), strict=True))
        np.take(rank, elems, out=elems)
        return Encoded(tids=tids, elems=elems, lengths=lengths)


def _element_keys(tids: npt.NDArray[np.int32], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Element keys (token id | occurrence << 32) of consecutive texts, grouped by text.

    Within a text the keys come sorted by token id, not in token order.
    """
    item = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    packed = np.sort((item << _OCC_SHIFT) | tids.astype(np.int64))
    idx = np.arange(len(packed), dtype=np.int64)
    run_start = np.maximum.accumulate(np.where(np.r_[True, packed[1:] != packed[:-1]], idx, 0))
    return (packed & 0xFFFFFFFF) | ((idx - run_start) << _OCC_SHIFT)
