"""Modules stay readable: none over 250 lines, no function over 50 (the developers' guide, rule 9)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("generator", "workers", "cli", "api")
MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 50
# Over the limits when the feature branches merged (not split yet): listed so that nothing new goes
# over; the check fails when one of these is fixed too, so the list only shrinks.
KNOWN_OVERSIZED = frozenset({
})


def oversized(root: Path) -> list[str]:
    """Every module over the line limit and every function (or method) over its limit, under ``root``."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            name = path.relative_to(root).as_posix()
            if len(source.splitlines()) > MAX_MODULE_LINES:
                found.append(name)
            for node in ast.walk(ast.parse(source, name)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        found.append(f"{name} {node.name}()")
    return found


def test_no_module_is_over_250_lines_and_no_function_over_50_beyond_the_known_ones() -> None:
    found = set(oversized(REPO))
    assert sorted(found - KNOWN_OVERSIZED) == []  # new ones
    assert sorted(KNOWN_OVERSIZED - found) == []  # fixed ones: take them off the list


def test_the_size_check_reports_a_long_function_and_a_long_module(tmp_path: Path) -> None:
    (tmp_path / "generator").mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(50))
    (tmp_path / "generator" / "long.py").write_text("def f():\n" + body + "\n" * 200)
    assert oversized(tmp_path) == ["generator/long.py", "generator/long.py f()"]
