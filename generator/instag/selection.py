"""Subset selection: InsTag's complexity-first diverse sampling (Lu et al., 2023, §4.1, Algorithm 1)
and the seeded random baseline.

Algorithm 1 as implemented: sort tasks by tag count descending, ties by task id ascending; then repeat
passes, each starting from an empty covered set, taking (in sort order) every not-yet-chosen task that
adds at least one tag not covered in this pass, until N tasks are chosen. A pass that adds nothing (the
tasks left carry no tags) ends the passes and the rest is filled in sort order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


def select_instag(tag_sets: Mapping[int, frozenset[str]], n: int) -> list[int]:
    """Up to ``n`` task ids chosen by Algorithm 1, in the order chosen."""
    order = sorted(tag_sets, key=lambda task_id: (-len(tag_sets[task_id]), task_id))
    target = min(n, len(order))
    chosen: list[int] = []
    taken: set[int] = set()
    while len(chosen) < target:
        covered: set[str] = set()
        added = 0
        for task_id in order:
            if len(chosen) == target:
                break
            tags = tag_sets[task_id]
            if task_id in taken or tags <= covered:
                continue
            covered |= tags
            chosen.append(task_id)
            taken.add(task_id)
            added += 1
        if added == 0:
            chosen.extend(t for t in order if t not in taken)
            del chosen[target:]
    return chosen


def select_random(task_ids: Sequence[int], n: int, seed: int) -> list[int]:
    """Up to ``n`` task ids drawn uniformly without replacement; the same seed gives the same subset."""
    pool = sorted(task_ids)
    return random.Random(seed).sample(pool, min(n, len(pool)))
