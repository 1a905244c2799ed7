"""InsTag commands: ``tag``, ``tags normalize``, ``tags list``, ``diversity``, ``select``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:  # rich's progress and table modules load in the commands that draw them
    from rich.progress import Progress

    from generator.instag.metrics import GroupMetrics, TagMetrics

# Heavy modules (sqlalchemy, numpy, nltk, the embedders) are imported inside the commands, so that
# `selfinstruct --help` and every other command start fast.

console = Console(stderr=True)
tags_app = typer.Typer(help="InsTag tag vocabulary.", no_args_is_help=True)
PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]


RoundOpt = Annotated[int | None, typer.Option("--round", help="Only this round's tasks.")]


def tag(pool: PoolOpt = "default", round_id: RoundOpt = None) -> None:
    """Tag the complete tasks (seeds included) that have no tags yet; resumable and idempotent."""
    from generator.db import repository as repo
    from generator.db import tags
    from generator.settings import load_settings
    from generator.steps.tagging import tag_tasks
    from generator.wiring import params_of, sessions_for, step_context

    settings = load_settings()
    sessions = sessions_for(settings)
    with sessions() as session:
        pool_row = repo.get_pool(session, pool)
        pool_id, params = pool_row.id, params_of(pool_row)
        todo = tags.untagged_tasks(session, pool_id, round_id)
    if not todo:
        console.print("nothing to tag: every complete task has a tagging")
        return
    with step_context(settings, params, sessions) as ctx, _bar("tagging", len(todo)) as (bar, job):
        counts = tag_tasks(ctx, todo, progress=lambda n: bar.advance(job, n))
    console.print(f"tagged {counts['tagged']} tasks, {counts['failed']} failed (stored with the raw answer)")


@tags_app.command("normalize")
def tags_normalize(pool: PoolOpt = "default") -> None:
    """Normalize the pool's raw tags (frequency, rule, semantic, association) into a new vocabulary."""
    from generator.db import repository as repo
    from generator.settings import load_settings
    from generator.steps.vocabulary import normalize_pool
    from generator.wiring import embedder_for, sessions_for

    settings = load_settings()
    sessions = sessions_for(settings)
    with sessions() as session:
        pool_id = repo.get_pool(session, pool).id
    made = normalize_pool(sessions, lambda: embedder_for(settings), pool_id, announce=console.print)
    if made is None:
        raise typer.BadParameter(f"pool {pool!r} has no tagged task yet (run `selfinstruct tag`)")
    counts = " -> ".join(f"{c.stage} {c.count}" for c in made.vocabulary.counts)
    console.print(f"vocabulary {made.id}: {counts}")


