"""``selfinstruct quality`` (InstructMining indicators, stored), ``quality select`` and ``report``.

numpy, spaCy, plotly and the database layer are imported inside the commands, so other commands
(and ``--help``) do not pay for them.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console

from generator.analysis.backends import ParserBackend

if TYPE_CHECKING:
    import numpy as np

    from generator.analysis.perplexity import Perplexity
    from generator.analysis.quality import Example, RewardScorer
    from generator.settings import Settings

console = Console(stderr=True)
quality_app = typer.Typer(help="InstructMining quality indicators.", invoke_without_command=True)
PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]


class _WordLlama:
    """The offline wordllama embedder (256-d), used until the shared Embedder seam is on main."""

    name = "wordllama-256"

    def __init__(self) -> None:
        import wordllama

        self._model = wordllama.WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, disable_download=True
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        return np.asarray(self._model.embed(list(texts)), dtype=np.float32)


def _embedder() -> Any:
    try:  # the InsTag issue's Embedder seam, once it has landed
        module = importlib.import_module("generator.llm.embedder")
        return module.build_embedder("wordllama")
    except (ImportError, AttributeError):
        return _WordLlama()


def _reward_scorer(settings: Settings) -> RewardScorer | None:
    from generator.errors import ConfigError

    spec = settings.reward_scorer
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(
            f"SELFINSTRUCT_REWARD_SCORER={spec!r} cannot be imported ({exc}); use 'module:factory'"
        ) from exc
    scorer: RewardScorer = factory()
    return scorer


@contextlib.contextmanager
def _logprob_source(settings: Settings) -> Iterator[Any]:
    from generator.llm.logprobs import EchoLogprobs

    if settings.embedded:
        from generator.llm.embedded import EmbeddedServer

        with EmbeddedServer(settings) as server:
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


@quality_app.callback()
def quality(
    ctx: typer.Context,
    pool: PoolOpt = "default",
    perplexity: Annotated[
        bool, typer.Option("--perplexity/--no-perplexity", help="Ask the endpoint.")
    ] = True,
) -> None:
    """Compute and store the InstructMining indicators of every task with instances."""
    if ctx.invoked_subcommand is not None:
        return
    import numpy as np

    from generator.analysis.neighbours import kth_neighbour_distances
    from generator.analysis.quality import NO_REWARD_SCORER, example_text, indicators, rewards
    from generator.db import analysis as reads
    from generator.db import repository as repo
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    settings = load_settings()
    sessions = sessions_for(settings)
    with sessions() as session:
        pool_id = repo.get_pool(session, pool).id
        examples = reads.quality_examples(session, pool_id)
    embedder = _embedder()
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
        stored = reads.store_indicators(
            session, pool_id, rows, embedder=str(embedder.name), scorer=getattr(scorer, "name", None)
        )
    null_ppl = sum(r.perplexity is None for r in rows)
    console.print(f"stored indicators of {stored} tasks in pool {pool} (embedder {embedder.name})")
    if null_ppl:
        console.print(f"perplexity null for {null_ppl}: {rows[0].perplexity_reason if rows else ''}")
    if scorer is None:
        console.print(f"reward and InstructMining rule null: {NO_REWARD_SCORER} (SELFINSTRUCT_REWARD_SCORER)")


@quality_app.command("select")
def quality_select(
    n: Annotated[int, typer.Option("--n", help="How many tasks to select.")],
    pool: PoolOpt = "default",
    strategy: Annotated[str, typer.Option("--strategy", help="quality | random")] = "quality",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random baseline.")] = 0,
) -> None:
    """Print the selected task ids as JSON: lowest InstructMining rule score first, or a random sample."""
    from generator.analysis.selection import select_by_quality, select_randomly
    from generator.db import analysis as reads
    from generator.db import repository as repo
    from generator.errors import ConfigError
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    sessions = sessions_for(load_settings())
    with sessions() as session:
        pool_id = repo.get_pool(session, pool).id
        rows = reads.stored_indicators(session, pool_id)
    if strategy == "random":
        selection = select_randomly([r.task_id for r in rows], n, random.Random(seed))
    elif strategy == "quality":
        if not rows:
            raise ConfigError(
                f"pool {pool} has no stored indicators: run `selfinstruct quality --pool {pool}`"
            )
        selection = select_by_quality(rows, n)
        if selection.eligible == 0:
            raise ConfigError(
                "no task has an InstructMining rule score: the rule needs a reward, and no reward scorer was "
                "configured (set SELFINSTRUCT_REWARD_SCORER and re-run `selfinstruct quality`); "
                "--strategy random gives the baseline"
            )
    else:
        raise ConfigError(f"--strategy {strategy!r} is not supported (quality, random)")
    print(
        json.dumps(
            {
                "strategy": selection.strategy,
                "requested": n,
                "eligible": selection.eligible,
                "task_ids": list(selection.task_ids),
            }
        )
    )


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
    """Add ``quality`` (with ``quality select``) and ``report`` to the main command."""
    app.add_typer(quality_app, name="quality")
    app.command("report")(report)
