"""A bounded schemathesis run of the API against its own OpenAPI schema finds no server error."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr

from api.app import create_app
from generator.db.engine import open_database
from generator.settings import Settings
from tests.support.taskpool import add_lineage, build_pool

_DB = Path(__import__("tempfile").mkdtemp(prefix="si-fuzz-")) / "pool.db"
_sessions = open_database(f"sqlite:///{_DB}")
with _sessions.begin() as _session:
    add_lineage(_session, build_pool(_session), "Compute 50% of the given number.")
_sessions.kw["bind"].dispose()

app = create_app(Settings(database_url=f"sqlite:///{_DB}", api_token=SecretStr("fuzz-token")))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_the_schema_allows_gets_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"
    )
    assert "Traceback" not in response.text
