"""The tag section: normalized through a vocabulary when there is one, raw (and said so) otherwise."""

from __future__ import annotations

from generator.analysis.reportdata import TagRound
from generator.analysis.tagrounds import NO_TAGS, NOT_NORMALIZED, tag_section
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, TaskTags, Vocabulary

TASKS = (
    TaskTags(1, ("Poetry", "rhyme"), round=None, origin="seed"),
    TaskTags(2, ("poems", "Math"), round=4, origin="machine"),
    TaskTags(3, ("arithmetic",), round=4, origin="machine"),
    TaskTags(4, ("Poetry", "", "math"), round=7, origin="machine"),
)


def test_a_pool_without_tags_has_no_rounds_and_says_so() -> None:
    section = tag_section((), None)
    assert section.rounds == () and section.note == NO_TAGS


def test_raw_tags_are_counted_lower_cased_under_the_not_normalized_note() -> None:
    section = tag_section(TASKS, None)
    assert section.note == NOT_NORMALIZED
    assert section.rounds == (
        TagRound("seeds", 1, 2, 2.0),
        TagRound("round 4", 3, 5, 5 / 3),  # poetry rhyme poems math arithmetic
        TagRound("round 7", 4, 5, 7 / 4),  # the empty tag does not count
    )


def test_a_vocabulary_merges_synonyms_drops_rare_tags_and_is_named() -> None:
    mapping = {"Poetry": "poetry", "poems": "poetry", "Math": "mathematics", "math": "mathematics",
               "arithmetic": "mathematics"}  # "rhyme" was too rare: dropped
    vocabulary = Vocabulary(InsTagParams(), (StageCount("raw", 6),), mapping, {"poetry": 3, "mathematics": 3})
    section = tag_section(TASKS, vocabulary, 12)
    assert "version 12" in section.note and "(2 tags)" in section.note
    assert section.rounds == (
        TagRound("seeds", 1, 1, 1.0),
        TagRound("round 4", 3, 2, 4 / 3),
        TagRound("round 7", 4, 2, 6 / 4),
    )
