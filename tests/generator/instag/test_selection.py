"""Algorithm 1 (complexity-first diverse sampling) on a worked example, and the random baseline."""

from __future__ import annotations

from generator.instag.selection import select_instag, select_random

# tag counts: 1 -> 3, 2 -> 2, 3 -> 2, 4 -> 1, 5 -> 1, 6 -> 0
POOL = {
    4: frozenset({"math"}),
    1: frozenset({"math", "code", "logic"}),
    3: frozenset({"poetry", "rhyme"}),
    2: frozenset({"math", "code"}),
    5: frozenset({"poetry"}),
    6: frozenset(),
}


def test_the_first_pass_takes_tasks_that_add_an_uncovered_tag_in_complexity_order() -> None:
    # order: 1 (3 tags), 2, 3 (2 tags; id breaks the tie), 4, 5 (1 tag), 6; 2 adds nothing after 1
    assert select_instag(POOL, 2) == [1, 3]


def test_a_new_pass_starts_from_an_empty_covered_set() -> None:
    # pass 1: 1, 3; pass 2 (covered empty again): 2 (math, code), then 5 (poetry); 4 adds nothing after 2
    assert select_instag(POOL, 4) == [1, 3, 2, 5]


def test_when_a_pass_adds_nothing_the_rest_is_filled_in_sort_order() -> None:
    # pass 3 takes 4; pass 4 only has task 6 (no tags) left: the no-progress guard fills it
    assert select_instag(POOL, 6) == [1, 3, 2, 5, 4, 6]


def test_asking_for_more_than_the_pool_returns_the_whole_pool_once() -> None:
    assert sorted(select_instag(POOL, 100)) == [1, 2, 3, 4, 5, 6]


def test_ties_in_tag_count_break_by_task_id() -> None:
    assert select_instag({9: frozenset({"a"}), 7: frozenset({"b"}), 8: frozenset({"c"})}, 3) == [7, 8, 9]


def test_random_selection_is_seeded_and_of_the_asked_size() -> None:
    first = select_random(list(POOL), 3, seed=5)
    assert first == select_random(list(reversed(list(POOL))), 3, seed=5)
    assert len(set(first)) == 3
    assert select_random(list(POOL), 3, seed=6) != first or select_random(list(POOL), 3, seed=7) != first
