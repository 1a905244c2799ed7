"""A synthetic ReportData for the report tests: every section filled, pool text hostile on purpose."""

from __future__ import annotations

from generator.analysis.histograms import histogram
from generator.analysis.reportdata import (
    FunnelStep,
    PoolSummary,
    RejectionCount,
    ReportData,
    RoundUsage,
    SimilarPair,
    TagRound,
)
from generator.analysis.structure import PairCount, VerbNounSummary
from generator.analysis.tagrounds import NO_TAGS

HOSTILE = '<script>window.__pwned = 1</script><img src="http://example.invalid/x.png">'


def sample_report_data(*, with_tags: bool = True) -> ReportData:
    summary = PoolSummary(
        name=f"pool {HOSTILE}",
        seed_tasks=175,
        machine_tasks=420,
        instances=1500,
        classification_tasks=90,
        unclassified_tasks=5,
        rounds=2,
        requests=180,
        prompt_tokens=120_000,
        completion_tokens=40_000,
        cost_usd=None,
        rejections=800,
    )
    verb_noun = VerbNounSummary(
        backend="spacy",
        note="spaCy dependency parse",
        total=595,
        with_pair=400,
        without_pair=195,
        verb_counts=(("write", 120), ("generate", 80), (f"x{HOSTILE}", 2)),
        pairs=(
            PairCount("write", "poem", 50),
            PairCount("write", "story", 30),
            PairCount("generate", "list", 60),
            PairCount(f"x{HOSTILE}", "thing", 2),
        ),
        covered=142,
    )
    return ReportData(
        title="Pool report",
        generated_at="2026-12-02 12:00 UTC",
        summary=summary,
        funnel=(FunnelStep("generated", 1200), FunnelStep("passed filters", 900), FunnelStep("novel", 420)),
        rejections=(
            RejectionCount("novelty", "too_similar", 480, (f"Write a poem {HOSTILE}",)),
            RejectionCount("filter", "too_short", 300, ("Do it.",)),
            RejectionCount("instances", "empty_output", 20, ()),
        ),
        rounds=(
            RoundUsage(1, "done", 200, 90, 60_000, 20_000, None),
            RoundUsage(2, "done", 220, 90, 60_000, 20_000, 0.12),
        ),
        verb_noun=verb_noun,
        histograms=(
            histogram("Instruction length", [5, 8, 12, 12, 30], unit="words", integer=True),
            histogram(
                "ROUGE-L to the most similar seed", [0.1, 0.3, 0.65], value_range=(0, 1), bins=20, marker=0.7
            ),
        ),
        tag_rounds=(TagRound("round 1", 300, 150, 2.5), TagRound("round 2", 500, 210, 2.8))
        if with_tags
        else (),
        quality=(
            histogram("MTLD of the output", [10.0, 20.0, None], missing_reason="empty output"),
            histogram("Reward", [None, None], missing_reason="no reward scorer configured"),
        ),
        quality_note="Reward is null: no reward scorer configured.",
        similar_pairs=(SimilarPair(f"Write a haiku {HOSTILE}", "Write a poem", 0.69),),
        tag_note=f"Normalized tags of the vocabulary version 3 {HOSTILE}" if with_tags else NO_TAGS,
    )
