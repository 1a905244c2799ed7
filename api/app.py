"""The HTTP API (`selfinstruct serve`): read the pool, download exports, start/cancel rounds.

Errors are JSON ``{"detail": "..."}`` with a clear message: unknown pool/task/round -> 404, bad
parameters -> 422 (FastAPI's validation) or 400 (our filter/export checks), a round in the wrong
state or no runner -> 409, database trouble -> 503, anything else -> 500 "internal error".
No body ever carries a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from api import control, reads
from api.deps import Service
from generator.errors import (
    BrokerUnavailableError,
    DatabaseUnavailableError,
    ExportError,
    InvalidFilterError,
    NotFoundError,
    RoundStateError,
    SelfInstructError,
)
from generator.settings import Settings

log = logging.getLogger(__name__)

STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (NotFoundError, 404),
    (InvalidFilterError, 400),
    (ExportError, 400),
    (RoundStateError, 409),
    (DatabaseUnavailableError, 503),
    (BrokerUnavailableError, 503),
    (SelfInstructError, 400),
)


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _ours(_request: Request, exc: Exception) -> JSONResponse:
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return _error(status, str(exc))
    return _error(500, "internal error")


async def _database(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("database error in API request: %s", exc)
    if isinstance(exc, OperationalError | DBAPIError):
        return _error(503, "database unavailable: retry later")
    return _error(503, "database error: retry later")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in API request", exc_info=exc)
    return _error(500, "internal error")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI app on ``settings`` (read from the environment when None)."""
    app = FastAPI(
        title="selfinstruct",
        version="0.1.0",
        description="Query the Self-Instruct task pool, download exports, start and cancel rounds.",
    )
    app.state.service = Service(settings)
    app.include_router(reads.router)
    app.include_router(control.router)
    app.add_exception_handler(SelfInstructError, _ours)
    app.add_exception_handler(SQLAlchemyError, _database)
    app.add_exception_handler(Exception, _unexpected)
    return app


def serve(host: str, port: int) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="info")


def __getattr__(name: str) -> Any:  # ``uvicorn api.app:app`` builds the app on first use
    if name == "app":
        return create_app()
    raise AttributeError(name)
