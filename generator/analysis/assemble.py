"""Building a ReportData from a PoolSnapshot: parse verb–noun pairs, score seeds, bin everything."""

from __future__ import annotations

from collections import Counter

from generator.analysis.perplexity import NO_LOGPROBS
from generator.analysis.poolstats import quality_histograms, task_histograms
from generator.analysis.quality import NO_REWARD_SCORER
from generator.analysis.reportdata import ReportData
from generator.analysis.snapshot import PoolSnapshot
from generator.analysis.structure import summarize
from generator.analysis.verbnoun import VerbNounParserLike, parse_all
from generator.novelty import NoveltyIndex


def seed_similarity(snapshot: PoolSnapshot) -> list[float]:
    """Each machine instruction's exact ROUGE-L F1 to its most similar seed instruction."""
    seeds = [t.instruction for t in snapshot.tasks if t.origin == "seed"]
    if not seeds:
        return []
    index = NoveltyIndex(snapshot.rouge_threshold, seeds)
    return [index.nearest(t.instruction)[0].score for t in snapshot.tasks if t.origin == "machine"]


def quality_note(snapshot: PoolSnapshot) -> str:
    """What the quality section can and cannot show, in one or two sentences."""
    rows = snapshot.indicators
    if not rows:
        return "No indicators stored for this pool: run `selfinstruct quality` first."
    reasons = Counter(r.perplexity_reason for r in rows if r.perplexity is None)
    parts = [f"{len(rows)} tasks scored."]
    if reasons:
        reason, _ = reasons.most_common(1)[0]
        parts.append(f"Perplexity is null for {sum(reasons.values())} ({reason or NO_LOGPROBS}).")
    if all(r.reward is None for r in rows):
        parts.append(
            f"Reward is null ({NO_REWARD_SCORER}), so the InstructMining rule, which needs it, is null too."
        )
    return " ".join(parts)


def build_report(
    snapshot: PoolSnapshot, parser: VerbNounParserLike, note: str, *, title: str, generated_at: str
) -> ReportData:
    """The report of ``snapshot``; ``parser`` finds verb–noun pairs, ``note`` says which parser it is."""
    pairs = parse_all(parser, [t.instruction for t in snapshot.tasks])
    rows = snapshot.indicators
    perplexity_reasons = Counter(r.perplexity_reason for r in rows if r.perplexity is None)
    top_reason = perplexity_reasons.most_common(1)[0][0] if perplexity_reasons else ""
    return ReportData(
        title=title,
        generated_at=generated_at,
        summary=snapshot.summary,
        funnel=snapshot.funnel,
        rejections=snapshot.rejections,
        rounds=snapshot.rounds,
        verb_noun=summarize(pairs, backend=parser.name, note=note),
        histograms=task_histograms(snapshot.tasks, seed_similarity(snapshot), snapshot.rouge_threshold),
        tag_rounds=snapshot.tags.rounds,
        tag_note=snapshot.tags.note,
        quality=quality_histograms(rows, top_reason or NO_LOGPROBS) if rows else (),
        quality_note=quality_note(snapshot),
        similar_pairs=snapshot.similar_pairs,
        rouge_threshold=snapshot.rouge_threshold,
    )
