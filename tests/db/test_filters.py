"""TaskFilter gives the same rows on SQLite and PostgreSQL; bad values are errors naming them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from generator.db.engine import open_database
from generator.db.filters import Page, TaskFilter
from generator.db.listing import count_tasks, iter_export_tasks, list_tasks, matching_ids
from generator.errors import InvalidFilterError, NotFoundError
from generator.testing.services import fresh_postgres_database
from tests.support.taskpool import BASE_TIME, TASKS, build_pool

Sessions = sessionmaker[Session]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def pool_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Sessions, dict[str, int]]]:
    if request.param == "sqlite":
        sessions = open_database(f"sqlite:///{tmp_path / 'pool.db'}")
        with sessions.begin() as session:
            ids = build_pool(session)
            build_pool(session, "other")
        yield sessions, ids
        sessions.kw["bind"].dispose()
        return
    with fresh_postgres_database() as url:
        sessions = open_database(url)
        with sessions.begin() as session:
            ids = build_pool(session)
            build_pool(session, "other")
        yield sessions, ids
        sessions.kw["bind"].dispose()


def _texts(sessions: Sessions, f: TaskFilter, page: Page = Page()) -> list[str]:
    with sessions() as session:
        return [t.instruction for t in list_tasks(session, f, page)]


def test_no_filter_lists_the_whole_pool_in_id_order(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, _ = pool_db
    assert _texts(sessions, TaskFilter()) == [t[0] for t in TASKS]


def test_origin_status_and_classification_filters(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, _ = pool_db
    assert len(_texts(sessions, TaskFilter(origin="seed"))) == 2
    assert _texts(sessions, TaskFilter(statuses=("no_instances", "pending_classification"))) == [
        "Explain what 100 percent means.",
        "Translate the sentence into French.",
    ]
    assert _texts(sessions, TaskFilter(origin="machine", classification=True)) == [
        "Robert'); DROP TABLE tasks;-- classify it"
    ]


def test_has_instances_and_nearest_range(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, _ = pool_db
    assert len(_texts(sessions, TaskFilter(has_instances=True))) == 5
    assert len(_texts(sessions, TaskFilter(has_instances=False))) == 3
    assert _texts(sessions, TaskFilter(nearest_min=0.4, nearest_max=0.5)) == [
        "Rename the variable my_var to snake_case.",
        "List three uses of a paperclip.",
    ]


def test_rounds_and_created_range(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, ids = pool_db
    assert len(_texts(sessions, TaskFilter(rounds=(ids["round"],)))) == 6
    window = TaskFilter(
        created_after=BASE_TIME + timedelta(days=1), created_before=BASE_TIME + timedelta(days=4)
    )
    assert _texts(sessions, window) == [
        "Compute 50% of the given number.",
        "Rename the variable my_var to snake_case.",
    ]


def test_percent_and_underscore_in_the_text_match_themselves(
    pool_db: tuple[Sessions, dict[str, int]],
) -> None:
    sessions, _ = pool_db
    assert _texts(sessions, TaskFilter(text="50%")) == ["Compute 50% of the given number."]
    assert _texts(sessions, TaskFilter(text="%")) == ["Compute 50% of the given number."]
    assert _texts(sessions, TaskFilter(text="my_var")) == ["Rename the variable my_var to snake_case."]
    assert _texts(sessions, TaskFilter(text="_")) == ["Rename the variable my_var to snake_case."]
    assert _texts(sessions, TaskFilter(text="e_v")) == []  # "_" is no wildcard


def test_text_search_is_case_sensitive_on_both_databases(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, _ = pool_db
    assert _texts(sessions, TaskFilter(text="haiku")) == ["Write a haiku about autumn."]
    assert _texts(sessions, TaskFilter(text="HAIKU")) == []


@pytest.mark.parametrize(
    "evil",
    [
        "'; DROP TABLE tasks;--",
        "Robert'); DROP TABLE tasks;--",
        "\\",
        "' OR 1=1 --",
        '" OR ""="',
        "%' OR '1'='1",
    ],
)
def test_injection_strings_are_plain_text(pool_db: tuple[Sessions, dict[str, int]], evil: str) -> None:
    sessions, _ = pool_db
    expected = [t[0] for t in TASKS if evil in t[0]]
    assert _texts(sessions, TaskFilter(text=evil)) == expected
    assert len(_texts(sessions, TaskFilter())) == len(TASKS)  # the table is still there


def test_keyset_and_offset_pagination_agree(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, _ = pool_db
    all_texts = _texts(sessions, TaskFilter())
    with sessions() as session:
        first = list_tasks(session, TaskFilter(), Page(limit=3))
        second = list_tasks(session, TaskFilter(), Page(limit=3, after_id=first[-1].id))
    assert [t.instruction for t in first + second] == all_texts[:6]
    assert _texts(sessions, TaskFilter(), Page(limit=3, offset=3)) == all_texts[3:6]


def test_counts_ids_and_the_export_stream_follow_the_filter(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, ids = pool_db
    f = TaskFilter(origin="machine", statuses=("complete",))
    with sessions() as session:
        assert count_tasks(session, f) == 3
        assert len(matching_ids(session, f)) == 3
        exported = list(iter_export_tasks(session, f, page_size=2))
    assert [t.instruction for t in exported] == [
        "Compute 50% of the given number.",
        "Rename the variable my_var to snake_case.",
        "List three uses of a paperclip.",
    ]
    assert exported[0].model == "tiny-model" and exported[0].round_id == ids["round"]
    assert [len(t.instances) for t in exported] == [2, 1, 3]


def test_an_unknown_pool_is_not_found_naming_the_pools(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    sessions, _ = pool_db
    with sessions() as session, pytest.raises(NotFoundError, match=r"'nope'.*default, other"):
        list_tasks(session, TaskFilter(pool="nope"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origin": "bogus"}, "--origin 'bogus' is not valid (valid: seed, machine)"),
        ({"statuses": ("done",)}, "--status 'done' is not valid (valid: pending_classification"),
        ({"rounds": (0,)}, "--round 0 is out of range"),
        ({"rounds": (2**64,)}, "--round 18446744073709551616 is out of range"),
        ({"nearest_min": 1.5}, "--nearest-min 1.5 must be between 0 and 1"),
        ({"nearest_min": 0.6, "nearest_max": 0.2}, "--nearest-min 0.6 is above --nearest-max 0.2"),
        ({"text": "a\x00b"}, "--contains must not contain NUL"),
    ],
)
def test_bad_filter_values_are_errors_that_name_them(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidFilterError) as info:
        TaskFilter(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_bad_page_values_are_errors() -> None:
    with pytest.raises(InvalidFilterError, match="--limit 0"):
        Page(limit=0)
    with pytest.raises(InvalidFilterError, match="--offset -1"):
        Page(offset=-1)


def test_a_task_lineage_tells_its_whole_story(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    from generator.db.lineage import task_lineage
    from tests.support.taskpool import add_lineage

    sessions, ids = pool_db
    text = "Compute 50% of the given number."
    with sessions.begin() as session:
        add_lineage(session, ids, text)
    with sessions() as session:
        story = task_lineage(session, ids[text])
    assert story.pool == "default" and story.task.instruction == text
    assert story.generation is not None and text in (story.generation.response or "")
    assert story.in_context == ("Write a haiku about autumn.", "Is this review positive or negative?")
    assert story.classification is not None
    assert (story.classification.prompt, story.classification.response) == ("this?", " No")
    assert story.instances_request is not None and story.instances_request.prompt == "Give examples"
    assert [(r.reason, r.detail) for r in story.rejections] == [("instance_duplicate", "same as #1")]
    assert story.as_json()["task"]["id"] == ids[text]


def test_a_seed_has_no_generation_lineage(pool_db: tuple[Sessions, dict[str, int]]) -> None:
    from generator.db.lineage import task_lineage

    sessions, ids = pool_db
    with sessions() as session:
        story = task_lineage(session, ids["Write a haiku about autumn."])
        assert story.generation is None and story.in_context == () and story.classification is None
        with pytest.raises(NotFoundError, match="no task with id 99999"):
            task_lineage(session, 99999)
