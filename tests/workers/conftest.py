"""Workers tests marked ``services`` skip without redis-server and PostgreSQL, as the fleet scenarios do."""

from tests.fleet.conftest import _fleet_services

__all__ = ["_fleet_services"]
