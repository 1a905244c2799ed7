"""The CLI starts fast: importing its app (what every command pays) loads no heavy module."""

from __future__ import annotations

import json
import subprocess
import sys

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
