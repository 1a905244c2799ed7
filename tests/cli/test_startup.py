"""The CLI starts fast: importing its app (what every command pays) loads no heavy module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

HEAVY = (
    "openai",
    "celery",
    "kombu",
    "redis",
    "numpy",
    "spacy",
    "pyarrow",
    "datasets",
    "fastapi",
    "uvicorn",
    "alembic",
    "sklearn",
    "httpx",
    "pydantic_settings",
    "sqlalchemy",
)


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_cli_app_loads_no_heavy_module() -> None:
    assert [m for m in HEAVY if m in _loaded_after("import cli.app")] == []


def test_the_query_read_path_needs_no_llm_fleet_or_export_module() -> None:
    loaded = _loaded_after(
        "import cli.app, generator.wiring, generator.db.stats, generator.db.listing, cli.progress"
    )
    assert [
        m
        for m in ("openai", "celery", "kombu", "numpy", "spacy", "pyarrow", "datasets", "fastapi", "alembic")
        if m in loaded
    ] == []


# What `pool stats` and `pool list` may never load, even while they run: the LLM client, the fleet,
# numeric and export libraries, the web stack, and Alembic (an up-to-date schema is checked by a
# plain query of alembic_version).
NOT_FOR_QUERIES = ("openai", "celery", "kombu", "redis", "numpy", "spacy", "pyarrow", "datasets", "fastapi",
                   "uvicorn", "alembic", "sklearn", "httpx", "llama_cpp")


def _loaded_while_running(args: list[str], database_url: str, keep: tuple[str, ...] = ()) -> list[str]:
    code = (
        "import sys, json\n"
        f"sys.argv = ['selfinstruct', *{args!r}]\n"
        "from cli.app import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELFINSTRUCT_") or k in keep}
    env["SELFINSTRUCT_DATABASE_URL"] = database_url
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         cwd=REPO)
    exit_code, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert exit_code in (0, None), out.stderr
    return list(loaded)


@pytest.fixture(scope="module")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite pool holding the seeds (loaded by the CLI, which also migrates it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('startup') / 'pool.db'}"
    assert _loaded_while_running(["seeds", "load"], url)  # the schema is created here, with Alembic
    return url


QUERIES = [["pool", "stats"], ["pool", "list", "--limit", "5"], ["pool", "list", "--json"]]


@pytest.mark.parametrize("args", QUERIES, ids=["stats", "list", "list-json"])
def test_the_query_commands_run_on_an_existing_database_without_heavy_modules(
    seeded_sqlite: str, args: list[str]
) -> None:
    loaded = _loaded_while_running(args, seeded_sqlite)
    assert "sqlite3" in loaded  # the probe does see what the command imports
    # An up-to-date database is read with plain DB-API SQL (generator/db/plain): no ORM at all.
    assert [m for m in (*NOT_FOR_QUERIES, "sqlalchemy") if m in loaded] == []


@pytest.mark.parametrize("args", QUERIES[:2], ids=["stats", "list"])
def test_with_plain_reads_off_the_query_commands_take_the_orm_path(
    seeded_sqlite: str, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFINSTRUCT_PLAIN_READS", "0")
    loaded = _loaded_while_running(args, seeded_sqlite, keep=("SELFINSTRUCT_PLAIN_READS",))
    assert "sqlalchemy" in loaded
    assert [m for m in NOT_FOR_QUERIES if m in loaded] == []


def test_a_query_on_a_database_behind_the_code_migrates_it_first(tmp_path: Path) -> None:
    from generator.db.engine import downgrade, is_current, make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert _loaded_while_running(["seeds", "load"], url)
    engine = make_engine(url)
    downgrade(engine, "0007")
    loaded = _loaded_while_running(["pool", "stats"], url)
    assert "sqlalchemy" in loaded and is_current(engine)  # the regular path ran, and migrated it
    engine.dispose()
