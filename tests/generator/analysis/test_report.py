from __future__ import annotations

import re

from generator.analysis.report import build_figures, render_report
from tests.generator.analysis.samples import HOSTILE, sample_report_data


def test_the_page_has_every_section_and_one_inline_plotly() -> None:
    page = render_report(sample_report_data())
    for section in ("summary", "funnel", "rounds", "structure", "lengths", "tags", "quality", "similar"):
        assert f'<section id="{section}">' in page
    assert page.count("<script>") >= 1 and "Plotly" in page
    assert page.count('class="plotly-graph-div"') == sum(
        len(v) for v in build_figures(sample_report_data()).values()
    )


def test_pool_text_is_escaped_everywhere_in_the_markup() -> None:
    page = render_report(sample_report_data())
    assert HOSTILE not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page


def test_the_page_references_nothing_on_the_network() -> None:
    page = render_report(sample_report_data())
    # The inlined plotly.js bundle holds URLs in strings (it never fetches them: the browser test checks
    # that); the page's own markup and figure scripts hold none.
    bundle = page.index("<script>"), page.index("</script>")
    markup = page[: bundle[0]] + page[bundle[1] :]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "cdn.plot.ly" not in markup


def test_a_pool_without_tags_renders_the_page_without_the_tag_figure() -> None:
    data = sample_report_data(with_tags=False)
    page = render_report(data)
    assert "This pool has no InsTag tags yet." in page
    assert 'id="fig-tags"' not in page
    assert 'id="fig-tags"' in render_report(sample_report_data())


def test_unknown_cost_shows_a_dash_and_known_cost_its_value() -> None:
    page = render_report(sample_report_data())
    assert "no price known" in page and "0.1200" in page


def test_nulls_are_listed_with_their_reason() -> None:
    page = render_report(sample_report_data())
    assert "no reward scorer configured" in page


def test_the_tag_section_shows_which_vocabulary_its_counts_come_from() -> None:
    page = render_report(sample_report_data())
    assert "Normalized tags of the vocabulary version 3 &lt;script&gt;" in page
