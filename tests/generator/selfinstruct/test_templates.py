"""Template loading and exact substitution (generator/selfinstruct/templates.py)."""

from __future__ import annotations

import pytest

from generator.selfinstruct.templates import load_template, placeholders, render

SHIPPED = {
    "instructions": {"numbered_list"},
    "classification": {"instruction"},
    "instances_input_first": {"instruction"},
    "instances_output_first": {"instruction"},
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_template_loads_with_its_placeholders(name: str) -> None:
    assert placeholders(load_template(name)) == SHIPPED[name]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_loaded_template_has_no_trailing_newline(name: str) -> None:
    assert not load_template(name).endswith("\n")


def test_load_template_is_cached() -> None:
    assert load_template("instructions") is load_template("instructions")


@pytest.mark.parametrize(
    "name", ["../params", "prompts/instructions", "Instructions", "", "instructions.txt"]
)
def test_load_template_rejects_names_that_are_not_bare_stems(name: str) -> None:
    with pytest.raises(ValueError, match="invalid template name"):
        load_template(name)


def test_load_template_raises_for_a_template_that_does_not_exist() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_template"):
        load_template("no_such_template")


def test_render_substitutes_exactly_and_inserts_values_verbatim() -> None:
    template = "Task: $instruction\nCost: $$5 {not a field}"
    assert (
        render(template, instruction="Pay ${x} and $y {z}")
        == "Task: Pay ${x} and $y {z}\nCost: $5 {not a field}"
    )


def test_render_accepts_braced_placeholders() -> None:
    assert render("${a}b", a="x") == "xb"


def test_render_raises_when_a_placeholder_has_no_value() -> None:
    with pytest.raises(KeyError, match="instruction"):
        render("Task: $instruction")


def test_render_raises_when_a_value_names_no_placeholder() -> None:
    with pytest.raises(ValueError, match="instrucion"):
        render("Task: $instruction", instruction="x", instrucion="typo")


def test_placeholders_ignores_escaped_dollars() -> None:
    assert placeholders("$$a $b ${c}") == frozenset({"b", "c"})