@tags_app.command("list")
def tags_list(pool: PoolOpt = "default", top: Annotated[int, typer.Option("--top", min=1)] = 30,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The most frequent normalized tags of the latest vocabulary, with the tasks carrying each."""
    from generator.db import repository as repo
    from generator.db import tags
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    with sessions_for(load_settings())() as session:
        pool_id = repo.get_pool(session, pool).id
        vocabulary_id, vocabulary = tags.load_vocabulary(session, pool_id,
                                                         tasks=tags.tagged_tasks(session, pool_id))
    ranked = sorted(vocabulary.representatives.items(), key=lambda item: (-item[1], item[0]))[:top]
    if as_json:
        print(json.dumps({"vocabulary": vocabulary_id, "tags": [{"tag": t, "tasks": n} for t, n in ranked]}))
        return
    from rich.table import Table

    table = Table("tag", "tasks", title=f"vocabulary {vocabulary_id}: top {len(ranked)} of {vocabulary.size}")
    for name, n in ranked:
        table.add_row(name, str(n))
    Console().print(table)


def diversity(pool: PoolOpt = "default", as_json: Annotated[bool, typer.Option("--json")] = False,
              seed: Annotated[int, typer.Option(help="Seed of the random baseline.")] = 0) -> None:
    """Diversity (unique tags, coverage) and complexity (tags per task) per round, beside a random
    subset of the same size; stored under the vocabulary version used."""
    from generator.db import repository as repo
    from generator.db import tags
    from generator.instag.metrics import group_metrics
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    sessions = sessions_for(load_settings())
    with sessions.begin() as session:
        pool_id = repo.get_pool(session, pool).id
        tagged = tags.tagged_tasks(session, pool_id)
        vocabulary_id, vocabulary = tags.load_vocabulary(session, pool_id, tasks=tagged)
        groups = group_metrics(tagged, vocabulary, seed=seed)
        tags.save_metrics(session, vocabulary_id, groups)
    if as_json:
        print(json.dumps({"vocabulary": vocabulary_id, "groups": [_group_json(g) for g in groups]}))
        return
    from rich.table import Table

    table = Table("round", "origin", "tasks", "unique_tags", "coverage", "mean_tags_per_task", "entropy",
                  "random: unique_tags", "random: coverage", "random: mean_tags",
                  title=f"diversity under vocabulary {vocabulary_id} ({vocabulary.size} tags)")
    for g in groups:
        m, b = g.metrics, g.baseline
        table.add_row("-" if g.round is None else str(g.round), g.origin, str(m.tasks), str(m.unique_tags),
                      f"{m.coverage:.3f}", f"{m.mean_tags_per_task:.2f}", f"{m.entropy:.2f}",
                      str(b.unique_tags), f"{b.coverage:.3f}", f"{b.mean_tags_per_task:.2f}")
    Console().print(table)


def select(n: Annotated[int, typer.Option("--n", min=1, help="Tasks to select.")],
           output: Annotated[Path, typer.Option("--output", help="JSONL file to write.")],
           strategy: Annotated[str, typer.Option(help="instag | quality | random")] = "instag",
           pool: PoolOpt = "default",
           seed: Annotated[int, typer.Option(help="Seed for random.")] = 0) -> None:
    """Write N tasks (with instances and normalized tags) chosen by InsTag's Algorithm 1, by the
    InstructMining rule (``selfinstruct quality`` first; lowest predicted loss first) or at random."""
    from cli.analysis import quality_choice
    from generator.db import quality
    from generator.db import repository as repo
    from generator.files.textio import write_jsonl_atomic
    from generator.instag.selection import select_instag, select_random
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    if strategy not in ("instag", "quality", "random"):
        raise typer.BadParameter(f"--strategy {strategy!r}: expected instag, quality or random")
    with sessions_for(load_settings())() as session:
        pool_id = repo.get_pool(session, pool).id
        vocabulary_id, sets = _normalized_tags(session, pool_id, required=strategy == "instag")
        if strategy == "instag":
            chosen = select_instag(sets, n)
        elif strategy == "quality":
            chosen = quality_choice(session, pool, pool_id, n)
        else:  # the baseline of both: any task with instances
            chosen = select_random(quality.task_ids_with_instances(session, pool_id), n, seed)
        records = _task_records(session, chosen, sets)
    write_jsonl_atomic(output, records)
    console.print(f"wrote {len(records)} tasks ({strategy}, vocabulary {vocabulary_id or 'none'}) "
                  f"to {output}")


def _normalized_tags(session: Any, pool_id: int,
                     required: bool) -> tuple[int | None, dict[int, frozenset[str]]]:
    """The latest vocabulary's id and each tagged task's normalized tags; (None, {}) when there is no
    vocabulary and ``required`` is false (then records carry no tags)."""
    from generator.db import tags
    from generator.errors import NotFoundError

    tagged = tags.tagged_tasks(session, pool_id)
    try:
        vocabulary_id, vocabulary = tags.load_vocabulary(session, pool_id, tasks=tagged)
    except NotFoundError:
        if required:
            raise
        return None, {}
    return vocabulary_id, {t.task_id: vocabulary.normalize(t.tags) for t in tagged}


def _task_records(session: Any, chosen: list[int], sets: dict[int, frozenset[str]]) -> list[dict[str, Any]]:
    from generator.db.tasks import tasks_with_instances

    tasks, rows = tasks_with_instances(session, chosen)
    instances = {i: [{"input": r.input, "output": r.output} for r in found] for i, found in rows.items()}
    return [{"id": i, "instruction": tasks[i].instruction, "origin": tasks[i].origin,
             "round": tasks[i].round_id, "instances": instances.get(i, []),
             "tags": sorted(sets.get(i, frozenset()))}
            for i in chosen]


def _figures(m: TagMetrics) -> dict[str, Any]:
    return {"tasks": m.tasks, "unique_tags": m.unique_tags, "coverage": m.coverage,
            "mean_tags_per_task": m.mean_tags_per_task, "entropy": m.entropy}


def _group_json(g: GroupMetrics) -> dict[str, Any]:
    return {"round": g.round, "origin": g.origin, **_figures(g.metrics), "baseline": _figures(g.baseline)}


class _bar:
    """A rich progress bar on stderr as a context manager yielding (progress, task id)."""

    def __init__(self, label: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 console=console)
        self.total = total

    def __enter__(self) -> tuple[Progress, Any]:
        self.progress.__enter__()
        return self.progress, self.progress.add_task("", total=self.total)

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)


def register(app: typer.Typer) -> None:
    """Add the InsTag commands to the ``selfinstruct`` app."""
    app.command()(tag)
    app.command()(diversity)
    app.command()(select)
    app.add_typer(tags_app, name="tags")
