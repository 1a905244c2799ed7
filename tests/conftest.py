"""Shared fixtures. The scripted LLM double lives in generator/testing/llm_double.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from generator.testing.llm_double import ScriptedLLMServer

ScriptedFactory = Callable[..., ScriptedLLMServer]


@pytest.fixture
def scripted_llm() -> Iterator[ScriptedFactory]:
    """Factory: ``scripted_llm(responder, **faults)`` starts a double, stopped at teardown."""
    servers: list[ScriptedLLMServer] = []

    def start(*args: Any, **kwargs: Any) -> ScriptedLLMServer:
        server = ScriptedLLMServer(*args, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def llm_server(scripted_llm: ScriptedFactory) -> ScriptedLLMServer:
    """A double answering every prompt with the default echo responder."""
    return scripted_llm()
