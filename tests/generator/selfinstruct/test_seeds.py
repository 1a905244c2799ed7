"""The seed tasks: the project's own seed set, the loader's contract, and its error messages."""

from __future__ import annotations

import itertools
import json
import re
import string
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from rouge_score import rouge_scorer, tokenizers

from generator.errors import SeedFileError
from generator.records import Instance, SeedTask
from generator.selfinstruct.seeds import load_seed_tasks, seed_profile
from tests.support.reference import REFERENCE_DIR, REPO

PROJECT_SEEDS = REPO / "seeds" / "seed_tasks.jsonl"
REFERENCE_SEEDS = REFERENCE_DIR / "self_instruct_seed_tasks.jsonl"
REFERENCE_FILES = (REFERENCE_SEEDS, REFERENCE_DIR / "user_oriented_instructions.jsonl")

SIMILARITY_LIMIT = 0.7
SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
TOKENIZER = tokenizers.DefaultTokenizer(use_stemmer=False)

# The instruction filters of the paper (section 2.2), written out here on purpose:
# generator/selfinstruct/filters.py is tested on its own, this file checks the seeds against the paper.
BLACKLIST = re.compile(
    r"\b(image|images|graph|graphs|picture|pictures|file|files|map|maps|draw|plot|go to)\b", re.IGNORECASE
)


def filter_problems(instruction: str) -> list[str]:
    """Every reason the paper's filters would drop this instruction (empty when it passes)."""
    problems = []
    words = len(instruction.split())
    if words <= 3:
        problems.append(f"only {words} words")
    if words > 150:
        problems.append(f"{words} words")
    if match := BLACKLIST.search(instruction):
        problems.append(f"blacklisted {match.group(0)!r}")
    if instruction.lower().startswith("write a program"):
        problems.append("starts with 'Write a program'")
    if instruction[:1] in string.punctuation:
        problems.append("starts with punctuation")
    if not instruction[:1].isascii():
        problems.append("starts with a non-ASCII character")
    return problems


def near_duplicates(
    pairs: Iterable[tuple[str, str]], limit: float = SIMILARITY_LIMIT
) -> Iterator[tuple[float, str, str]]:
    """Yield ``(score, a, b)`` for every pair whose rouge_score ROUGE-L F1 is at least ``limit``.

    ROUGE-L F1 is 2 * LCS / (len(a) + len(b)) and the LCS can never exceed the tokens the two
    texts share, so pairs whose shared-token bound is below ``limit`` are skipped unscored.
    """
    bags: dict[str, Counter[str]] = {}

    def bag(text: str) -> Counter[str]:
        if text not in bags:
            bags[text] = Counter(TOKENIZER.tokenize(text))
        return bags[text]

    for a, b in pairs:
        bag_a, bag_b = bag(a), bag(b)
        size = bag_a.total() + bag_b.total()
        if size == 0 or 2 * (bag_a & bag_b).total() / size < limit:
            continue
        score = SCORER.score(a, b)["rougeL"].fmeasure
        if score >= limit:
            yield score, a, b


