"""The report's tag section: InsTag diversity and complexity of the pool after its seeds and each round.

InsTag (Lu et al., 2023, §3) measures diversity as the number of distinct *normalized* tags and
complexity as the mean tags per query. The report counts tags through the pool's latest vocabulary
version (its raw -> normalized mapping; raw tags the frequency filter dropped count for nothing). When
the pool has raw tags but no vocabulary yet, it counts raw tags (lower-cased) and says so plainly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from generator.analysis.reportdata import TagRound
from generator.instag.records import TaskTags, Vocabulary

NOT_NORMALIZED = (
    "Tags not normalized yet: these counts are of raw tags (lower-cased); "
    "run `selfinstruct tags normalize` for InsTag's normalized vocabulary."
)
NO_TAGS = "This pool has no InsTag tags yet."


@dataclass(frozen=True, slots=True)
class TagSection:
    """The cumulative tag figures per round and a sentence saying which tags they count."""

    rounds: tuple[TagRound, ...]
    note: str


NO_TAG_SECTION = TagSection((), NO_TAGS)


def _tag_sets(
    tasks: Sequence[TaskTags], vocabulary: Vocabulary | None
) -> list[tuple[TaskTags, frozenset[str]]]:
    if vocabulary is None:
        return [(t, frozenset(tag.strip().lower() for tag in t.tags if tag.strip())) for t in tasks]
    return [(t, vocabulary.normalize(t.tags)) for t in tasks]


def tag_section(
    tasks: Sequence[TaskTags], vocabulary: Vocabulary | None, vocabulary_id: int | None = None
) -> TagSection:
    """Distinct tags and mean tags per tagged task, cumulative after the seeds and after each round.

    ``vocabulary`` is the pool's latest version (``vocabulary_id`` names it in the note); None counts
    raw tags under the "not normalized yet" note. No tagged task: no rounds, and the note says so.
    """
    if not tasks:
        return TagSection((), NO_TAGS)
    by_round: dict[int | None, dict[int, frozenset[str]]] = defaultdict(dict)
    for task, tags in _tag_sets(tasks, vocabulary):
        by_round[task.round][task.task_id] = tags
    order = ([None] if None in by_round else []) + sorted(r for r in by_round if r is not None)
    seen: dict[int, frozenset[str]] = {}
    rounds = []
    for round_id in order:
        seen.update(by_round[round_id])
        distinct = frozenset().union(*seen.values())
        mean = sum(len(tags) for tags in seen.values()) / len(seen)
        label = "seeds" if round_id is None else f"round {round_id}"
        rounds.append(TagRound(label, len(seen), len(distinct), mean))
    if vocabulary is None:
        return TagSection(tuple(rounds), NOT_NORMALIZED)
    name = f"version {vocabulary_id}" if vocabulary_id is not None else "the latest version"
    note = (
        f"Normalized tags of the vocabulary {name} ({vocabulary.size} tags); raw tags it dropped "
        "(too rare) are not counted."
    )
    return TagSection(tuple(rounds), note)
