"""``selfinstruct quality`` (InstructMining indicators, stored) and ``report``; ``select --strategy
quality`` (cli/instag.py) ranks by what ``quality`` stored, through :func:`quality_choice`.

numpy, spaCy, plotly and the database layer are imported inside the commands, so other commands
(and ``--help``) do not pay for them.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console

from generator.analysis.backends import ParserBackend

if TYPE_CHECKING:
    from generator.analysis.perplexity import Perplexity
    from generator.analysis.quality import Example, RewardScorer
    from generator.settings import Settings

console = Console(stderr=True)
PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]


def _reward_scorer(settings: Settings) -> RewardScorer | None:
    from generator.errors import ConfigError

    spec = settings.reward_scorer
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"SELFINSTRUCT_REWARD_SCORER={spec!r} cannot be imported ({exc})") from exc
    scorer: RewardScorer = factory()
    return scorer


@contextlib.contextmanager
def _logprob_source(settings: Settings) -> Iterator[Any]:
    from generator.llm.logprobs import EchoLogprobs

    if settings.embedded:
        from generator.llm.embedded import EmbeddedServer

        with EmbeddedServer(settings, logprobs=True) as server:
            yield EchoLogprobs(server.base_url, settings.api_key, server.model, settings.llm_timeout_s)
    else:
        from generator.llm.endpoint import build_client

        assert settings.llm_base_url is not None
        model = build_client(settings).model  # SELFINSTRUCT_LLM_MODEL, else the endpoint's first model
        yield EchoLogprobs(settings.llm_base_url, settings.api_key, model, settings.llm_timeout_s)


def perplexities(settings: Settings, examples: Sequence[Example], enabled: bool) -> list[Perplexity]:
    """Each example's output perplexity; after the first answer without log-probabilities, all null."""
    from generator.analysis.perplexity import Perplexity, perplexity_prompt, response_perplexity

    if not enabled:
        return [Perplexity(None, "perplexity not requested (--no-perplexity)")] * len(examples)
    out: list[Perplexity] = []
    with _logprob_source(settings) as source:
        for position, example in enumerate(examples):
            prompt, start = perplexity_prompt(example.instruction, example.input, example.output)
            tokens, reason = source.prompt_logprobs(prompt)
            if tokens is None and position == 0:  # the endpoint gives none: do not ask it 50K more times
                return [Perplexity(None, reason)] * len(examples)
            out.append(
                response_perplexity(tokens, start, len(prompt)) if tokens else Perplexity(None, reason)
            )
    return out


def quality(
    pool: PoolOpt = "default",
    perplexity: Annotated[
        bool, typer.Option("--perplexity/--no-perplexity", help="Ask the endpoint.")
    ] = True,
) -> None:
    """Compute and store the InstructMining indicators of every task with instances."""
    import numpy as np

    from generator.analysis.neighbours import kth_neighbour_distances
    from generator.analysis.quality import NO_REWARD_SCORER, example_text, indicators, rewards
    from generator.db import quality as quality_rows
    from generator.db import repository as repo
    from generator.settings import load_settings
    from generator.wiring import embedder_for, sessions_for

    settings = load_settings()
    sessions = sessions_for(settings)
    with sessions() as session:
        pool_id = repo.get_pool(session, pool).id
        examples = quality_rows.quality_examples(session, pool_id)
    embedder = embedder_for(settings)
    texts = [example_text(e) for e in examples]
    knn = kth_neighbour_distances(embedder.embed(texts)) if examples else np.zeros(0)
    scorer = _reward_scorer(settings)
    scored = rewards(scorer, examples)
    ppl = perplexities(settings, examples, perplexity)
    rows = [
        indicators(
            e,
            knn6=None if np.isnan(k) else float(k),
            perplexity=p.value,
            perplexity_reason=p.reason,
            reward=r,
        )
        for e, k, p, r in zip(examples, knn, ppl, scored, strict=True)
    ]
    with sessions.begin() as session:
        stored = quality_rows.store_indicators(
            session, pool_id, rows, embedder=str(embedder.name), scorer=getattr(scorer, "name", None)
        )
    null_ppl = sum(r.perplexity is None for r in rows)
    console.print(f"stored indicators of {stored} tasks in pool {pool} (embedder {embedder.name})")
    if null_ppl:
        console.print(f"perplexity null for {null_ppl}: {rows[0].perplexity_reason if rows else ''}")
    if scorer is None:
        console.print(f"reward and InstructMining rule null: {NO_REWARD_SCORER} (SELFINSTRUCT_REWARD_SCORER)")


def quality_choice(session: Any, pool: str, pool_id: int, n: int) -> list[int]:
    """``select --strategy quality``: the ``n`` lowest InstructMining rule scores (lower predicted loss
    first). A ConfigError, naming what to do, when nothing is stored or no task has a score."""
    from generator.analysis.selection import select_by_quality
    from generator.db import quality as quality_rows
    from generator.errors import ConfigError

    rows = quality_rows.stored_indicators(session, pool_id)
    if not rows:
        raise ConfigError(f"pool {pool} has no stored indicators: run `selfinstruct quality --pool {pool}`")
    selection = select_by_quality(rows, n)
    if selection.eligible == 0:
        raise ConfigError(
            "no task has an InstructMining rule score: the rule needs a reward, and no reward scorer was "
            "configured (set SELFINSTRUCT_REWARD_SCORER and re-run `selfinstruct quality`); "
            "--strategy random gives the baseline"
        )
    return list(selection.task_ids)


def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path("report.html"),
    pool: PoolOpt = "default",
    parser: Annotated[ParserBackend, typer.Option("--parser", help="Verb-noun parser.")] = ParserBackend.AUTO,
) -> None:
    """Write one self-contained HTML page analysing the pool (opens offline in any browser)."""
    from datetime import UTC, datetime

    from generator.analysis.assemble import build_report
    from generator.analysis.backends import choose_parser
    from generator.analysis.report import render_report
    from generator.db import analysis as reads
    from generator.db import repository as repo
    from generator.files.textio import write_atomic
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    settings = load_settings()
    verb_noun_parser, note = choose_parser(parser, settings.benepar_model)
    sessions = sessions_for(settings)
    with sessions() as session:
        snapshot = reads.pool_snapshot(session, repo.get_pool(session, pool))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = build_report(
        snapshot, verb_noun_parser, note, title=f"Self-Instruct pool report: {pool}", generated_at=now
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    page = render_report(data)

    def write(handle: TextIO) -> None:
        handle.write(page)

    write_atomic(output, write)
    console.print(f"wrote {output} ({len(snapshot.tasks)} tasks)")


def register(app: typer.Typer) -> None:
    """Add ``quality`` and ``report`` to the main command (selection is ``select --strategy quality``)."""
    app.command("quality")(quality)
    app.command("report")(report)