def reference_instructions() -> list[str]:
    """Instructions of both reference files; skips the test when the reference folder is absent."""
    if not all(path.is_file() for path in REFERENCE_FILES):
        pytest.skip(f"reference files not found under {REFERENCE_DIR}")
    lines = (line for path in REFERENCE_FILES for line in path.read_text(encoding="utf-8").splitlines())
    return [json.loads(line)["instruction"] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def project_seeds() -> list[SeedTask]:
    return load_seed_tasks(PROJECT_SEEDS)


# --- the project's own seed set -------------------------------------------------------------


def test_the_project_seeds_load(project_seeds: list[SeedTask]) -> None:
    assert all(isinstance(task, SeedTask) for task in project_seeds)


def test_there_are_175_project_seeds(project_seeds: list[SeedTask]) -> None:
    assert len(project_seeds) == 175


def test_the_profile_is_in_the_range_of_the_papers_seed_set(project_seeds: list[SeedTask]) -> None:
    profile = seed_profile(project_seeds)
    assert profile["total"] == 175
    assert 25 <= profile["classification"] <= 27
    assert 45 <= profile["empty_input"] <= 55
    assert 10 <= profile["mean_instruction_words"] <= 16


def test_seed_ids_and_names_are_unique(project_seeds: list[SeedTask]) -> None:
    assert len({task.id for task in project_seeds}) == len(project_seeds)
    assert len({task.name for task in project_seeds}) == len(project_seeds)


def test_seed_ids_follow_the_original_numbering(project_seeds: list[SeedTask]) -> None:
    assert [task.id for task in project_seeds] == [f"seed_task_{n}" for n in range(len(project_seeds))]


def test_names_are_short_snake_case(project_seeds: list[SeedTask]) -> None:
    assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", task.name) for task in project_seeds)


def test_every_instance_has_a_non_empty_output(project_seeds: list[SeedTask]) -> None:
    empty = [task.id for task in project_seeds for inst in task.instances if not inst.output.strip()]
    assert empty == []


def test_every_seed_is_plain_ascii(project_seeds: list[SeedTask]) -> None:
    non_ascii = [
        task.id
        for task in project_seeds
        for inst in task.instances
        if not all(text.isascii() for text in (task.instruction, inst.input, inst.output))
    ]
    assert non_ascii == []


def test_every_seed_instruction_passes_the_papers_filters(project_seeds: list[SeedTask]) -> None:
    failures = {task.id: filter_problems(task.instruction) for task in project_seeds}
    assert {task_id: problems for task_id, problems in failures.items() if problems} == {}


def test_no_two_seed_instructions_have_rouge_l_of_0_7_or_more(project_seeds: list[SeedTask]) -> None:
    instructions = [task.instruction for task in project_seeds]
    assert list(near_duplicates(itertools.combinations(instructions, 2))) == []


def test_the_similarity_check_catches_a_lightly_reworded_copy() -> None:
    pairs = [
        ("Add the two numbers and give the sum.", "Add the two numbers and then give their sum."),
        ("Add the two numbers and give the sum.", "Translate the poem into French."),
    ]
    found = list(near_duplicates(pairs))
    assert [(a, b) for _, a, b in found] == [pairs[0]]
    assert found[0][0] == SCORER.score(*pairs[0])["rougeL"].fmeasure


def test_the_original_self_instruct_seed_file_loads() -> None:
    if not REFERENCE_SEEDS.is_file():
        pytest.skip(f"{REFERENCE_SEEDS} not found")
    tasks = load_seed_tasks(REFERENCE_SEEDS)
    profile = seed_profile(tasks)
    assert profile["total"] == 175
    assert profile["classification"] == 26
    assert profile["empty_input"] == 50


def test_no_project_seed_equals_or_is_near_a_reference_instruction(project_seeds: list[SeedTask]) -> None:
    references = reference_instructions()
    ours = [task.instruction for task in project_seeds]
    normalized = {" ".join(text.lower().split()) for text in references}
    assert [text for text in ours if " ".join(text.lower().split()) in normalized] == []
    assert list(near_duplicates(itertools.product(ours, references))) == []


# --- the loader on good files ---------------------------------------------------------------


def task(task_id: str = "t1", **changes: Any) -> dict[str, Any]:
    """A valid seed record; keyword arguments replace (or, with ``...``, remove) fields."""
    record: dict[str, Any] = {
        "id": task_id,
        "name": "add_numbers",
        "instruction": "Add the two numbers and give the sum.",
        "instances": [{"input": "2 and 3", "output": "5"}],
        "is_classification": False,
    }
    record.update(changes)
    return {key: value for key, value in record.items() if value is not ...}


def write_seeds(tmp_path: Path, lines: Sequence[dict[str, Any] | str | bytes]) -> Path:
    """Write one line per item: dicts as JSON, strings as given, bytes verbatim."""
    raw = b"".join(
        (item if isinstance(item, bytes) else (item if isinstance(item, str) else json.dumps(item)).encode())
        + b"\n"
        for item in lines
    )
    path = tmp_path / "seeds.jsonl"
    path.write_bytes(raw)
    return path


def test_a_valid_file_loads_into_typed_records(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, [task("a"), task("b", is_classification=True)])
    instruction, instances = "Add the two numbers and give the sum.", (Instance("2 and 3", "5"),)
    assert load_seed_tasks(str(path)) == [
        SeedTask("a", "add_numbers", instruction, instances, False),
        SeedTask("b", "add_numbers", instruction, instances, True),
    ]


def test_blank_lines_are_skipped_and_extra_fields_ignored(tmp_path: Path) -> None:
    extra = task("b", source="mine", instances=[{"input": "", "output": "ok", "note": "x"}])
    path = write_seeds(tmp_path, ["", task("a"), "   ", extra, ""])
    assert [t.id for t in load_seed_tasks(path)] == ["a", "b"]


def test_a_utf8_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, [b"\xef\xbb\xbf" + json.dumps(task("a")).encode()])
    assert [t.id for t in load_seed_tasks(path)] == ["a"]


def test_the_profile_counts_classification_empty_inputs_and_words() -> None:
    tasks = [
        SeedTask("a", "n", "one two three four", (Instance("", "x"),), True),
        SeedTask("b", "n", "one two three four five six", (Instance("in", "x"),), False),
    ]
    assert seed_profile(tasks) == {
        "total": 2,
        "classification": 1,
        "empty_input": 1,
        "mean_instruction_words": 5.0,
    }
    assert seed_profile([])["mean_instruction_words"] == 0.0


# --- the loader on bad files: SeedFileError naming file:line and field --------------------------


def load_error(path: Path) -> SeedFileError:
    with pytest.raises(SeedFileError) as caught:
        load_seed_tasks(path)
    return caught.value


def assert_names(error: SeedFileError, path: Path, line: int, *fragments: str) -> None:
    assert error.line == line
    assert str(error).startswith(f"{path}:{line}: ")
    for fragment in fragments:
        assert fragment in str(error)


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, [task("a"), '{"id": "b", "name": '])
    assert_names(load_error(path), path, 2, "invalid JSON")


