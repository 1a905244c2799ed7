"""Each normalization stage on a small hand-built tag set with a known result, then all four in order."""

from __future__ import annotations

from generator.instag.association import association_aggregate
from generator.instag.grouping import representative
from generator.instag.normalization import (
    frequency_filter,
    normalize,
    rule_aggregate,
    rule_key,
    semantic_aggregate,
)
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, TaskTags

from .embedders import TableEmbedder, at_angle


def test_the_frequency_filter_drops_tags_seen_fewer_than_alpha_times() -> None:
    result = frequency_filter({"math": 3, "rare": 1, "poetry": 2}, alpha=2)
    assert dict(result.mapping) == {"math": "math", "poetry": "poetry"}
    assert result.count == 2


def test_rule_keys_lowercase_strip_special_characters_and_stem_each_word() -> None:
    assert rule_key("Code-Reviewing!!") == "code review"
    assert rule_key("Poems") == rule_key("poem") == "poem"


def test_rule_aggregation_merges_forms_under_the_most_frequent_surface_form() -> None:
    frequency = {"Code Review": 3, "code-reviews": 5, "code reviewing": 1, "Poems": 2, "poem": 2, "###": 4}
    result = rule_aggregate(frequency)
    assert dict(result.mapping) == {
        "Code Review": "code reviews", "code-reviews": "code reviews", "code reviewing": "code reviews",
        "Poems": "poem", "poem": "poem",  # a frequency tie goes to the shortest form
    }
    assert result.count == 2


def test_semantic_aggregation_chains_neighbours_like_dbscan_and_names_by_frequency() -> None:
    # 15 degrees apart is within eps 0.05 (cos 15 = 0.966); 30 degrees is not, but "maths" links both
    embedder = TableEmbedder({"math": at_angle(0), "maths": at_angle(15), "mathematics": at_angle(30),
                              "poetry": at_angle(90)})
    result = semantic_aggregate({"math": 1, "maths": 5, "mathematics": 5, "poetry": 2}, embedder, eps=0.05)
    assert dict(result.mapping) == {"math": "maths", "maths": "maths", "mathematics": "maths",
                                    "poetry": "poetry"}
    assert result.count == 2


def test_association_merges_tags_that_always_co_occur_and_keeps_one_way_rules() -> None:
    sets = (
        [frozenset({"python", "coding"})] * 3 + [frozenset({"python", "coding", "debugging"})]
        + [frozenset({"debugging"})] * 2 + [frozenset({"haiku", "poetry"})] * 2 + [frozenset({"poetry"})] * 3
    )
    frequency = {"python": 4, "coding": 4, "debugging": 3, "haiku": 2, "poetry": 5}
    result = association_aggregate(sets, frequency, support=2, confidence=0.99)
    assert dict(result.mapping) == {"python": "coding", "coding": "coding", "debugging": "debugging",
                                    "haiku": "haiku", "poetry": "poetry"}
    assert result.count == 4


def test_association_needs_the_pair_in_at_least_support_tasks() -> None:
    sets = [frozenset({"a", "b"}), frozenset({"c"})]
    result = association_aggregate(sets, {"a": 1, "b": 1, "c": 1}, support=2, confidence=0.99)
    assert dict(result.mapping) == {"a": "a", "b": "b", "c": "c"}


def test_representatives_prefer_frequency_then_length_then_alphabet() -> None:
    assert representative(["bb", "a", "cc"], {"bb": 2, "a": 1, "cc": 2}) == "bb"
    assert representative(["bb", "a"], {"bb": 1, "a": 1}) == "a"


def test_normalize_runs_the_four_stages_in_order_and_counts_after_each() -> None:
    tasks = [
        TaskTags(1, ("Poems", "rhyme", "one-off")),
        TaskTags(2, ("poem", "rhyme")),
        TaskTags(3, ("poetry", "rhyme")),
        TaskTags(4, ("Math", "arithmetic")),
        TaskTags(5, ("math", "arithmetic")),
        TaskTags(6, ("counting",)),
    ]
    embedder = TableEmbedder({"poem": at_angle(0), "poetry": at_angle(10), "rhyme": at_angle(45),
                              "math": at_angle(90), "arithmetic": at_angle(135), "one off": (0.0, 0.0, -1.0)})
    vocabulary = normalize(tasks, embedder, InsTagParams(alpha=1, support=2))
    assert vocabulary.counts == (StageCount("raw", 9), StageCount("frequency", 9), StageCount("rule", 7),
                                 StageCount("semantic", 6), StageCount("association", 4))
    # rule: Poems/poem, Math/math; semantic: poem/poetry (10 degrees); association: poem and rhyme
    # co-occur in 3 of 3 tasks (tie: the shorter name wins), math and arithmetic in 2 of 2.
    mapping = vocabulary.mapping
    assert mapping["poetry"] == mapping["Poems"] == mapping["rhyme"] == "poem"
    assert vocabulary.mapping["Math"] == vocabulary.mapping["arithmetic"] == "math"
    assert vocabulary.mapping["counting"] == "counting"
    assert vocabulary.representatives == {"poem": 3, "math": 2, "counting": 1, "one off": 1}
    assert vocabulary.normalize(("poetry", "unknown")) == frozenset({"poem"})


def test_normalize_drops_tags_below_alpha_from_the_mapping() -> None:
    tasks = [TaskTags(1, ("a", "b")), TaskTags(2, ("a",))]
    vocabulary = normalize(tasks, TableEmbedder({"a": at_angle(0), "b": at_angle(90)}), InsTagParams(alpha=2))
    assert dict(vocabulary.mapping) == {"a": "a"}
    assert vocabulary.counts[1] == StageCount("frequency", 1)
