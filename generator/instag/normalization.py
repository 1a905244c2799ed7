"""Tag normalization in the paper's order (Lu et al., 2023, §2.2), each stage a pure function.

Every stage takes tag frequencies (tag -> number of tasks carrying it) and returns a ``StageMapping``:
input tag -> output tag, plus the number of distinct tags after the stage. ``normalize`` chains them and
returns a ``Vocabulary`` with the composed raw -> normalized mapping and the counts after every stage.

Representatives are deterministic everywhere: the most frequent member, then the shortest, then the
alphabetically first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from generator.instag.association import association_aggregate
from generator.instag.clustering import cluster_labels
from generator.instag.embedding import Embedder
from generator.instag.grouping import StageMapping, apply, merge_groups, representative, task_frequencies
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, TaskTags, Vocabulary

_SPECIAL = re.compile(r"[\W_]+")


def frequency_filter(frequency: Mapping[str, int], alpha: int) -> StageMapping:
    """Stage 1: keep the tags seen in at least ``alpha`` tasks (identity on the kept ones)."""
    kept = {tag: tag for tag, count in frequency.items() if count >= alpha}
    return StageMapping(kept, len(kept))


def surface_form(tag: str) -> str:
    """A tag lowercased with every run of special characters turned into one space."""
    return " ".join(_SPECIAL.sub(" ", tag.lower()).split())


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_STEMMER.stem(word))


def _load_stemmer() -> Any:
    from nltk.stem import PorterStemmer

    return PorterStemmer()


_STEMMER = _load_stemmer()


def rule_key(tag: str) -> str:
    """The rule-aggregation key: the surface form with each word Porter-stemmed (nltk, no download)."""
    return " ".join(_stem(word) for word in surface_form(tag).split())


def rule_aggregate(frequency: Mapping[str, int]) -> StageMapping:
    """Stage 2: merge tags whose stemmed surface forms agree; named by the most frequent surface form.

    Tags with no letter or digit at all are dropped.
    """
    surface_counts: Counter[str] = Counter()
    for tag, count in frequency.items():
        surface_counts[surface_form(tag)] += count
    groups: dict[str, list[str]] = {}
    for surface in surface_counts:
        if surface:
            groups.setdefault(rule_key(surface), []).append(surface)
    name = {key: representative(members, surface_counts) for key, members in groups.items()}
    mapping = {tag: name[rule_key(tag)] for tag in frequency if surface_form(tag)}
    return StageMapping(mapping, len(name))


def semantic_aggregate(frequency: Mapping[str, int], embedder: Embedder, eps: float,
                       min_samples: int = 1) -> StageMapping:
    """Stage 3: embed the tags and merge each DBSCAN cluster (cosine distance, ``eps``) into one tag."""
    tags = sorted(frequency)
    if not tags:
        return StageMapping({}, 0)
    labels = cluster_labels(embedder.embed(tags), eps, min_samples)
    clusters: dict[int, list[str]] = {}
    for tag, label in zip(tags, labels.tolist(), strict=True):
        clusters.setdefault(label, []).append(tag)
    return StageMapping(merge_groups(clusters.values(), frequency), len(clusters))


def normalize(tasks: Sequence[TaskTags], embedder: Embedder, params: InsTagParams) -> Vocabulary:
    """All four stages over the raw tags of ``tasks``; the counts after each stage and the mapping."""
    sets = [frozenset(task.tags) for task in tasks]
    frequency = task_frequencies(sets)
    counts = [StageCount("raw", len(frequency))]
    composed: dict[str, str] = {tag: tag for tag in frequency}
    for name in ("frequency", "rule", "semantic", "association"):
        if name == "frequency":
            result = frequency_filter(frequency, params.alpha)
        elif name == "rule":
            result = rule_aggregate(frequency)
        elif name == "semantic":
            result = semantic_aggregate(frequency, embedder, params.eps, params.min_samples)
        else:
            result = association_aggregate(sets, frequency, params.support, params.confidence)
        sets = apply(result.mapping, sets)
        frequency = task_frequencies(sets)
        composed = {raw: result.mapping[mid] for raw, mid in composed.items() if mid in result.mapping}
        counts.append(StageCount(name, result.count))
    return Vocabulary(params=params, counts=tuple(counts), mapping=composed, representatives=dict(frequency))
