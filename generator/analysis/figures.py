"""Plotly figures of a report, each returned as an HTML fragment without plotly.js.

The page embeds plotly.js once (``plotly_js``); each fragment is a ``div`` plus the script that draws
it. Plotly's JSON encoder escapes ``</`` so no pool text can close the script; labels that come from
the pool are also HTML-escaped because plotly renders a few tags (``<b>``, ``<a href>``) in labels.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from generator.analysis.histograms import Histogram
from generator.analysis.reportdata import FunnelStep, RejectionCount, RoundUsage, TagRound
from generator.analysis.structure import VerbNounSummary

_CONFIG = {"displaylogo": False, "responsive": True}
_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "height": 360,
    "template": "plotly_white",
}


def plotly_js() -> str:
    """The full plotly.js bundle, to inline once per page (nothing is fetched from a CDN)."""
    return str(get_plotlyjs())


def label(text: str) -> str:
    """Pool text made safe for a plotly label (plotly interprets a few HTML tags)."""
    return html.escape(text, quote=False)


def fragment(figure: go.Figure, div_id: str) -> str:
    """The figure as a div + script, plotly.js not included."""
    return str(figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG))


def histogram_figure(hist: Histogram) -> go.Figure:
    """Bars over the histogram's bins, with its marker line (e.g. the 0.7 threshold) when set."""
    centers = [(a + b) / 2 for a, b in zip(hist.edges, hist.edges[1:], strict=False)]
    widths = [b - a for a, b in zip(hist.edges, hist.edges[1:], strict=False)]
    hover = [f"[{a:g}, {b:g}): {c}" for a, b, c in zip(hist.edges, hist.edges[1:], hist.counts, strict=False)]
    figure = go.Figure(
        go.Bar(x=centers, y=list(hist.counts), width=widths, hovertext=hover, hoverinfo="text")
    )
    figure.update_layout(_LAYOUT, title=hist.title, xaxis_title=hist.unit, yaxis_title="count", bargap=0.02)
    if hist.marker is not None:
        figure.add_vline(x=hist.marker, line_dash="dash", line_color="crimson")
    return figure


def funnel_figure(steps: Sequence[FunnelStep]) -> go.Figure:
    """The acceptance funnel, one bar per step."""
    figure = go.Figure(
        go.Funnel(y=[s.label for s in steps], x=[s.count for s in steps], textinfo="value+percent initial")
    )
    figure.update_layout(_LAYOUT, title="Acceptance funnel")
    return figure


def rejections_figure(rejections: Sequence[RejectionCount]) -> go.Figure:
    """Rejections by reason, one colour per stage."""
    figure = go.Figure()
    for stage in sorted({r.stage for r in rejections}):
        rows = [r for r in rejections if r.stage == stage]
        figure.add_trace(
            go.Bar(name=stage, y=[r.reason for r in rows], x=[r.count for r in rows], orientation="h")
        )
    figure.update_layout(
        _LAYOUT, title="Rejections by reason and stage", barmode="stack", xaxis_title="count"
    )
    figure.update_layout(height=max(300, 28 * len({r.reason for r in rejections}) + 120))
    return figure


def rounds_figure(rounds: Sequence[RoundUsage]) -> go.Figure:
    """Prompt and completion tokens per round (stacked), requests on a second axis."""
    names = [f"round {r.round_id}" for r in rounds]
    figure = go.Figure()
    figure.add_trace(go.Bar(name="prompt tokens", x=names, y=[r.prompt_tokens for r in rounds]))
    figure.add_trace(go.Bar(name="completion tokens", x=names, y=[r.completion_tokens for r in rounds]))
    figure.add_trace(
        go.Scatter(name="requests", x=names, y=[r.requests for r in rounds], mode="lines+markers", yaxis="y2")
    )
    figure.update_layout(
        _LAYOUT,
        title="Tokens and requests per round",
        barmode="stack",
        yaxis_title="tokens",
        yaxis2={"title": "requests", "overlaying": "y", "side": "right", "rangemode": "tozero"},
    )
    return figure


def sunburst_figure(summary: VerbNounSummary) -> go.Figure:
    """Verbs (inner ring) and their top direct-object nouns (outer ring), as in Self-Instruct Figure 3."""
    ids = [f"v:{verb}" for verb, _ in summary.verb_counts] + [f"v:{p.verb}/n:{p.noun}" for p in summary.pairs]
    labels = [label(verb) for verb, _ in summary.verb_counts] + [label(p.noun) for p in summary.pairs]
    parents = [""] * len(summary.verb_counts) + [f"v:{p.verb}" for p in summary.pairs]
    values = [count for _, count in summary.verb_counts] + [p.count for p in summary.pairs]
    figure = go.Figure(
        go.Sunburst(ids=ids, labels=labels, parents=parents, values=values, branchvalues="remainder")
    )
    figure.update_layout(_LAYOUT, title="Root verbs and their direct-object nouns", height=560)
    return figure


def tags_figure(rounds: Sequence[TagRound]) -> go.Figure:
    """InsTag diversity (distinct tags) and complexity (tags per task) of the pool after each round."""
    names = [r.label for r in rounds]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(name="distinct tags", x=names, y=[r.distinct_tags for r in rounds], mode="lines+markers")
    )
    figure.add_trace(
        go.Scatter(
            name="tags per task",
            x=names,
            y=[r.mean_tags_per_task for r in rounds],
            mode="lines+markers",
            yaxis="y2",
        )
    )
    figure.update_layout(
        _LAYOUT,
        title="Tag diversity and complexity over rounds",
        yaxis_title="distinct tags",
        yaxis2={"title": "tags per task", "overlaying": "y", "side": "right", "rangemode": "tozero"},
    )
    return figure
