"""Imports point down only: the library never reaches the edges, pure packages never reach I/O.

The check reads every module's AST, so imports inside functions count as much as top-level ones.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("generator", "workers", "cli", "api")
PURE = ("selfinstruct", "novelty", "instag", "analysis", "export", "files", "steering")
EDGES = ("celery", "kombu", "typer", "fastapi", "uvicorn", "cli", "workers", "api")
IO = ("sqlalchemy", "redis", "openai", "celery",
      "generator.db", "generator.steps", "generator.rounds", "generator.llm", "generator.wiring")

# (importer prefix, forbidden prefixes, why)
RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("generator", EDGES, "the library never imports the edges"),
    ("workers", ("cli", "api"), "workers import the library, never the CLI or the API"),
    *((f"generator.{pkg}", IO, "pure packages take and return records") for pkg in PURE),
    ("generator.db", ("generator.steps", "generator.rounds", "generator.llm"), "db sits below the steps"),
)


@dataclass(frozen=True)
class Violation:
    module: str
    imported: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported} ({self.why})"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.AST, package: str) -> Iterator[tuple[int, list[str]]]:
    """Each import statement anywhere in ``tree``: its line and the modules it may name.

    ``from a import b`` may name ``a`` or ``a.b``; relative imports resolve against ``package``.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            yield node.lineno, [target, *(f"{target}.{alias.name}" for alias in node.names)]


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def check_tree(root: Path) -> list[Violation]:
    """All rule breaks in the packages under ``root`` (a folder holding generator/, workers/, ...)."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for line, names in imports_of(tree, package):
                found.extend(_first_violation(module, line, names))
    return found


def _first_violation(module: str, line: int, names: list[str]) -> list[Violation]:
    for importer, forbidden, why in RULES:
        if within(module, importer):
            for name in names:
                if any(within(name, f) for f in forbidden):
                    return [Violation(module, name, line, why)]
    return []


# SQL is written in generator/db only. Elsewhere a module may name a session's types and catch the
# database's errors, nothing that builds a statement (select, insert, update, delete, text, func, ...).
SQL_HOME = "generator.db"
SQL_ALLOWED = {"sqlalchemy.orm": {"Session", "sessionmaker"}, "sqlalchemy.exc": None}  # None: any name
# Nothing is exempt: every statement is built in generator/db (a new exemption needs a reason here).
SQL_EXEMPT: tuple[str, ...] = ()


def sql_violations(root: Path) -> list[str]:
    """Every import of a SQLAlchemy statement construct outside ``generator/db`` (and the exemptions)."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(path, root)
            if within(module, SQL_HOME) or any(within(module, e) for e in SQL_EXEMPT):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                found.extend(f"{module}:{node.lineno} imports {name} (SQL belongs in generator/db)"
                             for name in _sql_names(node))
    return found


def _sql_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if within(a.name, "sqlalchemy") and a.name not in SQL_ALLOWED]
    if not isinstance(node, ast.ImportFrom) or node.level or not within(node.module or "", "sqlalchemy"):
        return []
    module = node.module or ""
    allowed = SQL_ALLOWED.get(module, set())
    return [f"{module}.{a.name}" for a in node.names if allowed is not None and a.name not in allowed]


def test_no_module_outside_db_imports_a_sql_statement_construct() -> None:
    assert sql_violations(REPO) == []


def test_the_sql_check_reports_a_select_outside_db_and_allows_session_types(tmp_path: Path) -> None:
    for folder in ("generator/steps", "generator/db", "cli"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "generator/steps/bad.py").write_text(
        "from sqlalchemy.orm import Session\ndef f():\n    from sqlalchemy import select, func\n"
    )
    (tmp_path / "generator/db/fine.py").write_text("from sqlalchemy import select\n")
    (tmp_path / "cli/bad.py").write_text("import sqlalchemy\nfrom sqlalchemy.exc import DBAPIError\n")
    assert sql_violations(tmp_path) == [
        "generator.steps.bad:3 imports sqlalchemy.select (SQL belongs in generator/db)",
        "generator.steps.bad:3 imports sqlalchemy.func (SQL belongs in generator/db)",
        "cli.bad:1 imports sqlalchemy (SQL belongs in generator/db)",
    ]


def test_no_module_imports_across_the_boundaries() -> None:
    assert [str(v) for v in check_tree(REPO)] == []


def test_the_checker_reports_a_function_scoped_import_of_sqlalchemy_in_a_pure_package(tmp_path: Path) -> None:
    planted = tmp_path / "generator" / "novelty" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("def f():\n    from sqlalchemy import select\n    return select\n")
    assert [str(v) for v in check_tree(tmp_path)] == [
        "generator.novelty.planted:2 imports sqlalchemy (pure packages take and return records)"
    ]


def test_the_checker_reports_the_library_importing_cli_and_workers_importing_api(tmp_path: Path) -> None:
    (tmp_path / "generator").mkdir()
    (tmp_path / "workers").mkdir()
    (tmp_path / "generator" / "bad.py").write_text("import cli.app\n")
    (tmp_path / "workers" / "bad.py").write_text("if True:\n    from api import app\n")
    assert sorted(str(v) for v in check_tree(tmp_path)) == [
        "generator.bad:1 imports cli.app (the library never imports the edges)",
        "workers.bad:2 imports api (workers import the library, never the CLI or the API)",
    ]


def test_importing_generator_does_not_import_celery() -> None:
    code = (
        "import sys, pkgutil, importlib, generator\n"
        "for m in pkgutil.walk_packages(generator.__path__, 'generator.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'celery' or n.startswith('celery.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_database_only_commands_import_no_broker_client() -> None:
    code = (
        "import sys, cli.app, generator.rounds.ending\n"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in ('kombu', 'redis', 'celery'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == ""
