"""Stage 4, association aggregation: FP-Growth (mlxtend) over per-task tag sets.

Merge rule (the paper says only that associated tags are merged): tags a and b merge when both rules
{a} -> {b} and {b} -> {a} reach the confidence threshold over itemsets with at least ``support`` tasks,
i.e. the two tags (almost) always co-occur, so one of them adds no information. Merges are transitive
(a~b and b~c put a, b, c in one tag), named by the usual representative rule (most frequent, then
shortest, then alphabetical). A one-way rule ({a} -> {b} only: a is a special case of b) merges nothing.

Confidences are read off FP-Growth's frequent itemsets (conf(a -> b) = supp(ab) / supp(a)), which is
what ``mlxtend.frequent_patterns.association_rules`` computes; only pairs are mined (``max_len=2``), the
only rules this merge rule uses. Tags below the support are left out of the one-hot matrix, which is
sparse, so memory stays proportional to the number of (task, tag) pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from generator.instag.grouping import StageMapping, merge_groups


def association_aggregate(task_sets: Sequence[frozenset[str]], frequency: Mapping[str, int],
                          support: int, confidence: float) -> StageMapping:
    """Merge tags that always co-occur (both rule directions >= ``confidence``, pair in >= ``support``
    tasks); every other tag maps to itself."""
    pairs = _mutual_pairs(task_sets, frequency, support, confidence)
    parent = {tag: tag for tag in frequency}

    def find(tag: str) -> str:
        while parent[tag] != tag:
            parent[tag] = parent[parent[tag]]
            tag = parent[tag]
        return tag

    for a, b in pairs:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    groups: dict[str, list[str]] = {}
    for tag in frequency:
        groups.setdefault(find(tag), []).append(tag)
    return StageMapping(merge_groups(groups.values(), frequency), len(groups))


def _mutual_pairs(task_sets: Sequence[frozenset[str]], frequency: Mapping[str, int], support: int,
                  confidence: float) -> list[tuple[str, str]]:
    frequent = sorted(tag for tag, count in frequency.items() if count >= support)
    n_tasks = len(task_sets)
    if len(frequent) < 2 or n_tasks == 0:
        return []
    itemsets = _frequent_pairs(task_sets, frequent, support / n_tasks)
    pairs: list[tuple[str, str]] = []
    for (a, b), pair_support in itemsets:
        together = round(pair_support * n_tasks)
        if together / frequency[a] >= confidence and together / frequency[b] >= confidence:
            pairs.append((a, b))
    return pairs


def _frequent_pairs(task_sets: Sequence[frozenset[str]], columns: list[str],
                    min_support: float) -> list[tuple[tuple[str, str], float]]:
    """FP-Growth's frequent 2-itemsets as ((a, b), support fraction), a < b."""
    import numpy as np
    import pandas as pd
    from mlxtend.frequent_patterns import fpgrowth
    from scipy.sparse import csr_matrix

    index = {tag: i for i, tag in enumerate(columns)}
    rows: list[int] = []
    cols: list[int] = []
    for row, tags in enumerate(task_sets):
        for tag in tags:
            if tag in index:
                rows.append(row)
                cols.append(index[tag])
    matrix = csr_matrix((np.ones(len(rows), dtype=bool),
                         (rows, cols)), shape=(len(task_sets), len(columns)))
    frame = pd.DataFrame.sparse.from_spmatrix(matrix, columns=columns)
    found = fpgrowth(frame, min_support=min(1.0, min_support), use_colnames=True, max_len=2)
    result: list[tuple[tuple[str, str], float]] = []
    for itemset, value in zip(found["itemsets"], found["support"], strict=True):
        if len(itemset) == 2:
            a, b = sorted(itemset)
            result.append(((a, b), float(value)))
    return result
