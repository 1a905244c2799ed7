"""Benchmark: InsTag normalization of 100K raw tags over 50K tasks, against scikit-learn's plain DBSCAN.

    .venv/bin/python bench/instag.py                 # 50K tasks, ~100K raw tags (the goal's scale)
    .venv/bin/python bench/instag.py --quick         # 5K tasks: a few seconds
    .venv/bin/python bench/instag.py --sklearn-budget 60

1. Generates seeded tags: ~3K concepts ("<domain> <activity>", Zipf popularity) each written in surface
   variants that a given stage must merge (case and hyphens and plurals -> rule aggregation; reordered
   words and "of" phrases -> semantic aggregation under wordllama), a companion tag that always comes
   with each of the concepts ranked 30-79 by popularity (-> association aggregation) and a long tail of
   one-off qualified tags (-> the frequency filter). Tasks draw 1-3 concepts: ~2 raw tags per task.
2. Times the whole normalization (all four stages, wordllama embedding included) with the thresholds
   scaled to the pool (generator.instag.params.scaled_params); peak memory is the process's peak RSS
   (everything: interpreter, numpy, wordllama weights, the input).
3. Clusters distinct tags' embeddings with the blocked clustering and with
   ``sklearn.cluster.DBSCAN(metric="cosine", eps=0.05, min_samples=1)`` on growing subsamples, until
   scikit-learn's run exceeds the time budget; partitions must be identical. Both are timed, with
   tracemalloc peaks; the blocked clustering also runs on the whole set (50K distinct tags by default:
   the pool's unique raw tags topped up with more variants and qualified forms).
4. Tags 200 queries on the scripted endpoint with 1, 5 and 20 prompts per request: requests per task.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.instag.clustering import cluster_labels
from generator.instag.normalization import normalize, rule_key
from generator.instag.params import scaled_params
from generator.instag.records import TaskTags
from generator.llm.embedder import WordLlamaEmbedder

_DOMAIN_WORDS = (
    "travel finance medical legal cooking music sports history biology chemistry physics geography poetry "
    "fashion gardening parenting fitness nutrition marketing sales education programming database network "
    "security astronomy psychology philosophy economics politics religion art film photography gaming "
    "automotive aviation shipping farming weather climate energy mining retail banking insurance tax "
    "real-estate architecture interior wedding pet veterinary dental pharmacy nursing language grammar "
    "math statistics geometry algebra chess mythology theater dance literature journalism advertising "
    "hiring"
)
DOMAINS = tuple(_DOMAIN_WORDS.split())
ACTIVITIES = (
    "question answering", "summary", "translation", "explanation", "recommendation", "planning",
    "classification", "comparison", "review", "advice", "brainstorming", "rewriting", "trivia",
    "story", "quiz", "checklist", "definition", "critique", "schedule", "estimate", "forecast",
    "outline", "debate", "interview", "report", "tutorial", "puzzle", "joke", "slogan", "email",
    "letter", "essay", "headline", "description", "instruction", "calculation", "argument", "opinion",
    "analogy", "example",
)
QUALIFIERS = (
    "for beginners", "for experts", "in detail", "quickly", "for kids", "in spanish", "with sources",
    "step by step", "in one line", "formally", "casually", "with humor", "under budget", "for seniors",
    "for students", "with a table", "in bullet points", "for a blog", "for a meeting", "at night",
)
COMPANIONS = ("context", "background", "terminology", "ethics", "history notes", "regulations")


def variants(domain: str, activity: str) -> list[str]:
    """Surface forms of one concept: the canonical one, rule-stage forms, semantic-stage forms."""
    canonical = f"{domain} {activity}"
    forms = [canonical, canonical.title(), f"{domain}-{activity.replace(' ', '-')}"]
    plural = f"{canonical}s"
    if rule_key(plural) == rule_key(canonical):
        forms.append(plural)
    forms += [f"{activity} {domain}", f"{activity} of {domain}"]
    return forms


def synthesize(n_tasks: int, seed: int) -> list[TaskTags]:
    """Seeded tasks whose raw tags exercise every normalization stage (see the module docstring)."""
    rng = random.Random(seed)
    concepts = [(d, a) for d in DOMAINS for a in ACTIVITIES]
    rng.shuffle(concepts)
    forms = [variants(d, a) for d, a in concepts]
    weights = [1.0 / (rank + 1) for rank in range(len(concepts))]
    companion = {i: f"{concepts[i][0]} {COMPANIONS[i % len(COMPANIONS)]}" for i in range(30, 80)}
    tasks = []
    for task_id in range(n_tasks):
        tags: list[str] = []
        for index in rng.choices(range(len(concepts)), weights, k=rng.choice((1, 1, 2, 2, 2, 3))):
            if rng.random() < 0.2:
                tags.append(f"{concepts[index][0]} {concepts[index][1]} {rng.choice(QUALIFIERS)}")
                continue
            tags.append(rng.choice(forms[index]))
            if index in companion:
                tags.append(companion[index])
        tasks.append(TaskTags(task_id, tuple(dict.fromkeys(tags))))
    return tasks


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def partition(labels: npt.NDArray[np.int64]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for index, label in enumerate(labels.tolist()):
        groups.setdefault(label, set()).add(index)
    return {frozenset(members) for members in groups.values()}


def timed(function, *args):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    start = time.perf_counter()
    result = function(*args)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, elapsed, peak


def bench_normalization(tasks: list[TaskTags], embedder: WordLlamaEmbedder) -> None:
    occurrences = sum(len(t.tags) for t in tasks)
    unique = len({tag for t in tasks for tag in t.tags})
    params = scaled_params(len(tasks))
    print(f"pool: {len(tasks)} tasks, {occurrences} raw tags ({unique} unique); "
          f"alpha={params.alpha} support={params.support} eps={params.eps} confidence={params.confidence}")
    rss_before = peak_rss_mib()
    start = time.perf_counter()
    vocabulary = normalize(tasks, embedder, params)
    elapsed = time.perf_counter() - start
    counts = "  ".join(f"{c.stage}={c.count}" for c in vocabulary.counts)
    print(f"whole normalization: {elapsed:.1f} s, peak RSS {peak_rss_mib():.0f} MiB "
          f"(before: {rss_before:.0f} MiB); after each stage: {counts}")
    goal = "MET" if elapsed <= 60 and peak_rss_mib() <= 2048 else "NOT MET"
    print(f"goal (<= 60 s, <= 2 GiB peak): {goal}")


def phrase_space(tasks: list[TaskTags], size: int, seed: int) -> list[str]:
    """``size`` distinct tags: the pool's unique raw tags, then every other variant and qualified form."""
    tags = dict.fromkeys(tag.lower() for t in tasks for tag in t.tags)
    extra = [form.lower() for d in DOMAINS for a in ACTIVITIES for form in variants(d, a)]
    extra += [f"{d} {a} {q}" for d in DOMAINS for a in ACTIVITIES for q in QUALIFIERS]
    random.Random(seed).shuffle(extra)
    for form in extra:
        if len(tags) >= size:
            break
        tags.setdefault(form)
    chosen = list(tags)[:size]
    random.Random(seed).shuffle(chosen)
    return chosen


