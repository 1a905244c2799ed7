"""The report in a real headless Chromium: every figure draws, nothing errs, nothing hits the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.analysis.report import build_figures, render_report
from tests.generator.analysis.browser import PageReport, chromium_binary, open_page
from tests.generator.analysis.samples import sample_report_data

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = chromium_binary()
    if binary is None:
        pytest.skip(
            "no chromium binary on PATH (tests/run.sh installs Debian's `chromium` with apt-get when it can)"
        )
    return binary


def local_requests(report: PageReport, page_url: str) -> list[str]:
    """Every request other than the page itself and inline data: URLs."""
    return [url for url in report.requests if url != page_url and not url.startswith("data:")]


def test_every_figure_of_the_report_renders_offline_without_errors(chromium: str, tmp_path: Path) -> None:
    data = sample_report_data()
    page = tmp_path / "report.html"
    page.write_text(render_report(data), encoding="utf-8")
    expected = {f.div_id for figures in build_figures(data).values() for f in figures}

    report = open_page(page.as_uri(), chromium)

    assert report.loaded
    assert set(report.figures) == expected and len(expected) >= 8
    assert all(count > 0 for count in report.figures.values()), report.figures
    assert report.console_errors == [] and report.exceptions == []
    assert report.requests[:1] == [page.as_uri()]
    assert local_requests(report, page.as_uri()) == []


def test_the_harness_sees_requests_console_errors_and_undrawn_figures(chromium: str, tmp_path: Path) -> None:
    # The negative control: the same checks flag a page that fetches, logs an error and draws nothing.
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
        '<img src="http://127.0.0.1:9/pixel.png">'
        '<div id="fig-empty" class="plotly-graph-div"></div>'
        '<script>console.error("boom"); undefinedFunction();</script></body></html>',
        encoding="utf-8",
    )
    report = open_page(page.as_uri(), chromium, timeout=30)

    assert local_requests(report, page.as_uri()) == ["http://127.0.0.1:9/pixel.png"]
    assert "boom" in report.console_errors
    assert any("undefinedFunction" in e for e in report.exceptions)
    assert report.figures == {"fig-empty": 0}
