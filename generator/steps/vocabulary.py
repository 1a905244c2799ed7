"""Normalizing a pool's raw tags into a new vocabulary version: the one path of ``selfinstruct tags
normalize`` and of the scheduler's ``normalize`` entries.

The tags are read in one transaction, normalized outside any (embedding is the slow part), and the
version with its raw -> normalized mapping is stored in another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from generator.db import tags
from generator.instag.normalization import normalize
from generator.instag.params import InsTagParams, scaled_params
from generator.instag.records import Vocabulary
from generator.llm.embedder import Embedder


@dataclass(frozen=True, slots=True)
class NewVocabulary:
    """A stored vocabulary version: its id, content, how many tagged tasks it was built from, and how."""

    id: int
    vocabulary: Vocabulary
    tasks: int
    embedder: str
    params: InsTagParams


def normalize_pool(sessions: sessionmaker[Session], make_embedder: Callable[[], Embedder], pool_id: int, *,
                   only_if_new: bool = False, announce: Callable[[str], None] | None = None,
                   ) -> NewVocabulary | None:
    """Normalize the pool's raw tags (frequency, rule, semantic, association) into a new version.

    None when the pool has no tagged task, or, with ``only_if_new``, when no task was tagged since
    its latest version (a scheduled run then stores nothing)."""
    with sessions() as session:
        tagged = tags.tagged_tasks(session, pool_id)
        latest = tags.latest_vocabulary_tasks(session, pool_id)
    if not tagged or (only_if_new and latest == len(tagged)):
        return None
    embedder = make_embedder()  # built only when there is work: a skipped run loads no model
    params = scaled_params(len(tagged))
    if announce is not None:
        announce(f"normalizing the tags of {len(tagged)} tasks (alpha={params.alpha}, "
                 f"support={params.support}, eps={params.eps}, embedder={embedder.name})")
    vocabulary = normalize(tagged, embedder, params)
    with sessions.begin() as session:
        vocabulary_id = tags.save_vocabulary(session, pool_id, vocabulary, embedder.name, len(tagged))
    return NewVocabulary(vocabulary_id, vocabulary, len(tagged), embedder.name, params)