def bench_clustering(tasks: list[TaskTags], embedder: WordLlamaEmbedder, budget_s: float, seed: int,
                     size: int) -> None:
    tags = phrase_space(tasks, size, seed)
    vectors = embedder.embed(tags)
    labels, elapsed, peak = timed(cluster_labels, vectors, 0.05)
    print(f"blocked clustering of {len(tags)} unique tags: {elapsed:.2f} s, tracemalloc peak {peak:.0f} MiB, "
          f"{len(set(labels.tolist()))} clusters (an all-pairs float32 matrix would take "
          f"{len(tags) ** 2 * 4 / 2**30:.1f} GiB)")
    from sklearn.cluster import DBSCAN

    size = 2000
    while size <= len(tags):
        sample = vectors[:size]
        ours, ours_s, ours_peak = timed(cluster_labels, sample, 0.05)
        model = DBSCAN(eps=0.05, min_samples=1, metric="cosine")
        fitted, sk_s, sk_peak = timed(model.fit, sample)
        same = partition(ours) == partition(np.asarray(fitted.labels_))
        print(f"  n={size:>6}: blocked {ours_s:6.2f} s / {ours_peak:6.0f} MiB   "
              f"sklearn DBSCAN {sk_s:6.2f} s / {sk_peak:6.0f} MiB   identical clusters: {same}")
        if not same:
            raise SystemExit("clusters differ from scikit-learn's DBSCAN")
        if sk_s > budget_s or size == len(tags):
            break
        size = min(len(tags), size * 2)


def bench_tagging_requests(n_queries: int) -> None:
    """Requests per tagged task with batching, on the scripted endpoint (completions API)."""
    from generator.instag.records import ParsedTags
    from generator.llm.openai_client import OpenAIClient
    from generator.llm.tagger import LLMTagger
    from generator.testing.llm_double import ScriptedLLMServer
    from generator.testing.responders import SelfInstructResponder

    queries = [f"Describe step {i} of planning a {DOMAINS[i % len(DOMAINS)]} project."
               for i in range(n_queries)]
    with ScriptedLLMServer(SelfInstructResponder(seed=1)) as server:
        for batch in (1, 5, 20):
            client = OpenAIClient(server.base_url, "k", "scripted", prompts_per_request=batch)
            start = time.perf_counter()
            run = LLMTagger(client, batch_size=batch).tag(queries)
            elapsed = time.perf_counter() - start
            tagged = sum(isinstance(r.outcome, ParsedTags) for r in run.results)
            print(f"tagging {n_queries} queries, {batch:>2} per request: {len(run.calls)} requests, "
                  f"{len(run.calls) / max(1, tagged):.3f} requests per tagged task, {elapsed:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="5K tasks")
    parser.add_argument("--sklearn-budget", type=float, default=30.0,
                        help="stop growing the scikit-learn subsample after a run longer than this (s)")
    parser.add_argument("--cluster-tags", type=int, default=50_000,
                        help="distinct tags for the clustering comparison (default 50K)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n_tasks = 5000 if args.quick else args.tasks
    tasks = synthesize(n_tasks, args.seed)
    embedder = WordLlamaEmbedder()
    bench_normalization(tasks, embedder)
    cluster_tags = min(args.cluster_tags, 5000) if args.quick else args.cluster_tags
    bench_tagging_requests(200)
    bench_clustering(tasks, embedder, args.sklearn_budget, args.seed, cluster_tags)


if __name__ == "__main__":
    main()
