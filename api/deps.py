"""What the API's routes share: settings and sessions (opened once), the bearer-token rule."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from generator.settings import Settings, load_settings


class Service:
    """Settings read once and a session factory made on first use (so a down DB is a 503, not a crash)."""

    def __init__(self, settings: Settings | None) -> None:
        self._settings = settings
        self._sessions: sessionmaker[Session] | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            from generator.wiring import sessions_for

            self._sessions = sessions_for(self.settings)
        return self._sessions


def service(request: Request) -> Service:
    """The app's :class:`Service`."""
    svc: Service = request.app.state.service
    return svc


def session(svc: Annotated[Service, Depends(service)]) -> Iterator[Session]:
    """A read session for one request."""
    with svc.sessions()() as s:
        yield s


def require_token(
    svc: Annotated[Service, Depends(service)],
    authorization: Annotated[str | None, Header(description="Bearer SELFINSTRUCT_API_TOKEN")] = None,
) -> None:
    """Allow a write only with ``Authorization: Bearer <SELFINSTRUCT_API_TOKEN>``.

    Without the setting the write endpoints are off (403 saying so); a missing or wrong token
    is 401. The comparison is constant-time (``hmac.compare_digest``).
    """
    expected = svc.settings.api_token
    if expected is None or not expected.get_secret_value():
        raise HTTPException(403, "write endpoints are off: set SELFINSTRUCT_API_TOKEN to enable them")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8", "surrogatepass"), expected.get_secret_value().encode("utf-8")
    ):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
