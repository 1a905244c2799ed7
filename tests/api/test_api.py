"""The HTTP API through a real HTTP client (FastAPI's TestClient over httpx) on a hand-built pool."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from generator.db.engine import open_database
from generator.settings import Settings
from tests.support.taskpool import TASKS, add_lineage, build_pool

TOKEN = "s3cret-token"


def _client(db_url: str, token: str | None = None, broker: str | None = None) -> TestClient:
    settings = Settings(database_url=db_url, api_token=SecretStr(token) if token else None, broker_url=broker)
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    sessions = open_database(url)
    with sessions.begin() as session:
        ids = build_pool(session)
        add_lineage(session, ids, "Compute 50% of the given number.")
    sessions.kw["bind"].dispose()
    yield url


def test_tasks_are_listed_with_filters_and_keyset_pages(db_url: str) -> None:
    client = _client(db_url)
    first = client.get("/pools/default/tasks", params={"limit": 3}).json()
    assert [t["instruction"] for t in first["tasks"]] == [t[0] for t in TASKS[:3]]
    second = client.get(
        "/pools/default/tasks", params={"limit": 3, "after_id": first["next_after_id"]}
    ).json()
    assert [t["instruction"] for t in second["tasks"]] == [t[0] for t in TASKS[3:6]]
    found = client.get("/pools/default/tasks", params={"contains": "50%", "with_total": True}).json()
    assert found["total"] == 1 and found["tasks"][0]["instances"][0] == {"input": "", "output": "out 0"}
    several = client.get("/pools/default/tasks", params=[("status", "no_instances"), ("status", "complete")])
    assert len(several.json()["tasks"]) == 6


def test_bad_parameters_are_4xx_with_a_clear_message(db_url: str) -> None:
    client = _client(db_url)
    bad = client.get("/pools/default/tasks", params={"origin": "bogus"})
    assert bad.status_code == 422 and "seed" in bad.text and "Traceback" not in bad.text
    reversed_range = client.get("/pools/default/tasks", params={"nearest_min": 0.9, "nearest_max": 0.1})
    assert reversed_range.status_code == 400
    assert reversed_range.json() == {"detail": "--nearest-min 0.9 is above --nearest-max 0.1"}
    assert client.get("/pools/nope/tasks").status_code == 404
    assert client.get("/tasks/99999").json() == {"detail": "no task with id 99999"}
    assert client.get("/rounds/424242").status_code == 404


def test_one_task_with_lineage_stats_and_rounds(db_url: str) -> None:
    client = _client(db_url)
    task_id = client.get("/pools/default/tasks", params={"contains": "50%"}).json()["tasks"][0]["id"]
    story = client.get(f"/tasks/{task_id}").json()
    assert story["in_context"] == ["Write a haiku about autumn.", "Is this review positive or negative?"]
    assert story["classification"]["response"] == " No"
    assert client.get("/pools/default/stats").json()["tasks"] == len(TASKS)
    rounds = client.get("/pools/default/rounds").json()
    assert rounds[0]["status"] == "running"
    assert client.get(f"/rounds/{rounds[0]['id']}").json()["complete"] == 3


def test_an_export_downloads_as_a_file_and_hf_as_a_zip(db_url: str) -> None:
    client = _client(db_url)
    got = client.get("/pools/default/export", params={"format": "alpaca"})
    assert got.status_code == 200 and len(json.loads(got.content)) == 6
    hf = client.get("/pools/default/export", params={"format": "hf"})
    names = zipfile.ZipFile(io.BytesIO(hf.content)).namelist()
    assert "default/README.md" in names and "default/dataset_info.json" in names


def test_writes_are_off_without_the_token_setting(db_url: str) -> None:
    client = _client(db_url)
    refused = client.post("/rounds/1/cancel", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 403 and "SELFINSTRUCT_API_TOKEN" in refused.json()["detail"]


def test_writes_need_the_right_bearer_token(db_url: str) -> None:
    client = _client(db_url, token=TOKEN)
    assert client.post("/rounds/1/cancel").status_code == 401
    assert client.post("/rounds/1/cancel", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/rounds/1/cancel", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    rounds = client.get("/pools/default/rounds").json()
    done = client.post(f"/rounds/{rounds[0]['id']}/cancel", headers={"Authorization": f"Bearer {TOKEN}"})
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    again = client.post(f"/rounds/{rounds[0]['id']}/cancel", headers={"Authorization": f"Bearer {TOKEN}"})
    assert again.status_code == 409 and "not running" in again.json()["detail"]


def test_starting_a_round_without_a_broker_is_409(db_url: str) -> None:
    client = _client(db_url, token=TOKEN)
    got = client.post(
        "/pools/default/rounds", json={"instructions": 5}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert got.status_code == 409 and "SELFINSTRUCT_BROKER_URL" in got.json()["detail"]


def test_an_unreachable_database_is_503_without_a_trace() -> None:
    client = _client("postgresql://postgres@127.0.0.1:1/none")
    got = client.get("/pools/default/tasks")
    assert got.status_code == 503 and "Traceback" not in got.text


def test_the_schema_is_served() -> None:
    schema = TestClient(create_app(Settings())).get("/openapi.json").json()
    assert {
        "/pools/{pool}/tasks",
        "/tasks/{task_id}",
        "/pools/{pool}/export",
        "/rounds/{round_id}/cancel",
    } <= set(schema["paths"])
