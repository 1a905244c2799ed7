"""Incremental mapping: push new raw tags through an existing vocabulary version without re-normalizing.

Used by steering (issue 14) to refresh tag counts during a round. A new raw tag maps to
1. its vocabulary entry, when the raw tag is already known;
2. else the normalized tag of any known tag with the same rule key (lowercase, special characters ->
   space, Porter stems: stage 2);
3. else the normalized tag of the nearest known surface form by embedding, when its cosine distance is
   within the vocabulary's eps (stage 3);
4. else nothing (``None``): the tag is new to this vocabulary version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from generator.instag.embedding import Embedder
from generator.instag.normalization import rule_key, surface_form
from generator.instag.records import Vocabulary


@dataclass(frozen=True, slots=True)
class VocabularyIndex:
    """A vocabulary prepared for lookups: rule keys and unit embeddings of every known surface form."""

    vocabulary: Vocabulary = field(hash=False)
    by_key: dict[str, str] = field(hash=False)
    surfaces: tuple[str, ...]
    targets: tuple[str, ...]
    unit: npt.NDArray[np.floating] = field(hash=False)


def build_index(vocabulary: Vocabulary, embedder: Embedder) -> VocabularyIndex:
    """Index ``vocabulary``'s known tags (embedding each distinct surface form once)."""
    by_surface: dict[str, str] = {}
    for raw, normalized in sorted(vocabulary.mapping.items()):
        by_surface.setdefault(surface_form(raw), normalized)
    by_key: dict[str, str] = {}
    for surface, normalized in by_surface.items():
        by_key.setdefault(rule_key(surface), normalized)
    surfaces = tuple(by_surface)
    return VocabularyIndex(vocabulary, by_key, surfaces, tuple(by_surface[s] for s in surfaces),
                           _unit(embedder.embed(list(surfaces))))


def map_tags(raw_tags: Sequence[str], index: VocabularyIndex, embedder: Embedder) -> dict[str, str | None]:
    """Each raw tag -> its normalized tag in the index's vocabulary, or None when it is new."""
    result: dict[str, str | None] = {}
    pending: list[str] = []
    for raw in dict.fromkeys(raw_tags):
        if raw in index.vocabulary.mapping:
            result[raw] = index.vocabulary.mapping[raw]
        elif not surface_form(raw):
            result[raw] = None
        elif (known := index.by_key.get(rule_key(raw))) is not None:
            result[raw] = known
        else:
            pending.append(raw)
    if pending and index.surfaces:
        queries = _unit(embedder.embed([surface_form(raw) for raw in pending]))
        similarity = queries @ index.unit.T
        nearest = similarity.argmax(axis=1)
        eps = index.vocabulary.params.eps
        for raw, row, best in zip(pending, similarity, nearest.tolist(), strict=True):
            result[raw] = index.targets[best] if 1.0 - float(row[best]) <= eps else None
    else:
        result.update(dict.fromkeys(pending))
    return result


def _unit(vectors: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: npt.NDArray[np.floating] = array / norms
    return result
