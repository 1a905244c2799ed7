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

Tagger: the lexical stand-in (``generator/steering/lexical.py``: lead verb + content words),
the same one steered rounds count coverage with (InsTag's LLM tagger is not on main yet).
Vocabulary (``--vocabulary instag``, the default): one InsTag normalization (frequency, rule,
semantic with WordLlama, association; thresholds scaled to the number of tagged tasks) over
the seeds' and every arm's tagged tasks, so all arms are scored against the same version.

    python bench/steering.py --seeds 3 --budget-tokens 12000 [--keep DIR]
    python bench/steering.py --seeds 3 --rescore DIR     # score kept pools again, no LLM calls
"""

from __future__ import annotations

import argparse
import contextlib
import random
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
from generator.db.models import LLMRequest, Round, Task
from generator.llm.client import LLMClient
from generator.llm.ratelimit import throttled_client
from generator.novelty.rouge import rouge_l_f, tokenize
from generator.rounds.runner import RoundRunner
from generator.settings import Settings, load_settings
from generator.steering import SteeringParams, Strategy
from generator.steering.incremental import IdentityMapper
from generator.steering.lexical import LexicalTagger
from generator.steps import StepContext
from generator.wiring import ensure_seeded_pool, params_of

UNLIMITED_TARGET = 10**6  # the budget ends every round, never the target


@dataclass(frozen=True)
class ArmResult:
    """One arm on one seed: the kept instructions (admission order) and the tokens spent."""

    arm: str
    seed: int
    kept: tuple[str, ...]
    tokens: int
    seconds: float


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


def run_arm(settings: Settings, client: LLMClient, workdir: Path, arm: Strategy, seed: int,
            budget: int) -> ArmResult:
    """One real in-process round on a fresh pool (``workdir/<arm>-<seed>.db``), ended by the budget."""
    path = workdir / f"{arm}-{seed}.db"
    url = f"sqlite:///{path}"
    arm_settings = settings.model_copy(update={"database_url": url})
    sessions = open_database(url)
    with sessions.begin() as session:
        pool = ensure_seeded_pool(session, arm_settings, "bench")
        params = params_of(pool)
        round_id = repo.open_round(session, pool, UNLIMITED_TARGET, budget_tokens=budget,
                                   steering=SteeringParams.round_json(SteeringParams(arm))).id
    ctx = StepContext(sessions, client, params, arm_settings, random.Random(seed))
    RoundRunner(ctx).run(round_id)
    sessions.kw["bind"].dispose()
    return collect(path, str(arm), seed)


def collect(path: Path, arm: str, seed: int) -> ArmResult:
    """The kept instructions (admission order), tokens and wall time of the round stored in ``path``."""
    sessions = open_database(f"sqlite:///{path}", migrate=False)  # read only: as the run left it
    with sessions() as session:
        rnd = session.scalars(select(Round)).one()
        kept = session.scalars(select(Task.instruction).where(
            Task.round_id == rnd.id, Task.origin == "machine",
            Task.status.in_(repo.LIVE_STATUSES)).order_by(Task.id)).all()
        tokens = session.scalar(select(func.sum(LLMRequest.prompt_tokens + LLMRequest.completion_tokens))
                                .where(LLMRequest.round_id == rnd.id)) or 0
        seconds = (rnd.finished_at - rnd.created_at).total_seconds() if rnd.finished_at else float("nan")
    sessions.kw["bind"].dispose()
    return ArmResult(arm, seed, tuple(kept), int(tokens), seconds)


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
          seeds: list[list[str]]) -> dict[str, float]:
    """The arm's figures from its kept tasks' raw tags, mapped through the shared vocabulary."""
    mapped = vocabulary([tag for task in raw for tag in task])
    tags = [tuple(dict.fromkeys(t for t in (mapped.get(r) for r in task) if t)) for task in raw]
    kept = len(result.kept)
    unique = len({t for task in tags for t in task})
    nearest = [max(rouge_l_f(tokenize(text), seed) for seed in seeds) for text in result.kept]
    return {
        "kept": kept,
        "tokens": result.tokens,
        "tokens_per_kept": result.tokens / kept if kept else float("nan"),
        "unique_tags": unique,
        "unique_tags_per_1k": 1000 * unique / kept if kept else float("nan"),
        "unique_tags_at_equal_n": len({t for task in tags[:equal_n] for t in task}),
        "mean_tags_per_task": sum(map(len, tags)) / kept if kept else float("nan"),
        "rougeL_nearest_seed_median": statistics.median(nearest) if nearest else float("nan"),
        "seconds": result.seconds,
    }


COLUMNS = ("kept", "tokens", "tokens_per_kept", "unique_tags_per_1k", "unique_tags_at_equal_n",
           "mean_tags_per_task", "rougeL_nearest_seed_median", "seconds")


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
    if args.rescore is not None:
        results = {(arm, seed): collect(args.rescore / f"{arm}-{seed}.db", arm, seed)
                   for seed in seeds for arm in arms}
    else:
        where = "scripted double" if args.double else ("embedded default" if settings.embedded
                                                      else f"{settings.llm_base_url} ({settings.llm_model})")
        print(f"endpoint: {where}; seed tasks: {len(seed_texts)}; budget: {args.budget_tokens} tokens per "
              f"arm; rng seeds: {seeds}; prompts per request: {settings.llm_prompts_per_request}; "
              f"concurrency: {settings.llm_concurrency}")
        results = run_all(settings, args, arms, seeds)
    tagger = LexicalTagger()
    raw = {key: tagger.tag(result.kept) for key, result in results.items()}
    vocabulary, described = shared_vocabulary(
        args.vocabulary, [*tagger.tag(seed_texts), *(task for tags in raw.values() for task in tags)])
    print(f"tagger: {tagger.name}; vocabulary: {described}")
    seed_tokens = [tokenize(text) for text in seed_texts]
    figures: dict[tuple[str, int], dict[str, float]] = {}
    for seed in seeds:
        equal_n = min(len(results[arm, seed].kept) for arm in arms)
        for arm in arms:
            figures[arm, seed] = score(results[arm, seed], raw[arm, seed], vocabulary, equal_n, seed_tokens)
    print()
    report(figures, arms, seeds)


def run_all(settings: Settings, args: argparse.Namespace, arms: list[str],
            seeds: list[int]) -> dict[tuple[str, int], ArmResult]:
    """Every arm on every seed, one after the other on the same endpoint."""
    results: dict[tuple[str, int], ArmResult] = {}
    with contextlib.ExitStack() as stack:
        workdir = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        workdir.mkdir(parents=True, exist_ok=True)
        client = stack.enter_context(endpoint(settings, args.double))
        for seed in seeds:
            for arm in arms:
                result = run_arm(settings, client, workdir, Strategy(arm), seed, args.budget_tokens)
                results[arm, seed] = result
                print(f"  seed {seed} {arm}: kept {len(result.kept)}, tokens {result.tokens}, "
                      f"{result.seconds:.0f}s", flush=True)
    return results


if __name__ == "__main__":
    main()
