"""Reading tags out of model answers, against exact strings."""

from __future__ import annotations

from generator.instag.parsing import parse_tags
from generator.instag.records import ParsedTags, Tag, TagFailure, TagFailureReason


def tags_of(raw: str) -> tuple[Tag, ...]:
    outcome = parse_tags(raw)
    assert isinstance(outcome, ParsedTags), outcome
    return outcome.tags


def test_a_plain_json_list_gives_its_tags_and_explanations() -> None:
    raw = ('[{"tag": "poetry", "explanation": "A poem is asked for."}, '
           '{"tag": "nature", "explanation": "Trees."}]')
    assert tags_of(raw) == (Tag("poetry", "A poem is asked for."), Tag("nature", "Trees."))


def test_a_code_fence_is_unwrapped() -> None:
    raw = 'Sure!\n```json\n[{"tag": "math", "explanation": "Sums."}]\n```\nHope this helps.'
    assert tags_of(raw) == (Tag("math", "Sums."),)


def test_trailing_prose_after_the_list_is_ignored() -> None:
    raw = '[{"tag": "translation", "explanation": "To French."}] These are the tags. [not json'
    assert tags_of(raw) == (Tag("translation", "To French."),)


def test_one_object_instead_of_a_list_is_one_tag() -> None:
    raw = '{"tag": "summarization", "explanation": "Shorten it."}'
    assert tags_of(raw) == (Tag("summarization", "Shorten it."),)


def test_an_object_holding_a_tags_list_is_read() -> None:
    assert tags_of('{"tags": [{"tag": "coding"}, "debugging"]}') == (Tag("coding"), Tag("debugging"))


def test_duplicate_tags_keep_the_first_case_insensitively() -> None:
    outcome = parse_tags('[{"tag": "Poetry", "explanation": "a"}, {"tag": "poetry ", "explanation": "b"}]')
    assert outcome == ParsedTags((Tag("Poetry", "a"),), ("duplicate tag: poetry",))


def test_empty_and_overlong_tags_are_dropped() -> None:
    long_tag = "a tag that is really a whole sentence about the query and much more"
    outcome = parse_tags(f'[{{"tag": "  "}}, {{"tag": "{long_tag}"}}, {{"tag": "grammar"}}]')
    assert isinstance(outcome, ParsedTags)
    assert outcome.tags == (Tag("grammar"),)
    assert outcome.dropped[0] == "empty tag"
    assert outcome.dropped[1].startswith("overlong tag: a tag that is")


def test_whitespace_and_edge_punctuation_are_cleaned() -> None:
    assert tags_of('["  data\\n analysis. ", "\\"quoted\\""]') == (Tag("data analysis"), Tag("quoted"))


def test_a_truncated_list_salvages_its_complete_objects() -> None:
    raw = ' [{"tag": "cooking", "explanation": "A recipe."}, {"tag": "nutri'
    assert tags_of(raw) == (Tag("cooking", "A recipe."),)


def test_non_json_is_a_failure_with_the_raw_text() -> None:
    raw = "The user wants a poem."
    expected = TagFailure(TagFailureReason.NOT_JSON, "no JSON list or object in the answer", raw)
    assert parse_tags(raw) == expected


def test_an_empty_list_is_a_failure_never_zero_tags() -> None:
    assert parse_tags("[]") == TagFailure(TagFailureReason.NO_TAGS, "no usable tag", "[]")


def test_only_unusable_tags_is_a_failure_naming_what_was_dropped() -> None:
    raw = '[{"tag": ""}, {"explanation": "no tag"}]'
    expected = TagFailure(TagFailureReason.NO_TAGS, "no usable tag (dropped: empty tag; empty tag)", raw)
    assert parse_tags(raw) == expected
