"""Rendering a ReportData as one self-contained HTML page (Jinja2, autoescape on, plotly.js inlined).

The page loads nothing from the network: plotly.js is embedded once, figures are inline scripts, there
are no external fonts, styles or images, and the favicon is an empty data URL. Every string from the
pool goes through Jinja2's autoescaping; figure fragments are the only markup marked safe.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
import plotly.graph_objects as go
from markupsafe import Markup

from generator.analysis import figures
from generator.analysis.reportdata import ReportData


@dataclass(frozen=True, slots=True)
class Figure:
    """A rendered figure: its id (for anchors and tests) and its HTML fragment."""

    div_id: str
    html: Markup


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("generator.analysis", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _figure(figure: go.Figure, div_id: str) -> Figure:
    return Figure(div_id, Markup(figures.fragment(figure, div_id)))


def build_figures(data: ReportData) -> dict[str, list[Figure]]:
    """Every figure of the page, grouped by section; sections without data get none."""
    sections: dict[str, list[Figure]] = {
        "funnel": [],
        "rounds": [],
        "structure": [],
        "lengths": [],
        "tags": [],
        "quality": [],
    }
    if data.funnel:
        sections["funnel"].append(_figure(figures.funnel_figure(data.funnel), "fig-funnel"))
    if data.rejections:
        sections["funnel"].append(_figure(figures.rejections_figure(data.rejections), "fig-rejections"))
    if data.rounds:
        sections["rounds"].append(_figure(figures.rounds_figure(data.rounds), "fig-rounds"))
    if data.verb_noun is not None and data.verb_noun.pairs:
        sections["structure"].append(_figure(figures.sunburst_figure(data.verb_noun), "fig-sunburst"))
    for n, hist in enumerate(h for h in data.histograms if h.counts):
        sections["lengths"].append(_figure(figures.histogram_figure(hist), f"fig-hist-{n}"))
    if data.tag_rounds:
        sections["tags"].append(_figure(figures.tags_figure(data.tag_rounds), "fig-tags"))
    for n, hist in enumerate(h for h in data.quality if h.counts):
        sections["quality"].append(_figure(figures.histogram_figure(hist), f"fig-quality-{n}"))
    return sections


def render_report(data: ReportData) -> str:
    """The whole page as a string."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        data=data,
        figures=build_figures(data),
        plotly_js=Markup(figures.plotly_js().replace("</script", "<\\/script")),
    )
