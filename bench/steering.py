"""Coverage steering, side by side: the plain loop against each steering strategy, same budget.

Every arm is a real in-process round (generate -> filters -> exact ROUGE-L admission ->
classification -> instances) on a fresh SQLite pool seeded with the same seed set, ended by
the same token budget (``--budget-tokens``, prompt + completion tokens of every request of
the round; the last requests in flight may overshoot it a little: the tokens actually spent
are what is reported). Several rng seeds per arm. Afterwards every arm's kept instructions
(admitted machine tasks) are tagged by one tagger and mapped through one shared vocabulary,
and the bench prints per arm: kept, tokens per kept, unique_tags per 1,000 kept, unique tags
at an equal number of kept tasks (the first N admitted of every arm of that seed: the per-1,000
rate favours arms that keep fewer), mean_tags_per_task, the median ROUGE-L of a kept
instruction to its nearest seed, each as mean and [min, max] over seeds, then the goal check
per seed (a steered arm beats ``none`` on unique tags per 1,000 kept by >= 20 % without raising
tokens per kept by more than 10 %).

Endpoint: the embedded default (llama.cpp + Gemma 3 270M) unless SELFINSTRUCT_LLM_BASE_URL
(and _MODEL, _API_KEY, _API) point at another OpenAI-compatible one; ``--double`` uses the
scripted test double instead (a smoke run: its answers ignore the prompt's meaning).

Tagger (``--tagger instag``, the default): InsTag's LLM tagger on the same endpoint, everywhere.
Every arm starts from one template pool whose 175 seeds were tagged once and normalized into one
vocabulary version (``workdir/template.db``, reused from a ``--keep`` folder), so the steered
rounds' coverage starts from the seeds' tags and maps each new tag through that same version while
the round tags its own tasks as they complete (requests of stage ``tag``, inside the round's
budget; the ``tag_tokens`` column). For scoring, a kept task's tags are the ones its round stored,
else (every task of ``none``, the last ones of the others) the same tagger run afterwards (greedy,
so the same tags its round would have stored); the bench prints the check that one model tagged
everything. ``--tagger lexical``: the lexical stand-in (generator/steering/lexical.py) in-round and
for scoring. Vocabulary (``--vocabulary instag``, the default): one InsTag normalization
(frequency, rule, semantic with WordLlama, association; thresholds scaled to the number of tagged
tasks) over the seeds' and every arm's tagged tasks, so all arms are scored against the same
version. Verb–noun pairs: generator/analysis/verbnoun.py (spaCy), distinct (verb, noun) pairs of
the kept instructions per 1,000 kept.

    python bench/steering.py --seeds 3 --budget-tokens 12000 [--keep DIR]
    python bench/steering.py --seeds 3 --rescore DIR     # score kept pools again, no LLM calls
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from generator.db import repository as repo
from generator.db.engine import open_database
from generator.db.models import Instance, LLMRequest, Round, Task, TaskTag, TaskTagging
from generator.db.statuses import LIVE_STATUSES
from generator.llm.client import LLMClient
from generator.llm.ratelimit import throttled_client
from generator.novelty.rouge import rouge_l_f, tokenize
from generator.rounds.runner import RoundRunner
from generator.settings import Settings, load_settings
from generator.steering import SteeringParams, Strategy
from generator.steering.incremental import IdentityMapper
from generator.steering.lexical import LexicalTagger
from generator.steps import StepContext
from generator.steps.coverage import PoolCoverage
from generator.wiring import coverage_for, ensure_seeded_pool, params_of

UNLIMITED_TARGET = 10**6  # the budget ends every round, never the target


@dataclass(frozen=True)
class Kept:
    """One kept instruction (an admitted machine task): its text, first instance input, and the InsTag
    tags stored for it during the round (None when the round did not tag it)."""

    instruction: str
    first_input: str
    tags: tuple[str, ...] | None


@dataclass(frozen=True)
class ArmResult:
    """One arm on one seed: the kept instructions (admission order), the tokens spent (``tag_tokens`` of
    them by the round's own tagging) and the models that tagged during the round."""

    arm: str
    seed: int
    kept: tuple[Kept, ...]
    tokens: int
    tag_tokens: int
    seconds: float
    tagger_models: frozenset[str] = frozenset()

    @property
    def texts(self) -> list[str]:
        """The kept instructions."""
        return [k.instruction for k in self.kept]


@contextlib.contextmanager
def endpoint(settings: Settings, double: bool) -> Iterator[LLMClient]:
    """A client for the configured endpoint, the embedded default, or the scripted double."""
    if double:
        from generator.testing.llm_double import ScriptedLLMServer
        from generator.testing.responders import SelfInstructResponder

        with ScriptedLLMServer(SelfInstructResponder(seed=11, near_duplicate_rate=0.2)) as server:
            yield throttled_client(settings, base_url=server.base_url, model="scripted-model")
    elif settings.embedded:
        from generator.llm.embedded import EmbeddedServer

        with EmbeddedServer(settings) as server:
            yield throttled_client(settings, base_url=server.base_url, model=server.model)
    else:
        yield throttled_client(settings)


def prepare_template(settings: Settings, client: LLMClient, workdir: Path) -> Path:
    """The seeded pool every InsTag arm starts from (``workdir/template.db``, reused when present): its
    seeds tagged by the LLM tagger and one vocabulary version normalized from their tags, so every
    steered round maps its new tags through that same version."""
    from generator.db.tags import save_vocabulary, tagged_tasks, untagged_tasks
    from generator.instag.normalization import normalize
    from generator.instag.params import scaled_params
    from generator.llm.embedder import WordLlamaEmbedder
    from generator.steps.tagging import tag_tasks

    path = workdir / "template.db"
    if path.exists():
        return path
    url = f"sqlite:///{workdir / 'template.tmp.db'}"
    sessions = open_database(url)
    with sessions.begin() as session:
        pool = ensure_seeded_pool(session, settings.model_copy(update={"database_url": url}), "bench")
        pool_id, params, seeds = pool.id, params_of(pool), untagged_tasks(session, pool.id)
    tag_tasks(StepContext(sessions, client, params, settings, random.Random(0)), seeds)
    with sessions() as session:
        tagged = tagged_tasks(session, pool_id)
    vocabulary = normalize(tagged, WordLlamaEmbedder(), scaled_params(len(tagged)))
    with sessions.begin() as session:
        save_vocabulary(session, pool_id, vocabulary, "wordllama", len(tagged))
    sessions.kw["bind"].dispose()
    (workdir / "template.tmp.db").rename(path)
    print(f"  template: {len(seeds)} seeds tagged ({len(tagged)} with tags), vocabulary of "
          f"{vocabulary.size} tags", flush=True)
    return path


def run_arm(settings: Settings, client: LLMClient, workdir: Path, arm: Strategy, seed: int,
            budget: int, template: Path | None) -> ArmResult:
    """One real in-process round on a fresh pool (``workdir/<arm>-<seed>.db``, a copy of ``template``
    when the tagger is InsTag), ended by the budget."""
    path = workdir / f"{arm}-{seed}.db"
    if template is not None:
        shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    arm_settings = settings.model_copy(update={"database_url": url})
    sessions = open_database(url)
    with sessions.begin() as session:
        pool = ensure_seeded_pool(session, arm_settings, "bench")
        params = params_of(pool)
        round_id = repo.open_round(session, pool, UNLIMITED_TARGET, budget_tokens=budget,
                                   steering=SteeringParams.round_json(SteeringParams(arm))).id
    coverage = coverage_for(arm_settings) if template is not None else PoolCoverage(LexicalTagger())
    ctx = StepContext(sessions, client, params, arm_settings, random.Random(seed), coverage)
    RoundRunner(ctx).run(round_id)
    sessions.kw["bind"].dispose()
    return collect(path, str(arm), seed)


def collect(path: Path, arm: str, seed: int) -> ArmResult:
    """The kept instructions (admission order), tokens and wall time of the round stored in ``path``."""
    sessions = open_database(f"sqlite:///{path}", migrate=False)  # read only: as the run left it
    with sessions() as session:
        rnd = session.scalars(select(Round)).one()
        rows = session.execute(select(Task.id, Task.instruction).where(
            Task.round_id == rnd.id, Task.origin == "machine",
            Task.status.in_(LIVE_STATUSES)).order_by(Task.id)).all()
        tags: dict[int, list[str]] = {}
        for task_id, tag in session.execute(select(TaskTag.task_id, TaskTag.tag).order_by(
                TaskTag.task_id, TaskTag.position)):
            tags.setdefault(task_id, []).append(tag)
        tagged = set(session.scalars(select(TaskTagging.task_id).where(TaskTagging.status == "tagged")))
        inputs = dict(session.execute(
            select(Instance.task_id, Instance.input).where(Instance.position == 0)).all())
        models = frozenset(session.scalars(select(TaskTagging.tagger_model).distinct()))
        spent = dict(session.execute(select(LLMRequest.stage, func.sum(
            LLMRequest.prompt_tokens + LLMRequest.completion_tokens)).where(
            LLMRequest.round_id == rnd.id).group_by(LLMRequest.stage)).all())
        seconds = (rnd.finished_at - rnd.created_at).total_seconds() if rnd.finished_at else float("nan")
    sessions.kw["bind"].dispose()
    kept = tuple(Kept(text, inputs.get(i) or "", tuple(tags.get(i, ())) if i in tagged else None)
                 for i, text in rows)
    return ArmResult(arm, seed, kept, int(sum(spent.values())), int(spent.get("tag", 0)), seconds, models)


def seed_instructions(settings: Settings) -> list[str]:
    """The seed set's instructions (every arm's pool starts from exactly these)."""
    from generator.selfinstruct.seeds import load_seed_tasks

    return [task.instruction for task in load_seed_tasks(settings.seeds_path)]


Vocabulary = Callable[[Sequence[str]], Mapping[str, str | None]]


def shared_vocabulary(kind: str, tagged: Sequence[tuple[str, ...]]) -> tuple[Vocabulary, str]:
    """One vocabulary for every arm: InsTag's four-stage normalization over all arms' tagged tasks
    (and the seeds), thresholds scaled to their number, WordLlama embeddings; or the identity."""
    if kind == "identity":
        return IdentityMapper().map_tags, "identity (rule form)"
    from generator.instag.normalization import normalize
    from generator.instag.params import scaled_params
    from generator.instag.records import TaskTags
    from generator.llm.embedder import WordLlamaEmbedder

    tasks = [TaskTags(task_id=i, tags=tags) for i, tags in enumerate(tagged)]
    params = scaled_params(len(tasks))
    vocabulary = normalize(tasks, WordLlamaEmbedder(), params)
    stages = ", ".join(f"{c.stage} {c.count}" for c in vocabulary.counts)
    return (lambda raws: {raw: vocabulary.mapping.get(raw) for raw in raws},
            f"InsTag normalization of {len(tasks)} tagged tasks (alpha {params.alpha}, support "
            f"{params.support}, WordLlama; {stages})")


def score(result: ArmResult, raw: Sequence[tuple[str, ...]], vocabulary: Vocabulary, equal_n: int,
          seeds: list[list[str]], pairs: Sequence[tuple[str | None, str | None]]) -> dict[str, float]:
    """The arm's figures from its kept tasks' raw tags, mapped through the shared vocabulary, and their
    verb–noun pairs (generator/analysis/verbnoun.py; one per kept task, None parts where absent)."""
    mapped = vocabulary([tag for task in raw for tag in task])
    tags = [tuple(dict.fromkeys(t for t in (mapped.get(r) for r in task) if t)) for task in raw]
    kept = len(result.kept)
    unique = len({t for task in tags for t in task})
    nearest = [max(rouge_l_f(tokenize(text), seed) for seed in seeds) for text in result.texts]
    distinct_pairs = len({(v, n) for v, n in pairs if v is not None and n is not None})
    nan = float("nan")
    return {
        "kept": kept,
        "tokens": result.tokens,
        "tag_tokens": result.tag_tokens,
        "tokens_per_kept": result.tokens / kept if kept else nan,
        "unique_tags_per_1k": 1000 * unique / kept if kept else nan,
        "unique_tags_at_equal_n": len({t for task in tags[:equal_n] for t in task}),
        "mean_tags_per_task": sum(map(len, tags)) / kept if kept else nan,
        "verb_noun_pairs_per_1k": 1000 * distinct_pairs / kept if kept else nan,
        "rougeL_nearest_seed_median": statistics.median(nearest) if nearest else nan,
        "seconds": result.seconds,
    }


COLUMNS = ("kept", "tokens", "tag_tokens", "tokens_per_kept", "unique_tags_per_1k", "unique_tags_at_equal_n",
           "mean_tags_per_task", "verb_noun_pairs_per_1k", "rougeL_nearest_seed_median", "seconds")


def spread(values: list[float]) -> str:
    """``mean [min, max]`` over seeds."""
    return f"{statistics.fmean(values):.3g} [{min(values):.3g}, {max(values):.3g}]"


def report(figures: dict[tuple[str, int], dict[str, float]], arms: list[str], seeds: list[int]) -> None:
    """The side-by-side table, then the goal check per seed."""
    print("arm".ljust(14) + " | ".join(c for c in COLUMNS))
    for arm in arms:
        cells = [spread([figures[arm, s][c] for s in seeds]) for c in COLUMNS]
        print(arm.ljust(14) + " | ".join(cells))
    print("\ngoal: unique_tags_per_1k >= 1.20 x none and tokens_per_kept <= 1.10 x none, in every seed")
    for arm in arms:
        if arm == "none":
            continue
        rows = []
        for s in seeds:
            tags = figures[arm, s]["unique_tags_per_1k"] / figures["none", s]["unique_tags_per_1k"]
            cost = figures[arm, s]["tokens_per_kept"] / figures["none", s]["tokens_per_kept"]
            rows.append((s, tags, cost, tags >= 1.2 and cost <= 1.1))
        verdict = "MET" if all(ok for *_, ok in rows) else "NOT MET"
        detail = ", ".join(f"seed {s}: tags x{t:.2f}, tokens x{c:.2f}" for s, t, c, _ in rows)
        print(f"{arm:14}{verdict}  ({detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="rng seeds per arm (0..N-1)")
    parser.add_argument("--budget-tokens", type=int, default=12000, help="token budget of every arm's round")
    parser.add_argument("--arms", default="none,rare-examples,tag-hints")
    parser.add_argument("--double", action="store_true", help="use the scripted double (smoke run)")
    parser.add_argument("--tagger", choices=("instag", "lexical"), default="instag",
                        help="in-round coverage and scoring: InsTag's LLM tagger, or the lexical stand-in")
    parser.add_argument("--vocabulary", choices=("instag", "identity"), default="instag")
    parser.add_argument("--keep", type=Path, help="keep every arm's pool database in this folder")
    parser.add_argument("--rescore", type=Path, help="score the <arm>-<seed>.db pools of a --keep folder")
    args = parser.parse_args()
    settings = load_settings()
    arms = [str(Strategy(a)) for a in args.arms.split(",")]
    if "none" not in arms:
        arms.insert(0, "none")
    seeds = list(range(args.seeds))
    seed_texts = seed_instructions(settings)
    print(f"load average: {_load()}", flush=True)
    with contextlib.ExitStack() as stack:
        workdir = args.rescore or args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        workdir.mkdir(parents=True, exist_ok=True)
        client = stack.enter_context(endpoint(settings, args.double))
        if args.rescore is not None:
            results = {(arm, seed): collect(args.rescore / f"{arm}-{seed}.db", arm, seed)
                       for seed in seeds for arm in arms}
        else:
            configured = f"{settings.llm_base_url} ({settings.llm_model})"
            where = configured if not (args.double or settings.embedded) else (
                "scripted double" if args.double else "embedded default")
            print(f"endpoint: {where}; seed tasks: {len(seed_texts)}; budget: {args.budget_tokens} tokens "
                  f"per arm; rng seeds: {seeds}; tagger: {args.tagger}; prompts per request: "
                  f"{settings.llm_prompts_per_request}; concurrency: {settings.llm_concurrency}", flush=True)
            template = prepare_template(settings, client, workdir) if args.tagger == "instag" else None
            results = run_all(settings, client, workdir, arms, seeds, args.budget_tokens, template)
        raw, seed_raw, described = tags_for_scoring(args.tagger, client, workdir, results, seed_texts)
    print(f"load average after the runs: {_load()}")
    vocabulary, vocab_described = shared_vocabulary(
        args.vocabulary, [*seed_raw, *(task for tags in raw.values() for task in tags)])
    print(f"tagger: {described}; vocabulary: {vocab_described}")
    from generator.analysis.verbnoun import SpacyVerbNounParser, parse_all

    parser_ = SpacyVerbNounParser()
    seed_tokens = [tokenize(text) for text in seed_texts]
    figures: dict[tuple[str, int], dict[str, float]] = {}
    for seed in seeds:
        equal_n = min(len(results[arm, seed].kept) for arm in arms)
        for arm in arms:
            pairs = [(p.verb, p.noun) for p in parse_all(parser_, results[arm, seed].texts)]
            figures[arm, seed] = score(results[arm, seed], raw[arm, seed], vocabulary, equal_n, seed_tokens,
                                       pairs)
    print()
    report(figures, arms, seeds)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def tags_for_scoring(kind: str, client: LLMClient, workdir: Path, results: dict[tuple[str, int], ArmResult],
                     seed_texts: list[str]) -> tuple[dict[tuple[str, int], list[tuple[str, ...]]],
                                                     list[tuple[str, ...]], str]:
    """Every arm's kept tasks' raw tags and the seeds', all from one tagger, and what it was.

    InsTag: the tags stored during the round (the steered arms tag as they go), and for the kept tasks
    the round did not tag (every task of ``none``, the last ones of the others) the same LLM tagger
    on the same endpoint, greedy, so a task gets the tags its round would have stored; seeds: the
    template's. The check that one model tagged everything is printed."""
    if kind == "lexical":
        lexical = LexicalTagger()
        return ({key: lexical.tag(r.texts) for key, r in results.items()}, lexical.tag(seed_texts),
                lexical.name)
    from generator.db.tags import tagged_tasks
    from generator.instag.prompts import render_query
    from generator.instag.records import ParsedTags
    from generator.llm.tagger import LLMTagger

    tagger = LLMTagger(client)
    missing = [(key, n, k) for key, r in results.items() for n, k in enumerate(r.kept) if k.tags is None]
    run = tagger.tag([render_query(k.instruction, k.first_input) for _, _, k in missing])
    fresh = {(key, n): tuple(t.tag for t in res.outcome.tags) if isinstance(res.outcome, ParsedTags) else ()
             for (key, n, _), res in zip(missing, run.results, strict=True)}
    raw = {key: [k.tags if k.tags is not None else fresh[key, n] for n, k in enumerate(r.kept)]
           for key, r in results.items()}
    sessions = open_database(f"sqlite:///{workdir / 'template.db'}", migrate=False)
    with sessions() as session:
        seed_raw = [t.tags for t in tagged_tasks(session, 1)]
    sessions.kw["bind"].dispose()
    models = set().union(*(r.tagger_models for r in results.values())) | {tagger.model}
    check = ("one model for every arm and the seeds" if len(models) == 1
             else f"SEVERAL MODELS: {sorted(models)}")
    return (raw, seed_raw, f"InsTag LLM tagger ({tagger.model}; {len(missing)} kept tasks tagged after their "
            f"round, {sum(1 for v in fresh.values() if not v)} without tags; {check})")


def run_all(settings: Settings, client: LLMClient, workdir: Path, arms: list[str], seeds: list[int],
            budget: int, template: Path | None) -> dict[tuple[str, int], ArmResult]:
    """Every arm on every seed, one after the other on the same endpoint."""
    results: dict[tuple[str, int], ArmResult] = {}
    for seed in seeds:
        for arm in arms:
            result = run_arm(settings, client, workdir, Strategy(arm), seed, budget, template)
            results[arm, seed] = result
            print(f"  seed {seed} {arm}: kept {len(result.kept)}, tokens {result.tokens} (tag "
                  f"{result.tag_tokens}), {result.seconds:.0f}s; load {_load()}", flush=True)
    return results


if __name__ == "__main__":
    main()
