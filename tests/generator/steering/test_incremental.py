"""Incremental coverage and the lexical stand-in tagger (generator/steering/incremental.py, lexical.py)."""

from __future__ import annotations

from generator.steering import Coverage
from generator.steering.incremental import FunctionMapper, IdentityMapper, IncrementalCoverage, rule_form
from generator.steering.lexical import LexicalTagger


def vocabulary_of(mapping: dict[str, str]) -> FunctionMapper:
    """A mapper like InsTag's map_tags: known tags map, the rest are None (new)."""
    return FunctionMapper(lambda raws: {raw: mapping.get(raw) for raw in raws}, version=5)


def test_adding_tasks_changes_only_their_tags_counts() -> None:
    base = Coverage.from_task_tags({1: ["a", "b"], 2: ["b"]})
    grown = base.with_tasks({3: ["b", "c"], 1: ["c"]})
    assert dict(grown.counts) == {"b": 2, "c": 2}
    assert dict(base.counts) == {"a": 1, "b": 2}  # snapshots are immutable
    assert grown == Coverage.from_task_tags({1: ["c"], 2: ["b"], 3: ["b", "c"]})


def test_new_raw_tags_map_through_the_vocabulary_and_unmapped_ones_count_as_new() -> None:
    base = Coverage.from_task_tags({1: ["cooking"]})
    source = IncrementalCoverage(base, vocabulary_of({"Recipes": "cooking"}))
    coverage = source.add({7: ["Recipes", "Tax  Law!", "???"]})
    assert coverage.task_tags[7] == ("cooking", "tax law")
    assert dict(coverage.counts) == {"cooking": 2, "tax law": 1}
    assert source.new_tags == {"tax law"}
    assert source.coverage(1) is coverage
    assert coverage.vocabulary_version is None  # the base snapshot's version is kept


def test_the_identity_mapper_uses_the_rule_form() -> None:
    assert rule_form("  Data-Analysis/Python ") == "data analysis python"
    assert IdentityMapper().map_tags(["Chess!", "!!"]) == {"Chess!": "chess", "!!": None}


def test_the_lexical_tagger_takes_the_lead_verb_and_the_first_content_words() -> None:
    tagger = LexicalTagger(max_words=3)
    assert tagger.tag(["Summarize the following news articles about climate policy.", "", "Hi"]) == [
        ("summarize", "news", "articles", "climate"), (), ("hi",)]