def test_a_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, ["[1, 2]"])
    assert_names(load_error(path), path, 1, "expected a JSON object, got list")


@pytest.mark.parametrize("field", ["id", "name", "instruction", "instances", "is_classification"])
def test_a_missing_field_is_named(tmp_path: Path, field: str) -> None:
    path = write_seeds(tmp_path, [task("a"), task("b", **{field: ...})])
    assert_names(load_error(path), path, 2, f"field '{field}': missing")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": 7}, "field 'id': expected a string, got int"),
        ({"name": None}, "field 'name': expected a string, got null"),
        ({"instruction": ["x"]}, "field 'instruction': expected a string, got list"),
        ({"instances": {"input": "", "output": "x"}}, "field 'instances': expected a list, got object"),
        ({"instances": []}, "field 'instances': expected a non-empty list"),
        ({"is_classification": "yes"}, "field 'is_classification': expected a bool, got string"),
        ({"is_classification": 1}, "field 'is_classification': expected a bool, got int"),
    ],
)
def test_a_wrong_type_is_named(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    path = write_seeds(tmp_path, [task("a", **changes)])
    assert_names(load_error(path), path, 1, message)


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([{"input": "", "output": 3}], "field 'instances[0].output': expected a string, got int"),
        (
            [{"input": "", "output": "x"}, {"input": 1.5, "output": "y"}],
            "'instances[1].input': expected a string",
        ),
        ([{"input": ""}], "field 'instances[0].output': missing"),
        (["just text"], "field 'instances[0]': expected an object, got string"),
    ],
)
def test_a_wrong_nested_type_is_named(tmp_path: Path, instances: list[Any], message: str) -> None:
    path = write_seeds(tmp_path, [task("a"), task("b"), task("c", instances=instances)])
    assert_names(load_error(path), path, 3, message)


def test_exactly_the_example_message_from_the_contract(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, [task("a", instances=[{"input": "", "output": 1}])])
    assert str(load_error(path)) == f"{path}:1: field 'instances[0].output': expected a string, got int"


@pytest.mark.parametrize("field", ["instruction", "id"])
def test_an_empty_instruction_or_id_is_rejected(tmp_path: Path, field: str) -> None:
    path = write_seeds(tmp_path, [task("a"), task("b", **{field: "  "})])
    assert_names(load_error(path), path, 2, f"field '{field}': must not be empty")


def test_a_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, [task("a"), task("b"), "", task("a")])
    error = load_error(path)
    assert_names(error, path, 4, "field 'id'", "duplicate id 'a'", "line 1")


def test_bytes_that_are_not_utf8_name_the_line(tmp_path: Path) -> None:
    latin1 = json.dumps(task("b", instruction="Describe the cafe menu."), ensure_ascii=False)
    path = write_seeds(tmp_path, [task("a"), latin1.replace("cafe", "caf\xe9").encode("latin-1")])
    assert_names(load_error(path), path, 2, "not valid UTF-8")


def test_loading_is_all_or_nothing(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, [task("a"), task("b"), task("c"), task("d", is_classification="no")])
    result: list[SeedTask] | None = None
    with pytest.raises(SeedFileError) as caught:
        result = load_seed_tasks(path)
    assert result is None
    assert caught.value.line == 4


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, ["", "  "])
    error = load_error(path)
    assert error.line is None
    assert str(error).startswith(f"{path}: ")


def test_a_missing_file_is_a_seed_file_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.jsonl"
    error = load_error(path)
    assert error.line is None
    assert str(path) in str(error)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"instruction": "Add\x00 it."}, "field 'instruction': contains a control character (U+0000)"),
        ({"name": "add\x1bnumbers"}, "field 'name': contains a control character (U+001B)"),
        ({"instances": [{"input": "2\x00", "output": "5"}]},
         "field 'instances[0].input': contains a control character (U+0000)"),
        ({"id": "x" * 201}, "field 'id': 201 characters, at most 200"),
        ({"name": "n" * 300}, "field 'name': 300 characters, at most 200"),
    ],
)
def test_a_nul_a_control_character_or_an_overlong_label_names_the_field(
    tmp_path: Path, changes: dict[str, Any], fragment: str
) -> None:
    path = write_seeds(tmp_path, [task("a"), task("b", **changes)])
    assert_names(load_error(path), path, 2, fragment)


def test_a_lone_surrogate_names_the_field(tmp_path: Path) -> None:
    line = json.dumps(task("b")).replace("Add the two", "Add the \\ud800 two")
    path = write_seeds(tmp_path, [task("a"), line])
    assert_names(load_error(path), path, 2, "field 'instruction': contains a lone surrogate (U+D800)")


def test_newlines_tabs_and_crlf_in_seed_texts_are_fine(tmp_path: Path) -> None:
    path = write_seeds(tmp_path, [task("a", instances=[{"input": "a\tb\r\nc\nd", "output": "5"}])])
    assert load_seed_tasks(path)[0].instances[0].input == "a\tb\r\nc\nd"
