"""Tag prompts render the query a user would send, in exact strings."""

from __future__ import annotations

from generator.instag.prompts import load_template, render_chat_prompt, render_completion_prompt, render_query


def test_the_query_is_the_instruction_plus_one_instance_input() -> None:
    assert render_query(" Sort these numbers. ", "3, 1, 2\n") == "Sort these numbers.\n\n3, 1, 2"


def test_the_query_is_the_instruction_alone_without_input() -> None:
    assert render_query("Tell me a joke.", "") == "Tell me a joke."


def test_the_chat_prompt_puts_the_query_in_place() -> None:
    template = "Tag this:\n{query}\nJSON only."
    assert render_chat_prompt("Tell me a joke.", template) == "Tag this:\nTell me a joke.\nJSON only."


def test_the_completion_prompt_folds_blank_lines_so_the_stop_cannot_fire_inside_the_query() -> None:
    template = "Query: a\nTags: []\n\nQuery: {query}\nTags:"
    expected = "Query: a\nTags: []\n\nQuery: Sort these.\n3, 1\nTags:"
    assert render_completion_prompt("Sort these.\n\n3, 1", template) == expected


def test_the_shipped_templates_ask_for_a_json_list_and_end_where_the_model_continues() -> None:
    assert '{"tag": "...", "explanation": "..."}' in load_template("tag_chat.txt")
    completion = render_completion_prompt("Name three rivers.")
    assert completion.endswith("Query: Name three rivers.\nTags:")
