"""Fleet fixtures: skip without the real services; each test builds its own fleet (workers/harness.py)."""

from __future__ import annotations

import shutil

import pytest

from generator.testing.services import PG_ADMIN_URL, port_open


@pytest.fixture(autouse=True)
def _fleet_services(request: pytest.FixtureRequest) -> None:
    """Fleet tests marked ``services`` need redis-server (to start throwaway instances) and PostgreSQL."""
    if request.node.get_closest_marker("services") is None:
        return
    host_port = PG_ADMIN_URL.split("@")[-1].split("/")[0]
    host, _, port = host_port.partition(":")
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    if not port_open(host, int(port or 5432)):
        pytest.skip("PostgreSQL is not running")
